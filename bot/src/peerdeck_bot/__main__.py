"""Standalone runner: ``peerdeck-bot [--config FILE] [--check-config] [run | sync]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import discord
from discord.ext import commands

from peerdeck import (
    PeerdeckConnectionError,
    PeerdeckError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    create_backend,
)

from .config import BackendConfig, BotConfig, ConfigError, load_config
from .errors import BackendError, describe
from .state import unwritable_reason

_LOGGER = logging.getLogger("peerdeck_bot")
DEFAULT_CONFIG = "peerdeck-bot.toml"


class PeerdeckBot(commands.Bot):
    """A bot with nothing but the Peerdeck extension; it never syncs commands on start."""

    def __init__(self, config: BotConfig) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.peerdeck_config = config

    async def setup_hook(self) -> None:
        """Load the extension."""
        await self.load_extension("peerdeck_bot")


def _public_url(url: str) -> str:
    """The URL without credentials, query or fragment, safe to print (also for a malformed one)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(not a valid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True, slots=True)
class Probe:
    """One row of the ``--check-config`` table."""

    ok: bool
    result: str
    secrets: tuple[str, ...] = ()


async def _probe(backend_config: BackendConfig, session: aiohttp.ClientSession, timeout: float) -> Probe:
    try:
        credentials = backend_config.credentials()
    except ConfigError as err:
        return Probe(False, str(err))
    hidden = tuple(s for s in (credentials.password, credentials.api_key) if s)
    try:
        async with asyncio.timeout(timeout):
            backend = create_backend(
                backend_config.kind,
                backend_config.url,
                credentials,
                session=session,
                verify_ssl=backend_config.verify_ssl,
                request_timeout=timeout,
            )
            try:
                info = await backend.info()
                status = await backend.status()
            finally:
                await backend.close()
    except TimeoutError:
        return Probe(False, f"no answer within {timeout:g} s", hidden)
    except PeerdeckInvalidResponseError:
        kind = backend_config.kind.value
        return Probe(
            False, f"something answers at this URL, but not the way {kind} does: is it the right URL and kind?", hidden
        )
    except PeerdeckNotFoundError:
        kind = backend_config.kind.value
        return Probe(
            False, f"something answers at this URL, but has no {kind} API there (404): is the URL right?", hidden
        )
    except PeerdeckNotSupportedError as err:  # the owner reads this, so the library's detail helps here
        return Probe(False, f"{backend_config.kind.value} at this URL lacks what the bot needs: {err}", hidden)
    except PeerdeckConnectionError as err:
        return Probe(False, _unreachable(backend_config, err), hidden)
    except PeerdeckError as err:
        return Probe(False, describe(BackendError(backend_config.name, err)), hidden)
    except (aiohttp.ClientError, OSError, ValueError) as err:
        return Probe(False, f"{backend_config.name} failed unexpectedly ({type(err).__name__})", hidden)
    state = "connected" if status.connected else "up, not connected to its network"
    version = info.version if info.version and info.version != "unknown" else "version not reported"
    return Probe(True, f"{backend_config.kind.value} {version}, {state}", hidden)


