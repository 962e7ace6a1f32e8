"""Running as a service: log in and connect, riding out network and Discord outages inside the process,
and stopping with an exit status that tells the service manager whether a restart can help.

Exit statuses (the README's systemd unit and container recipe rely on them):

* 0 — stopped on request (SIGTERM from the service manager);
* 1 — failed in a way a restart may fix (an unexpected error; ``--check-config`` found a problem);
* 2 — a restart cannot fix it: the config, a missing secret, a rejected token or intent;
* 130 — interrupted from the keyboard.

No network, no DNS, Discord answering 5xx, a gateway that cannot be reached: none of these ends the
process; it tries again, waiting longer each time up to :data:`RETRY_MOST`, and logs one line each
time the reason changes and one when Discord answers again. Once connected, discord.py reconnects by
itself; :class:`DiscordLog` cuts its log of that to one line per reason, without tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import aiohttp
import discord
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import INTERNAL_API_VERSION

from .config import BotConfig, ConfigError
from .errors import no_answer

_LOGGER = logging.getLogger("peerdeck_bot")
EXIT_STOPPED = 0
EXIT_RESTART = 1
EXIT_NO_RESTART = 2
EXIT_INTERRUPTED = 130
RETRY_FIRST = 5.0
RETRY_MOST = 300.0
GATEWAY_TIMEOUT = 30.0
TOKEN_REJECTED = "Discord rejected the bot token; reset it under Bot → Reset Token and update the secret"  # noqa: S105
_TOKEN_REJECTED = 4004
_INTENTS_REFUSED = 4014


class PeerdeckBot(commands.Bot):
    """A bot with nothing but the Peerdeck extension; it never syncs commands on start."""

    def __init__(self, config: BotConfig, discord_log: DiscordLog | None = None) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.peerdeck_config = config
        self.discord_log = discord_log or DiscordLog()

    async def setup_hook(self) -> None:
        """Load the extension."""
        await self.load_extension("peerdeck_bot")

    async def on_ready(self) -> None:
        """Say so in the log: after an outage this line is the all-clear."""
        self.discord_log.back()
        _LOGGER.info("connected to Discord as %s", self.user)

    async def on_resumed(self) -> None:
        """The all-clear after a connection lost and resumed."""
        if self.discord_log.back():
            _LOGGER.info("the connection to Discord is back")


class Backoff:
    """Waits that double from :data:`RETRY_FIRST` up to :data:`RETRY_MOST`."""

    def __init__(self) -> None:
        self.delay = RETRY_FIRST

    def next(self) -> float:
        """The wait before the next try (and make the one after it longer)."""
        delay = self.delay
        self.delay = min(RETRY_MOST, self.delay * 2)
        return delay


class Outage:
    """Logs an outage once per reason, and its end once."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def down(self, reason: str, delay: float) -> None:
        """Trying failed for ``reason``; the next try comes in ``delay`` s."""
        if reason != self.reason:
            _LOGGER.warning(
                "cannot connect to Discord: %s; trying again in %g s, then at growing intervals of up to %g s",
                reason,
                delay,
                RETRY_MOST,
            )
        self.reason = reason

    def over(self) -> None:
        """Discord answered."""
        if self.reason is not None:
            _LOGGER.info("Discord can be reached again; connecting")
        self.reason = None


class DiscordLog(logging.Filter):
    """discord.py's own log during outages, cut to one line per reason, without tracebacks.

    It logs "logging in using static token" at every try, and a traceback at every failed try to
    reconnect after a connection was lost (``Attempting a reconnect in …``): the same outage would
    fill the log. Attach to the ``discord.client`` logger.
    """

    def __init__(self) -> None:
        super().__init__()
        self.logged_in = False
        self.lost: str | None = None
        """Why the connection is down, while discord.py reconnects."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Let a line through the first time for its reason only, in words."""
        if record.msg == "logging in using static token":
            seen, self.logged_in = self.logged_in, True
            return not seen
        if str(record.msg).startswith("Attempting a reconnect") and record.exc_info:
            error = record.exc_info[1]
            why = (passing_reason(error) if error is not None else None) or type(error).__name__
            record.exc_info, record.exc_text = None, None
            if why == self.lost:
                return False
            self.lost = why
            record.msg, record.args = "lost the connection to Discord: %s; reconnecting by itself", (why,)
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True

    def back(self) -> bool:
        """The connection is up again; True when it was lost."""
        was, self.lost = self.lost, None
        return was is not None


