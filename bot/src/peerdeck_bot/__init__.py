"""Discord plugin pack for Peerdeck: ``await bot.load_extension("peerdeck_bot")``.

The extension reads its settings from ``bot.peerdeck_config`` (a :class:`BotConfig` or a path)
or from the file named by the ``PEERDECK_BOT_CONFIG`` environment variable. It never syncs
the host's command tree and never touches the host's global error handler or checks.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import cast

import discord
from discord import app_commands
from discord.ext import commands

from .cogs import VERB_COGS
from .config import BotConfig, ConfigError, load_config
from .core import PeerdeckCore
from .service import PeerdeckService

__all__ = ["BotConfig", "ConfigError", "PeerdeckCore", "PeerdeckService", "install", "load_config", "setup"]

_LOGGER = logging.getLogger(__name__)
CONFIG_ENV = "PEERDECK_BOT_CONFIG"


async def install(bot: commands.Bot, service: PeerdeckService) -> PeerdeckCore:
    """Add the Peerdeck cogs to ``bot``; a command whose name is taken is skipped and reported."""
    core = PeerdeckCore(bot, service)
    await bot.add_cog(core)
    guilds = [discord.Object(id=g) for g in service.config.guild_ids]
    for cog_type in VERB_COGS:
        if cog_type.verb in service.config.disabled:
            continue
        cog = cog_type(core)
        try:
            if guilds:
                await bot.add_cog(cog, guilds=guilds)
            else:
                await bot.add_cog(cog)
        except app_commands.CommandAlreadyRegistered:
            core.skipped.append(cog_type.verb)
        else:
            core.verbs.append(cog)
    for verb in core.skipped:
        _LOGGER.error(
            "Peerdeck: the command name /%s is already taken by another extension, so Peerdeck's %s command "
            'is not loaded; rename it in the config, e.g. [commands] %s = "pd-%s"',
            service.config.command_names[verb],
            verb,
            verb,
            verb,
        )
    return core


def _config_for(bot: commands.Bot) -> BotConfig:
    given = getattr(bot, "peerdeck_config", None)
    if isinstance(given, BotConfig) or (
        # reload_extension re-imports this package, so a config built before has the "old" class
        type(given).__module__ == BotConfig.__module__ and type(given).__qualname__ == BotConfig.__qualname__
    ):
        return cast(BotConfig, given)
    if isinstance(given, str | Path):
        return load_config(given)
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"set bot.peerdeck_config or the {CONFIG_ENV} environment variable to the config file")
    return load_config(path)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await install(bot, PeerdeckService(_config_for(bot)))
