"""Exception tree of the Peerdeck client library.

Every failure a caller can meet is a :class:`PeerdeckError`, so integrations catch one
type and still tell "fix your password" from "the daemon is down". Messages name the
operation and the daemon's answer but never a credential, cookie or API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal


class PeerdeckError(Exception):
    """Base class of every error raised by the library."""


class PeerdeckConnectionError(PeerdeckError):
    """The daemon could not be reached (refused, DNS, TLS, dropped connection)."""


class PeerdeckTimeoutError(PeerdeckConnectionError):
    """The daemon did not answer within the request timeout."""


class PeerdeckAuthenticationError(PeerdeckError):
    """The credentials were rejected; retrying with the same ones will not help."""


class PeerdeckForbiddenError(PeerdeckError):
    """The daemon understood who we are but refuses the request."""


class PeerdeckHostRejectedError(PeerdeckForbiddenError):
    """The daemon refuses the ``Host`` the URL sends (a host name it does not trust, or a reverse
    proxy on another port than the daemon's own); the credentials were never looked at."""


class PeerdeckBannedError(PeerdeckForbiddenError):
    """The daemon has banned this client's address (for example after failed logins)."""


class PeerdeckRateLimitedError(PeerdeckError):
    """The daemon asks us to slow down; ``retry_after`` says for how long, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PeerdeckNotSupportedError(PeerdeckError):
    """The daemon, or this version of it, has no such operation."""


class PeerdeckInvalidResponseError(PeerdeckError):
    """The daemon answered something we cannot interpret (bad JSON, unexpected shape)."""


class PeerdeckResponseError(PeerdeckError):
    """The daemon answered with an HTTP error not covered by a more specific class."""

    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class PeerdeckNotFoundError(PeerdeckResponseError):
    """The daemon does not know the requested item (404)."""


class PeerdeckConflictError(PeerdeckResponseError):
    """The request conflicts with the daemon's current state (409)."""


class PeerdeckServerError(PeerdeckResponseError):
    """The daemon failed internally (5xx)."""


class PeerdeckInputError(PeerdeckError, ValueError):
    """A value given to the library is malformed; nothing was sent to the daemon."""


class InvalidMagnetError(PeerdeckInputError):
    """The text is not a usable ``magnet:`` link."""


class InvalidHashError(PeerdeckInputError):
    """The text is not a torrent info-hash (40 hex SHA-1 or 64 hex SHA-256)."""


class InvalidURLError(PeerdeckInputError):
    """The text is not an absolute http(s) URL."""


class InputLimitError(PeerdeckInputError):
    """A value breaks a size limit of :mod:`peerdeck.validation`: too long, or too many items.

    ``field`` names the input, ``limit`` the bound and ``unit`` what it counts (``characters`` of a
    text, ``values`` of a list, ``bytes`` of a file), so front-ends can word the error themselves.
    """

    def __init__(
        self, message: str, *, field: str, limit: int, unit: Literal["characters", "values", "bytes"] = "characters"
    ) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit
        self.unit = unit


class InvalidTextError(PeerdeckInputError):
    """A value holds characters it may not (control characters, or a ``..`` step in a path); ``field`` names it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class PeerdeckPartialError(PeerdeckError):
    """An action on several transfers that did some and not others; ``failed`` maps id → reason."""

    def __init__(self, message: str, *, done: tuple[str, ...], failed: Mapping[str, str]) -> None:
        super().__init__(message)
        self.done = done
        self.failed = dict(failed)
