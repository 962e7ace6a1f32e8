"""Failures turned into plain words a Discord user can act on (never a traceback or a secret)."""

from __future__ import annotations

import os

import aiohttp

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckConnectionError,
    PeerdeckError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckTimeoutError,
)


class UserFacingError(Exception):
    """A refusal or problem whose message is already meant for the user."""


class BackendError(Exception):
    """A library error raised while talking to the backend ``backend``."""

    def __init__(self, backend: str, error: PeerdeckError) -> None:
        super().__init__(backend)
        self.backend = backend
        self.error = error


def describe(error: BaseException) -> str:
    """Plain-text message for ``error`` (the caller escapes it for Discord)."""
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, BackendError):
        return _backend_message(error.backend, error.error)
    if isinstance(error, PeerdeckError):
        return _backend_message("The daemon", error)
    return "Something went wrong on the bot's side; the bot owner can find the details in its log."


_SELF_EXPLAINED = (
    PeerdeckTimeoutError,
    PeerdeckConnectionError,
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckRateLimitedError,
    PeerdeckNotFoundError,
)


def needs_log(error: PeerdeckError) -> bool:
    """Whether the library's own message says more than :func:`describe` does (it is then logged for the owner)."""
    return not isinstance(error, _SELF_EXPLAINED)


def _backend_message(name: str, error: PeerdeckError) -> str:
    if isinstance(error, PeerdeckTimeoutError):
        return f"{name} did not answer in time. It may be busy or down; try again in a minute."
    if isinstance(error, PeerdeckConnectionError):
        return f"{name} cannot be reached right now. Is the daemon running?"
    if isinstance(error, PeerdeckAuthenticationError):
        return f"{name} rejected the bot's credentials. Ask the bot owner to check them."
    if isinstance(error, PeerdeckBannedError):
        return f"{name} has banned the bot's address. Ask the bot owner to lift the ban."
    if isinstance(error, PeerdeckForbiddenError):
        return f"{name} refused to do that: the account the bot uses there is not allowed to."
    if isinstance(error, PeerdeckRateLimitedError):
        wait = f" in {error.retry_after:.0f} s" if error.retry_after else " in a little while"
        return f"{name} asks the bot to slow down. Try again{wait}."
    if isinstance(error, PeerdeckNotSupportedError):
        return f"{name} cannot do that."  # the library's detail speaks of its own types, not to users
    if isinstance(error, PeerdeckNotFoundError):
        return f"{name} does not know that item any more (it may have been removed)."
    if isinstance(error, PeerdeckInputError):
        return f"{name} did not accept that. Check what you typed or picked, and try again."
    return f"{name} reported a problem. Try again later; the bot owner can find the details in the log."


def no_answer(err: aiohttp.ClientConnectorError) -> str:
    """A connection nothing accepted, in words: ``nothing answers at host:port (connection refused)``."""
    why = os.strerror(err.os_error.errno).lower() if err.os_error.errno else "refused"
    return f"nothing answers at {err.host}:{err.port} ({why})"
