"""How qBittorrent's WebUI API spells things, and which WebAPI version changed what.

Pure functions, no I/O: hashes joined with ``|``, booleans as ``true``/``false``, forms and
queries without unset fields, numbers answered as text, the API version, the session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..client import Reply
from ..exceptions import PeerdeckInputError, PeerdeckInvalidResponseError
from ..validation import validate_info_hash

JsonObject = dict[str, Any]
Hashes = Sequence[str] | str
"""One hash, several hashes, or the literal ``"all"``."""

STOP_START_API = (2, 11, 0)  # torrents/stop and torrents/start replace pause and resume
COUNT_API = (2, 10, 0)  # torrents/count
API_KEY_API = (2, 14, 1)  # app/rotateAPIKey and Bearer API keys
SHARE_LIMIT_ACTION_API = (2, 12, 0)  # setShareLimits requires shareLimitAction
SHARE_LIMITS_MODE_API = (2, 15, 3)  # setShareLimits requires shareLimitsMode
SEED_MODE_API = (2, 16, 0)  # torrents/add: seedMode replaces skip_checking


def parse_api_version(text: str) -> tuple[int, ...]:
    """``"2.8.19"`` → ``(2, 8, 19)``; raises on anything else."""
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError as err:
        raise PeerdeckInvalidResponseError(f"qBittorrent sent an unreadable API version {text[:20]!r}") from err


def join_hashes(hashes: Hashes) -> str:
    """Validate hashes and join them the way qBittorrent wants (``a|b``), or pass ``all``."""
    if isinstance(hashes, str):
        return "all" if hashes == "all" else validate_info_hash(hashes)
    if not hashes:
        raise PeerdeckInputError("no torrent hashes given")
    return "|".join(validate_info_hash(h) for h in hashes)


def flag(value: bool) -> str:
    """A boolean as qBittorrent reads it in forms and queries."""
    return "true" if value else "false"


def query_params(params: Mapping[str, str | int | float | None]) -> dict[str, str | int | float]:
    """Query parameters without the unset ones."""
    return {k: v for k, v in params.items() if v is not None}


def form_fields(fields: Mapping[str, str | int | float | bool | None]) -> dict[str, str]:
    """Form fields as text, without the unset ones."""
    return {k: (flag(v) if isinstance(v, bool) else str(v)) for k, v in fields.items() if v is not None}


def int_text(value: object) -> int:
    """A number qBittorrent answered as plain text."""
    try:
        return int(str(value).strip())
    except ValueError as err:
        raise PeerdeckInvalidResponseError("qBittorrent sent a non-numeric answer") from err


def non_negative(value: int, name: str) -> int:
    """Refuse a negative limit before it reaches the daemon."""
    if value < 0:
        raise PeerdeckInputError(f"{name} must be 0 or more")
    return value


def session_cookie(reply: Reply) -> str | None:
    """The ``Cookie`` header value for the session set by the login (``SID`` or ``QBT_SID_<port>``)."""
    for header in reply.headers.getall("Set-Cookie", []):
        pair = header.split(";", 1)[0].strip()
        name, _, value = pair.partition("=")
        if (name == "SID" or name.startswith("QBT_SID")) and value:
            return pair
    return None
