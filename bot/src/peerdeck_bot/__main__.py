"""Standalone runner: ``peerdeck-bot [--config FILE] [--check-config] [run | sync]``.

Exit statuses are listed in :mod:`peerdeck_bot.runner`; ``--check-config`` exits 0 when every
daemon answers and the state file is usable, else 1 (2 for a config error).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

import discord

from .checkup import check_config
from .config import BotConfig, ConfigError, load_config, token_problem
from .runner import EXIT_INTERRUPTED, EXIT_NO_RESTART, PeerdeckBot, final_reason, serve

_LOGGER = logging.getLogger("peerdeck_bot")
DEFAULT_CONFIG = "peerdeck-bot.toml"


async def sync_commands(config: BotConfig, token: str) -> None:
    """Register the slash commands with Discord (to the configured guilds, else globally)."""
    bot = PeerdeckBot(config)
    async with bot:
        await bot.login(token)
        if config.guild_ids:
            for guild_id in config.guild_ids:
                synced = await bot.tree.sync(guild=discord.Object(id=guild_id))
                _LOGGER.info("synced %d commands to guild %d", len(synced), guild_id)
        else:
            synced = await bot.tree.sync()
            _LOGGER.info("synced %d global commands (they may take a while to appear)", len(synced))


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="peerdeck-bot", description="Discord bot for Peerdeck daemons.")
    parser.add_argument(
        "--config",
        default=os.environ.get("PEERDECK_BOT_CONFIG", DEFAULT_CONFIG),
        help=f"TOML config file (default: $PEERDECK_BOT_CONFIG or {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--check-config", action="store_true", help="validate the file, connect to each backend, print a table, exit"
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "sync"),
        default="run",
        help="run the bot (default), or sync: register the slash commands with Discord and exit",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        raise SystemExit(EXIT_NO_RESTART) from None
    if args.check_config:
        raise SystemExit(asyncio.run(check_config(config)))
    problems = secret_problems(config)
    if problems:
        print("\n".join(f"config error: {problem}" for problem in problems), file=sys.stderr)
        raise SystemExit(EXIT_NO_RESTART)
    token = config.token.resolve()
    try:
        asyncio.run(sync_commands(config, token) if args.command == "sync" else serve(config, token))
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as err:
        status, line = final_reason(err)
        print(f"error: {line}", file=sys.stderr)
        raise SystemExit(status) from None


def secret_problems(config: BotConfig) -> list[str]:
    """Every secret the bot cannot read, checked before it connects anywhere."""
    problems = []
    try:
        token = config.token.resolve()
    except ConfigError as err:
        problems.append(f"discord token: {err}")
    else:
        if (problem := token_problem(token)) is not None:
            problems.append(f"discord token: the token in {config.token.describe()} {problem}")
    for backend in config.backends:
        try:
            backend.credentials()
        except ConfigError as err:
            problems.append(f"backends.{backend.name}: {err}")
    return problems


if __name__ == "__main__":
    main()
