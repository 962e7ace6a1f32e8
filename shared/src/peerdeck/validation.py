"""Checks on user input, done before anything is sent to a daemon."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from yarl import URL

from .exceptions import InvalidHashError, InvalidMagnetError, InvalidURLError

_HEX_HASH = re.compile(r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
_BASE32_BTIH = re.compile(r"^[A-Za-z2-7]{32}$")
_MAGNET_TOPIC = re.compile(r"^urn:(?:btih:(?:[0-9a-fA-F]{40}|[A-Za-z2-7]{32})|btmh:1220[0-9a-fA-F]{64})$")


def validate_info_hash(value: str) -> str:
    """Return the info-hash in lower case, or raise :class:`InvalidHashError`."""
    text = value.strip()
    if not _HEX_HASH.match(text):
        raise InvalidHashError(
            f"{_preview(value)!r} is not a torrent info-hash (expected 40 or 64 hexadecimal characters)"
        )
    return text.lower()


def validate_magnet(value: str) -> str:
    """Return the magnet link unchanged if it names a BitTorrent info-hash."""
    text = value.strip()
    if not text.lower().startswith("magnet:?"):
        raise InvalidMagnetError(f"{_preview(value)!r} is not a magnet link (it must start with 'magnet:?')")
    topics = parse_qs(urlsplit(text).query).get("xt", [])
    if not any(_MAGNET_TOPIC.match(topic) for topic in topics):
        raise InvalidMagnetError("the magnet link has no valid 'xt=urn:btih:' or 'xt=urn:btmh:' info-hash")
    return text


def validate_http_url(value: str) -> URL:
    """Parse an absolute http(s) URL with a host, or raise :class:`InvalidURLError`."""
    try:
        url = URL(value.strip())
    except (ValueError, TypeError) as err:
        raise InvalidURLError(f"{_preview(value)!r} is not a valid URL") from err
    if url.scheme not in ("http", "https") or not url.host:
        shown = str(url.with_user(None)) if url.is_absolute() else str(url)
        raise InvalidURLError(f"{_preview(shown)!r} is not an absolute http:// or https:// URL")
    return url


def _preview(value: str, limit: int = 80) -> str:
    """Shorten echoed input so a pasted blob does not flood an error message."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
