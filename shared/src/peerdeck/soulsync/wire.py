"""What SoulSync's answers and paths look like: its error envelope and codes, ids in paths.

SoulSync 3.1.9 (``api/helpers.py``): every answer is ``{success, data, error: {code, message},
pagination}``; an unknown route gets Flask's HTML 404 page instead. Its 429 carries no Retry-After.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..client import parse_retry_after
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckConflictError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
)

RATE_LIMIT_RETRY_AFTER = 60.0
"""SoulSync's window is one minute and its 429 says nothing more, so a minute always suffices."""

Params = Mapping[str, str | int | float | None]


class SoulSyncAuthenticationError(PeerdeckAuthenticationError):
    """A missing (``AUTH_REQUIRED``) or wrong (``INVALID_KEY``) API key; keeps SoulSync's code."""

    def __init__(self, message: str, status: int, code: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class SoulSyncForbiddenError(PeerdeckForbiddenError):
    """A 403 other than a bad key (``FORBIDDEN``: bootstrap after a key exists); keeps the code."""

    def __init__(self, message: str, status: int, code: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def envelope_error(body: bytes) -> tuple[str | None, str] | None:
    """``(code, message)`` of an error envelope, or None when the body is not one (HTML pages)."""
    try:
        return error_of(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return None


def error_of(payload: Any) -> tuple[str | None, str] | None:
    """``(code, message)`` of a decoded envelope's ``error``, or None when it has none."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    error = payload["error"]
    code = error.get("code")
    return (str(code) if code is not None else None, str(error.get("message") or ""))


def path_segment(value: str | int) -> str:
    """One path segment, percent-encoded (ids may hold ``:`` or spaces, never ``/``).

    SoulSync's router decodes ``%2F`` before matching, so an id with a slash reaches no
    route and gets an HTML 405: refuse it here with a clear error instead.
    """
    text = str(value)
    if not text:
        raise PeerdeckInputError("an empty id was given")
    if "/" in text:
        raise PeerdeckInputError(f"SoulSync cannot take an id containing '/' in its API: {text!r}")
    return quote(text, safe="")


def library_id(value: int | str) -> str:
    """A library id for the path: SoulSync's are numeric text (``"12345"``), and it can fetch no other.

    Libraries read from Jellyfin or Navidrome hold ids like ``"a1b2c3"``; SoulSync lists
    them but answers 400 "must be an integer" to every look-up by such an id.
    """
    text = str(value).strip()
    if not text.isdigit():
        raise PeerdeckNotSupportedError(
            f"SoulSync's API can only fetch library entries with numeric ids; {text!r} is not one "
            "(a Jellyfin or Navidrome library id): search the library instead"
        )
    return text


def clean_params(params: Params | None) -> dict[str, str | int | float]:
    return {k: v for k, v in (params or {}).items() if v is not None}


def search_text(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise PeerdeckInputError("the search text is empty")
    return stripped


def raise_for_status(what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Raise the typed error for a failed answer (its envelope's code kept)."""
    parsed = envelope_error(body)
    if parsed is None and status == 404:
        raise PeerdeckNotSupportedError(
            f"{what}: SoulSync has no such route (it answered its HTML 404 page); "
            "this SoulSync version may not have it, or the URL has a wrong path prefix"
        )
    code, text = parsed if parsed is not None else (None, "")
    message = f"{what}: SoulSync answered {status}" + (f" {code}" if code else "") + (f": {text}" if text else "")
    if status == 401 or (status == 403 and code == "INVALID_KEY"):
        hint = "; create a key in SoulSync's Settings or with bootstrap_api_key" if status == 401 else ""
        raise SoulSyncAuthenticationError(message + hint, status, code)
    if status == 403:
        raise SoulSyncForbiddenError(message, status, code)
    if status == 404:
        raise PeerdeckNotFoundError(message, status, code)
    if status == 409:
        raise PeerdeckConflictError(message, status, code)
    if status == 429:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        raise PeerdeckRateLimitedError(message, RATE_LIMIT_RETRY_AFTER if retry_after is None else retry_after)
    if status >= 500:
        raise PeerdeckServerError(message, status, code)
    raise PeerdeckResponseError(message, status, code)
