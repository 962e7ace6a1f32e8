"""Loading into a host bot: polite guest, name clashes, and the command payload against Discord's limits."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from peerdeck_bot.config import VERBS, parse_config

from .conftest import config_data, new_bot

NAME = re.compile(r"^[-_\w]{1,32}$")


def _chars(payload: dict[str, Any]) -> int:
    total = len(payload["name"]) + len(payload.get("description", ""))
    for option in payload.get("options", []):
        total += _chars(option)
        total += sum(len(c["name"]) + len(str(c["value"])) for c in option.get("choices", []))
    return total


async def loaded(tmp_path: Path, **sections: dict[str, Any]) -> commands.Bot:
    bot = await new_bot()
    bot.peerdeck_config = parse_config(config_data(["seedbox"], **sections), base_dir=tmp_path)  # type: ignore[attr-defined]
    return bot


async def test_loads_as_an_extension_without_touching_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = await loaded(tmp_path, permissions={"write_roles": []})
    on_error, check = bot.tree.on_error, bot.tree.interaction_check

    async def no_sync(*_: Any, **__: Any) -> None:
        raise AssertionError("the extension must never sync")

    monkeypatch.setattr(bot.tree, "sync", no_sync)
    await bot.load_extension("peerdeck_bot")

    names = sorted(c.name for c in bot.tree.get_commands())
    assert names == sorted(VERBS)
    assert bot.tree.on_error == on_error and bot.tree.interaction_check == check
    for command in bot.tree.get_commands():
        payload = command.to_dict(bot.tree)
        assert NAME.match(payload["name"]) and payload["name"] == payload["name"].lower()
        assert 1 <= len(payload["description"]) <= 100
        assert len(payload.get("options", [])) <= 25
        for option in payload.get("options", []):
            assert NAME.match(option["name"]) and 1 <= len(option["description"]) <= 100
            assert len(option.get("choices", [])) <= 25
        assert _chars(payload) <= 8000
        assert payload["contexts"] == [0]  # guild only
        write = payload["name"] in {"enqueue", "pause", "resume", "remove", "board"}
        assert (payload["default_member_permissions"] is not None) == write

    await bot.unload_extension("peerdeck_bot")
    assert bot.tree.get_commands() == []
    assert bot.cogs == {}
    await bot.close()


async def test_a_name_clash_skips_only_that_command_and_says_how_to_fix_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await loaded(tmp_path)

    @app_commands.command(name="status", description="The host's own status")
    async def host_status(interaction: Any) -> None:
        """Host command."""

    bot.tree.add_command(host_status)
    with caplog.at_level(logging.ERROR, logger="peerdeck_bot"):
        await bot.load_extension("peerdeck_bot")

    assert bot.tree.get_command("status") is host_status
    assert bot.tree.get_command("search") is not None
    assert bot.get_cog("Peerdeck").skipped == ["status"]  # type: ignore[union-attr]
    assert '[commands] status = "pd-status"' in caplog.text
    await bot.unload_extension("peerdeck_bot")
    await bot.close()


async def test_command_names_come_from_the_config(tmp_path: Path) -> None:
    bot = await loaded(tmp_path, commands={"status": "pd-status", "search": "find"})

    await bot.load_extension("peerdeck_bot")

    assert {"pd-status", "find", "enqueue"} <= {c.name for c in bot.tree.get_commands()}
    assert bot.tree.get_command("status") is None
    await bot.unload_extension("peerdeck_bot")
    await bot.close()


async def test_guild_ids_scope_the_commands_to_those_guilds(tmp_path: Path) -> None:
    bot = await loaded(tmp_path, discord={"guild_ids": [123456789012345678]})

    await bot.load_extension("peerdeck_bot")

    assert bot.tree.get_commands() == []
    assert len(bot.tree.get_commands(guild=discord.Object(123456789012345678))) == len(VERBS)
    await bot.unload_extension("peerdeck_bot")
    await bot.close()


async def test_missing_config_fails_the_load_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEERDECK_BOT_CONFIG", raising=False)
    bot = await new_bot()

    with pytest.raises(commands.ExtensionFailed, match="PEERDECK_BOT_CONFIG"):
        await bot.load_extension("peerdeck_bot")
    await bot.close()
