"""Fixtures: a bot that never connects to Discord, with Peerdeck installed over fake backends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

from peerdeck_bot import PeerdeckCore, install
from peerdeck_bot.config import BotConfig, parse_config
from peerdeck_bot.service import PeerdeckService

from .fakes import APP_ID, BOT_USER_ID, CHANNEL_ID, READER_ROLE, FakeAdapter, FakeBackend, Harness, guild_payload

MakeHarness = Callable[..., Awaitable[tuple[Harness, PeerdeckCore]]]
StartBot = Callable[[str], Awaitable[tuple[Harness, Any]]]
E2E_HEADER = f"""
[discord]
notify_channel_id = {CHANNEL_ID}
state_file = "state.json"

[permissions]
write_roles = ["Seedbox"]

[limits]
poll_interval = 1
search_timeout = 1
search_cooldown = 0.001
"""
"""Config of the end-to-end tests; each adds its ``[backends.*]`` tables."""


@pytest.fixture
def expected_lingering_tasks() -> bool:
    """A /status pager's timeout runs as a discord.py task that outlives a short test.

    Not a leak: the task ends at the view's timeout (10 minutes) or when the bot's loop ends; the Home Assistant
    test plugin (loaded for every test here) would otherwise fail the test on Python 3.14, where it sees the task.
    """
    return True


def config_data(names: list[str], **sections: dict[str, Any]) -> dict[str, Any]:
    """Config as parsed TOML: each name a qbittorrent backend on 127.0.0.1."""
    data: dict[str, Any] = {
        "discord": {"notify_channel_id": CHANNEL_ID, "state_file": "state.json"},
        "permissions": {"read_roles": [READER_ROLE], "write_roles": ["Seedbox"]},
        "limits": {"search_cooldown": 60, "edit_interval": 0.01},
        "backends": {n: {"kind": "qbittorrent", "url": "http://127.0.0.1:1"} for n in names},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return data


async def new_bot() -> commands.Bot:
    """A bot set up as after login, with the test guild cached, but never connected."""
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
    await bot.__aenter__()
    user = {"id": str(BOT_USER_ID), "username": "peerdeck", "discriminator": "0", "avatar": None, "bot": True}
    bot._connection.user = discord.ClientUser(state=bot._connection, data=user)  # type: ignore[arg-type]
    bot._connection._add_guild_from_data(guild_payload())  # type: ignore[arg-type]
    bot._connection.application_id = APP_ID
    return bot


@pytest.fixture
async def make_harness(tmp_path: Path) -> AsyncIterator[MakeHarness]:
    bots: list[commands.Bot] = []

    async def make(
        backends: dict[str, FakeBackend], clock: Callable[[], float] = time.monotonic, **sections: dict[str, Any]
    ) -> tuple[Harness, PeerdeckCore]:
        config: BotConfig = parse_config(config_data(list(backends), **sections), base_dir=tmp_path)
        bot = await new_bot()
        bots.append(bot)
        core = await install(bot, PeerdeckService(config, backends=backends, clock=clock))
        return Harness(bot, FakeAdapter()), core

    yield make
    for bot in bots:
        for name in list(bot.cogs):
            await bot.remove_cog(name)
        await bot.close()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def start_bot(tmp_path: Path) -> AsyncIterator[StartBot]:
    """Load the extension from a config file (``E2E_HEADER`` + the given backends) into a bot that never connects."""
    bots: list[commands.Bot] = []

    async def start(backends: str) -> tuple[Harness, Any]:
        path = tmp_path / f"bot{len(bots)}.toml"
        path.write_text(E2E_HEADER.replace("state.json", f"state{len(bots)}.json") + backends)
        bot = await new_bot()
        bots.append(bot)
        bot.peerdeck_config = str(path)  # type: ignore[attr-defined]
        await bot.load_extension("peerdeck_bot")
        return Harness(bot, FakeAdapter()), bot.get_cog("Peerdeck")

    yield start
    for bot in bots:
        await bot.unload_extension("peerdeck_bot")
        await bot.close()
