"""Filters over search hits that a Soulseek user expects (a format, a minimum bit rate).

They work on any daemon's hits; what a hit does not say (no extension, no bit rate) is judged
by what it does say, so a filter never keeps a hit only because a field is missing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .exceptions import PeerdeckInputError
from .models import SearchHit

LOSSLESS = frozenset({"flac", "wav", "alac", "ape", "aiff", "aif", "wv"})
"""Lossless formats: they carry no bit rate and pass any minimum."""

MAX_BITRATE = 10_000
"""kbit/s; above any lossy format, so a larger minimum is a typo."""


def hit_formats(hit: SearchHit) -> tuple[str, ...]:
    """The file extensions of a hit, lower case: a folder's formats, or the file's own."""
    if hit.folder is not None:
        return hit.folder.formats
    _, dot, extension = hit.title.rpartition(".")
    return (extension.lower(),) if dot and extension and " " not in extension else ()


def normalise_formats(formats: Iterable[str]) -> frozenset[str]:
    """``["FLAC", ".mp3"]`` → ``{"flac", "mp3"}``; an empty or odd name is refused."""
    wanted: set[str] = set()
    for item in formats:
        name = item.strip().lstrip(".").lower()
        if not name or not name.isalnum() or len(name) > 8:
            raise PeerdeckInputError(f"{item!r} is not a file format (give an extension such as flac or mp3)")
        wanted.add(name)
    return frozenset(wanted)


def filter_hits(
    hits: Iterable[SearchHit], *, formats: Collection[str] = (), min_bitrate: int | None = None
) -> list[SearchHit]:
    """The hits in one of ``formats`` (any when empty) and at least ``min_bitrate`` kbit/s.

    A folder passes when it holds one of the formats, and when its lowest bit rate reaches the
    minimum; a file or folder without any bit rate passes only if it holds lossless audio.
    """
    wanted = normalise_formats(formats)
    if min_bitrate is not None and not 0 < min_bitrate <= MAX_BITRATE:
        raise PeerdeckInputError(f"a minimum bit rate is between 1 and {MAX_BITRATE} kbit/s")
    kept: list[SearchHit] = []
    for hit in hits:
        found = hit_formats(hit)
        if wanted and not wanted.intersection(found):
            continue
        if min_bitrate is not None and not _fast_enough(hit, found, min_bitrate):
            continue
        kept.append(hit)
    return kept


def _fast_enough(hit: SearchHit, found: tuple[str, ...], minimum: int) -> bool:
    lowest = hit.folder.bitrate_min if hit.folder is not None else hit.bitrate
    if lowest is not None:
        return lowest >= minimum
    return bool(LOSSLESS.intersection(found))  # no bit rate: only lossless audio says nothing and passes
