"""Checks on user input, done before anything is sent to a daemon.

Every text a user can hand to a daemon has a size limit, checked before it is parsed, so a
pasted blob is refused at once instead of being sent, half-kept (qBittorrent silently drops a
1 MB category) or echoed into events. The limits are generous for real use; docs/reliability.md
lists them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from typing import Final
from urllib.parse import parse_qs, urlsplit

from yarl import URL

from .exceptions import (
    InputLimitError,
    InvalidHashError,
    InvalidMagnetError,
    InvalidTextError,
    InvalidURLError,
    PeerdeckInputError,
)
from .models import EnqueueOptions, EnqueueTarget, Magnet, TextRequest, TorrentFile, TorrentUrl

MAX_MAGNET_LENGTH: Final = 16_384
"""Characters of a whole magnet link (a hash, a name and a hundred trackers fit easily)."""
MAX_MAGNET_NAME_LENGTH: Final = 1_024
"""Characters of a magnet's display name (``dn``); file systems stop at 255 bytes anyway."""
MAX_MAGNET_TRACKERS: Final = 100
"""Trackers (``tr``) in one magnet link."""
MAX_URL_LENGTH: Final = 8_192
"""Characters of a URL (most web servers refuse longer request lines)."""
MAX_PATH_LENGTH: Final = 4_096
"""Characters of a path (Linux's PATH_MAX)."""
MAX_LABEL_LENGTH: Final = 255
"""Characters of a category or a tag."""
MAX_TAGS: Final = 50
"""Tags given to one download."""
MAX_QUERY_LENGTH: Final = 512
"""Characters of a search query."""
MAX_TEXT_REQUEST_LENGTH: Final = 1_024
"""Characters of a free-text download request."""
MAX_TORRENT_FILE_SIZE: Final = 16 * 1024 * 1024
"""Bytes of a .torrent file (large torrents' files are a few MB)."""
MAX_IDS: Final = 10_000
"""Transfer ids in one action."""
MAX_ID_LENGTH: Final = 256
"""Characters of one transfer id."""

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
    """Return the magnet link unchanged if it names a BitTorrent info-hash, within the size limits."""
    text = validate_text(value, field="magnet", limit=MAX_MAGNET_LENGTH).strip()
    if not text.lower().startswith("magnet:?"):
        raise InvalidMagnetError(f"{_preview(value)!r} is not a magnet link (it must start with 'magnet:?')")
    params = parse_qs(urlsplit(text).query)
    if not any(_MAGNET_TOPIC.match(topic) for topic in params.get("xt", [])):
        raise InvalidMagnetError("the magnet link has no valid 'xt=urn:btih:' or 'xt=urn:btmh:' info-hash")
    for name in params.get("dn", []):
        validate_text(name, field="magnet name", limit=MAX_MAGNET_NAME_LENGTH)
    validate_count(params.get("tr", []), field="magnet trackers", limit=MAX_MAGNET_TRACKERS)
    return text


def validate_http_url(value: str) -> URL:
    """Parse an absolute http(s) URL with a host, or raise :class:`InvalidURLError`."""
    validate_text(value, field="url", limit=MAX_URL_LENGTH)
    try:
        url = URL(value.strip())
    except (ValueError, TypeError) as err:
        raise InvalidURLError(f"{_preview(value)!r} is not a valid URL") from err
    if url.scheme not in ("http", "https") or not url.host:
        shown = str(url.with_user(None)) if url.is_absolute() else str(url)
        raise InvalidURLError(f"{_preview(shown)!r} is not an absolute http:// or https:// URL")
    return url


def validate_text(value: str, *, field: str, limit: int) -> str:
    """Return ``value`` if it has at most ``limit`` characters and no control characters.

    Lone surrogates (which cannot be sent as UTF-8) count as control characters.
    """
    if len(value) > limit:
        raise InputLimitError(f"{field} is longer than {limit:,} characters", field=field, limit=limit)
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise InvalidTextError(f"{field} contains control characters", field=field)
    return value


def validate_count(values: Collection[object], *, field: str, limit: int) -> None:
    """Refuse more than ``limit`` values."""
    if len(values) > limit:
        raise InputLimitError(
            f"{field}: at most {limit:,} values, not {len(values):,}", field=field, limit=limit, unit="values"
        )


def validate_path(value: str, *, field: str = "save_path") -> str:
    """A path within the size limit, without control characters or ``..`` steps (say the folder itself)."""
    validate_text(value, field=field, limit=MAX_PATH_LENGTH)
    if ".." in re.split(r"[/\\]", value):
        raise InvalidTextError(f"{field} may not contain '..' steps", field=field)
    return value


def validate_label(value: str, *, field: str) -> str:
    """A category or tag: at most :data:`MAX_LABEL_LENGTH` characters, without control characters."""
    return validate_text(value, field=field, limit=MAX_LABEL_LENGTH)


def validate_enqueue_options(options: EnqueueOptions) -> None:
    """Check where and how to enqueue before anything is sent (nothing is half-applied)."""
    if options.save_path is not None:
        validate_path(options.save_path)
    if options.category is not None:
        validate_label(options.category, field="category")
    validate_count(options.tags, field="tags", limit=MAX_TAGS)
    for tag in options.tags:
        if "," in validate_label(tag, field="tags"):
            # qBittorrent splits tags at commas: "a,b" would become two tags.
            raise InvalidTextError("a tag may not contain a comma", field="tags")


def validate_enqueue_target(target: EnqueueTarget) -> None:
    """Check what to download against the size limits, whatever the daemon."""
    if isinstance(target, Magnet):
        validate_magnet(target.uri)
    elif isinstance(target, TorrentUrl):
        validate_http_url(target.url)
    elif isinstance(target, TextRequest):
        if not validate_text(target.query, field="text", limit=MAX_TEXT_REQUEST_LENGTH).strip():
            raise PeerdeckInputError("the text request is empty")
    elif isinstance(target, TorrentFile) and len(target.content) > MAX_TORRENT_FILE_SIZE:
        raise InputLimitError(
            f"the .torrent file is larger than {MAX_TORRENT_FILE_SIZE:,} bytes",
            field="torrent_file",
            limit=MAX_TORRENT_FILE_SIZE,
            unit="bytes",
        )


def validate_ids(ids: Sequence[str]) -> list[str]:
    """Transfer ids an action names: at most :data:`MAX_IDS`, each within :data:`MAX_ID_LENGTH`."""
    validate_count(ids, field="ids", limit=MAX_IDS)
    return [validate_text(transfer_id, field="ids", limit=MAX_ID_LENGTH) for transfer_id in ids]


def validate_query(value: str) -> str:
    """A search query within :data:`MAX_QUERY_LENGTH` characters."""
    return validate_text(value, field="query", limit=MAX_QUERY_LENGTH)


def _preview(value: str, limit: int = 80) -> str:
    """Shorten echoed input so a pasted blob does not flood an error message."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