def _unreachable(backend_config: BackendConfig, err: PeerdeckConnectionError) -> str:
    """Why a daemon could not be reached, including a TLS handshake to a plain-HTTP port."""
    cause = err.__cause__
    tls_failed = isinstance(cause, aiohttp.ClientSSLError) and not isinstance(
        cause, aiohttp.ClientConnectorCertificateError
    )
    if backend_config.url.startswith("https://") and (tls_failed or isinstance(cause, aiohttp.ServerDisconnectedError)):
        return "the TLS handshake failed: if the daemon serves plain HTTP on this port, use http:// in the URL"
    if isinstance(cause, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate was rejected; for a self-signed one set verify_ssl = false"
    if isinstance(cause, aiohttp.ClientConnectorDNSError):
        return f"the host name {cause.host} could not be resolved: is the URL right?"
    if isinstance(cause, aiohttp.ClientConnectorError):
        why = os.strerror(cause.os_error.errno).lower() if cause.os_error.errno else "refused"
        return f"nothing answers at {cause.host}:{cause.port} ({why}): is the daemon running, and is the URL right?"
    return f"cannot reach it: {err}"


def _redact(text: str, hidden: Sequence[str]) -> str:
    for secret in hidden:
        text = text.replace(secret, "***")
    return text


async def check_config(config: BotConfig) -> int:
    """Connect to every backend and print a table; 0 when every backend answers."""
    timeout = config.limits.backend_timeout
    async with aiohttp.ClientSession() as session:
        probes = await asyncio.gather(*(_probe(b, session, timeout) for b in config.backends))
    hidden = [s for p in probes for s in p.secrets]
    rows = [("backend", "kind", "url", "", "result")]
    for backend, probe in zip(config.backends, probes, strict=True):
        mark = "ok" if probe.ok else "FAIL"
        rows.append((backend.name, backend.kind.value, _public_url(backend.url), mark, probe.result))
    try:
        hidden.append(config.token.resolve())
    except ConfigError as err:
        rows.append(("discord token", "", config.token.describe(), "MISSING", f"{err} (needed to run or sync)"))
    else:
        rows.append(("discord token", "", config.token.describe(), "ok", "present (not checked with Discord)"))
    state_problem = await asyncio.to_thread(unwritable_reason, config.state_file)
    if state_problem:
        rows.append(("state file", "", str(config.state_file), "FAIL", state_problem))
    else:
        rows.append(("state file", "", str(config.state_file), "ok", "writable"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(f"{cell:<{widths[i]}}" for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    failed = sum(not p.ok for p in probes)
    total = len(probes)
    lines.append(f"{total - failed} of {total} backends answered" + ("" if not failed else f"; {failed} failed"))
    if state_problem:
        lines.append("the state file cannot be written: completion notices would be lost or repeated")
    print(_redact("\n".join(line.rstrip() for line in lines), hidden))
    return 1 if failed or state_problem else 0


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


async def run_bot(config: BotConfig, token: str) -> None:
    """Connect and serve until interrupted."""
    async with PeerdeckBot(config) as bot:
        await bot.start(token)


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
        raise SystemExit(2) from None
    if args.check_config:
        raise SystemExit(asyncio.run(check_config(config)))
    problems = secret_problems(config)
    if problems:
        print("\n".join(f"config error: {problem}" for problem in problems), file=sys.stderr)
        raise SystemExit(2)
    token = config.token.resolve()
    try:
        asyncio.run(sync_commands(config, token) if args.command == "sync" else run_bot(config, token))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as err:
        print(f"error: {_startup_failure(err)}", file=sys.stderr)
        raise SystemExit(2) from None


def secret_problems(config: BotConfig) -> list[str]:
    """Every secret the bot cannot read, checked before it connects anywhere."""
    problems = []
    try:
        config.token.resolve()
    except ConfigError as err:
        problems.append(f"discord token: {err}")
    for backend in config.backends:
        try:
            backend.credentials()
        except ConfigError as err:
            problems.append(f"backends.{backend.name}: {err}")
    return problems


def _startup_failure(err: Exception) -> str:
    """Why logging in or starting failed, in one line."""
    if isinstance(err, discord.LoginFailure):
        return "Discord rejected the bot token; reset it under Bot → Reset Token and update the secret"
    if isinstance(err, discord.PrivilegedIntentsRequired):
        return "Discord refused a privileged intent the bot asked for"
    if isinstance(err, discord.HTTPException):
        return f"Discord answered {err.status} at login; try again later"
    if isinstance(err, aiohttp.ClientError | OSError | discord.GatewayNotFound | discord.ConnectionClosed):
        return f"cannot reach Discord ({type(err).__name__}); check the network and DNS, then start again"
    if isinstance(err, commands.ExtensionError):
        return f"the Peerdeck extension did not load: {err.__cause__ or err}"
    _LOGGER.error("the bot stopped", exc_info=err)
    return f"the bot stopped unexpectedly ({type(err).__name__}); the log above has the details"


if __name__ == "__main__":
    main()