def passing_reason(err: BaseException) -> str | None:
    """Why Discord cannot be reached right now, when that can pass by itself; None for anything else."""
    if isinstance(err, discord.LoginFailure | discord.PrivilegedIntentsRequired):
        return None
    if isinstance(err, discord.HTTPException):
        if err.status >= 500 or err.status == 429:
            return f"Discord answered {err.status} (it is having trouble)"
        return None
    if isinstance(err, discord.ConnectionClosed):
        return None if err.code in (_TOKEN_REJECTED, _INTENTS_REFUSED) else f"the gateway closed ({err.code})"
    if isinstance(err, discord.GatewayNotFound):
        return "Discord's gateway is not available"
    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return f"the name {err.host} cannot be resolved (no network or no DNS)"
    if isinstance(err, aiohttp.ClientConnectorError):
        return no_answer(err)
    if isinstance(err, aiohttp.WSServerHandshakeError):
        return f"the gateway refused the connection ({err.status})"
    if isinstance(err, aiohttp.ClientError | OSError):
        return f"the connection failed ({type(err).__name__})"
    if isinstance(err, TimeoutError):
        return f"no answer within {GATEWAY_TIMEOUT:g} s"
    return None


def final_reason(err: BaseException) -> tuple[int, str]:
    """The exit status and the one line to print for a failure that ends the process."""
    if isinstance(err, discord.LoginFailure):
        return EXIT_NO_RESTART, TOKEN_REJECTED
    if isinstance(err, discord.PrivilegedIntentsRequired):
        return EXIT_NO_RESTART, "Discord refused a privileged intent the bot asked for"
    if isinstance(err, discord.ConnectionClosed) and err.code == _TOKEN_REJECTED:
        return EXIT_NO_RESTART, TOKEN_REJECTED
    if isinstance(err, commands.ExtensionFailed) and isinstance(err.original, ConfigError):
        return EXIT_NO_RESTART, f"config error: {err.original}"
    if isinstance(err, commands.ExtensionError):
        _LOGGER.error("the Peerdeck extension did not load", exc_info=err)
        return EXIT_RESTART, "the Peerdeck extension did not load; the log above has the details"
    if isinstance(err, discord.HTTPException):
        return EXIT_RESTART, f"Discord answered {err.status} ({err.text or 'no reason given'})"
    if (why := passing_reason(err)) is not None:
        return EXIT_RESTART, f"cannot reach Discord: {why}; try again later"
    _LOGGER.error("the bot stopped", exc_info=err)
    return EXIT_RESTART, f"the bot stopped unexpectedly ({type(err).__name__}); the log above has the details"


async def run_bot(config: BotConfig, token: str) -> None:
    """Log in and serve until stopped; outages on the way in are waited out here (see the module's notes)."""
    backoff, outage, quiet = Backoff(), Outage(), DiscordLog()
    logging.getLogger("discord.client").addFilter(quiet)
    try:
        await _run(config, token, backoff, outage, quiet)
    finally:
        logging.getLogger("discord.client").removeFilter(quiet)


async def _run(config: BotConfig, token: str, backoff: Backoff, outage: Outage, quiet: DiscordLog) -> None:
    while True:
        async with PeerdeckBot(config, quiet) as bot:
            try:
                await bot.login(token)
                await _reach_gateway(bot, backoff, outage)
                outage.over()
                await bot.connect(reconnect=True)
                return
            except Exception as err:
                socket: DiscordWebSocket | None = bot.ws  # None (despite its type) until a first connection
                if socket is not None:  # it was connected once: discord.py has retried what can be retried
                    raise
                # the gateway went away between the check and discord.py's first connection, which
                # discord.py then trips over (see _reach_gateway)
                why = "the gateway connection failed" if isinstance(err, AttributeError) else passing_reason(err)
                if why is None:
                    raise
                delay = backoff.next()
                outage.down(why, delay)
        await asyncio.sleep(delay)


async def _reach_gateway(bot: commands.Bot, backoff: Backoff, outage: Outage) -> None:
    """Open (and close) one gateway connection before handing over to discord.py.

    discord.py retries a lost connection by itself, but not a first one: it then fails on its own
    missing websocket (``'NoneType' object has no attribute 'sequence'``) after logging tracebacks.
    """
    url = DiscordWebSocket.DEFAULT_GATEWAY.with_query(v=INTERNAL_API_VERSION, encoding="json")
    while True:
        try:
            async with asyncio.timeout(GATEWAY_TIMEOUT):
                socket = await bot.http.ws_connect(str(url))
                await socket.close()
        except Exception as err:
            why = passing_reason(err)
            if why is None:
                raise
            delay = backoff.next()
            outage.down(f"its gateway: {why}", delay)
            await asyncio.sleep(delay)
        else:
            return


async def serve(config: BotConfig, token: str) -> None:
    """:func:`run_bot`, stopped cleanly (state saved, sessions closed) by SIGTERM."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(
            NotImplementedError, RuntimeError, ValueError
        ):  # not on Windows or off the main thread
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await run_bot(config, token)
    except asyncio.CancelledError:
        _LOGGER.info("stopped")
