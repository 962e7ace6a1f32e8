"""``--check-config``: connect to every daemon and tell the owner, in a table, what works and what to fix."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckConnectionError,
    PeerdeckError,
    PeerdeckForbiddenError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckTimeoutError,
    create_backend,
)

from .config import BackendConfig, BotConfig, ConfigError, token_problem
from .errors import no_answer
from .state import damage_reason, unwritable_reason
from .text import plain

MASK = "***"
_BEFORE = r"(?:^|(?<=[\s\"'`(\[{<=]))"
_AFTER = r"(?=$|[\s\"'`)\]}>,;:!?]|\.(?:\s|$))"


def public_url(url: str) -> str:
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


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every whole-word occurrence of a secret masked: the secret stands between spaces,
    quotes or brackets, or ends a sentence or a clause; never a part of a longer word or address.

    A password ``127`` must not turn ``127.0.0.1`` into ``***.0.0.1``, which would both mangle the
    table and tell the reader what the password is; a pass phrase with spaces is masked whole.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = re.sub(_BEFORE + re.escape(secret) + _AFTER, MASK, text)
    return text


@dataclass(frozen=True, slots=True)
class Probe:
    """One row of the ``--check-config`` table."""

    ok: bool
    result: str
    secrets: tuple[str, ...] = ()


async def probe(backend_config: BackendConfig, session: aiohttp.ClientSession, timeout: float) -> Probe:
    """Log in to one daemon and read its version and status, under ``timeout``."""
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
        return Probe(False, f"no answer within {timeout:g} s: is the daemon busy, or the URL wrong?", hidden)
    except PeerdeckError as err:
        return Probe(False, owner_words(backend_config, err), hidden)
    except (aiohttp.ClientError, OSError, ValueError) as err:
        return Probe(False, f"failed unexpectedly ({type(err).__name__})", hidden)
    state = "connected" if status.connected else "up, not connected to its network"
    version = info.version if info.version and info.version != "unknown" else "version not reported"
    return Probe(True, f"{backend_config.kind.value} {version}, {state}", hidden)


def owner_words(backend_config: BackendConfig, err: PeerdeckError) -> str:
    """What went wrong, said to the owner, who can fix it (a Discord user is told to ask them instead)."""
    kind = backend_config.kind.value
    secret = "api_key_env / api_key_file" if backend_config.api_key else "password_env / password_file"
    if isinstance(err, PeerdeckTimeoutError):
        return "it did not answer in time: is the daemon busy, or the URL wrong?"
    if isinstance(err, PeerdeckConnectionError):
        return unreachable(backend_config, err)
    if isinstance(err, PeerdeckInvalidResponseError):
        return f"something answers at this URL, but not the way {kind} does: is it the right URL and kind?"
    if isinstance(err, PeerdeckNotFoundError):
        return f"something answers at this URL, but has no {kind} API there (404): is the URL right?"
    if isinstance(err, PeerdeckNotSupportedError):  # the library's detail names the missing feature
        return f"{kind} at this URL lacks what the bot needs: {err}"
    if isinstance(err, PeerdeckBannedError):
        return (
            f"{kind} has banned this address after failed logins: fix the credentials, "
            "then wait for the ban to end or restart the daemon"
        )
    if isinstance(err, PeerdeckAuthenticationError):
        return f"{kind} rejected the bot's credentials: check username and the secret behind {secret}"
    if isinstance(err, PeerdeckForbiddenError):
        return f"{kind} refused the bot's account: give it the rights it needs in the daemon ({err})"
    if isinstance(err, PeerdeckRateLimitedError):
        return f"{kind} asks the bot to slow down; run the check again in a minute"
    return f"{kind} answered with an error: {err}"


def unreachable(backend_config: BackendConfig, err: PeerdeckConnectionError) -> str:
    """Why a daemon could not be reached, including a TLS handshake to a plain-HTTP port.

    A plain-HTTP server meets a TLS hello in one of several ways, depending on the server and the
    timing: it resets the connection (qBittorrent: ``ClientConnectorError(ConnectionResetError())``),
    closes it, or answers in plain text, which fails the TLS handshake.
    """
    cause = _aiohttp_cause(err)
    https = backend_config.url.startswith("https://")
    if isinstance(cause, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate was rejected; for a self-signed one set verify_ssl = false"
    if https and _tls_mismatch(cause):
        return "the TLS handshake failed: if the daemon serves plain HTTP on this port, use http:// in the URL"
    if isinstance(cause, aiohttp.ClientConnectorDNSError):
        return f"the host name {cause.host} could not be resolved: is the URL right?"
    if isinstance(cause, aiohttp.ClientConnectorError):
        return f"{no_answer(cause)}: is the daemon running, and is the URL right?"
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return "it closed the connection without answering: is the URL (and http/https) right?"
    return "cannot reach it (a network error): is the daemon running, and is the URL right?"


def _aiohttp_cause(err: BaseException) -> BaseException | None:
    seen: BaseException | None = err.__cause__ or err.__context__
    while seen is not None and not isinstance(seen, aiohttp.ClientError):
        seen = seen.__cause__ or seen.__context__
    return seen


def _tls_mismatch(cause: BaseException | None) -> bool:
    if isinstance(cause, aiohttp.ClientSSLError | aiohttp.ServerDisconnectedError):
        return True
    if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ClientOSError):
        reset = cause.os_error if isinstance(cause, aiohttp.ClientConnectorError) else cause
        return isinstance(reset, ConnectionResetError | ConnectionAbortedError | BrokenPipeError)
    return False


async def check_config(config: BotConfig) -> int:
    """Connect to every backend and print a table; 0 when every backend answers and the state file is usable."""
    timeout = config.limits.backend_timeout
    async with aiohttp.ClientSession() as session:
        probes = await asyncio.gather(*(probe(b, session, timeout) for b in config.backends))
    secrets = [s for p in probes for s in p.secrets]
    rows = [("backend", "kind", "url", "", "result")]
    for backend, found in zip(config.backends, probes, strict=True):
        rows.append(
            (backend.name, backend.kind.value, public_url(backend.url), "ok" if found.ok else "FAIL", found.result)
        )
    try:
        token = config.token.resolve()
    except ConfigError as err:
        rows.append(("discord token", "", config.token.describe(), "MISSING", f"{err} (needed to run or sync)"))
    else:
        secrets.append(token)
        problem = token_problem(token)
        rows.append(
            ("discord token", "", config.token.describe(), "BAD", f"it {problem}")
            if problem
            else ("discord token", "", config.token.describe(), "ok", "present (not checked with Discord)")
        )
    unwritable = await asyncio.to_thread(unwritable_reason, config.state_file)
    damaged = await asyncio.to_thread(damage_reason, config.state_file)
    path = str(config.state_file)
    if unwritable:
        rows.append(("state file", "", path, "FAIL", unwritable))
    if damaged:
        rows.append(
            ("state file", "", path, "WARN", f"damaged ({damaged}); the bot will set it aside and start afresh")
        )
    if not unwritable and not damaged:
        rows.append(("state file", "", path, "ok", "writable"))
    lines = _table(rows, secrets)
    failed = sum(not p.ok for p in probes)
    total = len(probes)
    lines.append(f"{total - failed} of {total} backends answered" + ("" if not failed else f"; {failed} failed"))
    if unwritable:
        lines.append("the state file cannot be written: completion notices would be lost or repeated")
    if damaged:
        lines.append("the state file is damaged: what it held (notices due, boards, settings) is lost")
    print("\n".join(lines))
    return 1 if failed or unwritable else 0


def _table(rows: Sequence[tuple[str, str, str, str, str]], secrets: Sequence[str]) -> list[str]:
    """Aligned rows; the one column that carries daemon and library words is made honest (a version
    string cannot turn the terminal's text around) and has its secrets masked."""
    rows = [(*row[:4], mask(plain(row[4]), secrets)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        ("  ".join(f"{cell:<{widths[i]}}" for i, cell in enumerate(row[:4])) + "  " + row[4]).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return lines
