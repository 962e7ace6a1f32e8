"""Which wishlist tracks SoulSync is downloading already, and how it will batch the others.

SoulSync 3.1.9 keeps no guard against a second manual wishlist run: each run downloads every
track it is given, also one an earlier run is still downloading (a track leaves the wishlist
only once its download completed). So before a run the backend leaves out every track that
already has an unfinished task, and hands SoulSync only the rest by ``track_ids``.

A run groups its tracks by album (``core/wishlist/album_grouping.py``): an album with at
least ``wishlist.album_bundle_min_tracks`` (default 2) of them is searched as a whole first,
and its tasks appear only when that search ends (45 to 47 s measured); every other track is
searched on its own and its task appears at once.

A run of the whole wishlist leaves out tracks whose album is announced but not out yet (a
watchlist scan adds them; ``core/metadata/release_dates.py``), but a ``track_ids`` selection
overrides that, so the backend leaves them out itself when it runs the wishlist for the user.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .models import DownloadTask

FINISHED_STATUSES = frozenset({"completed", "failed", "not_found", "cancelled"})
"""Task statuses after which SoulSync does nothing more for the track (any other is still going)."""

DEFAULT_ALBUM_BUNDLE_MIN_TRACKS = 2
"""SoulSync's ``_DEFAULT_ALBUM_BUNDLE_MIN_TRACKS`` (``core/wishlist/processing.py``)."""


def unfinished(task: DownloadTask) -> bool:
    """True while SoulSync is still working on the task (queued, searching, downloading …)."""
    return task.status not in FINISHED_STATUSES


@dataclass(frozen=True, slots=True)
class WishlistTrack:
    """One wishlist entry as far as matching and batching need it."""

    track_id: str
    """The key SoulSync filed it under; what ``track_ids`` of a run takes."""
    name: str
    artists: tuple[str, ...]
    album_key: str | None
    """SoulSync's album grouping key, None when the track cannot join an album search."""
    album_name: str = ""
    release_date: str = ""
    """The album's release date as the catalogue gave it (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> WishlistTrack:
        """Read one item of ``GET /wishlist``."""
        track_id = entry.get("track_id") or entry.get("spotify_track_id") or entry.get("id") or ""
        return cls.from_track_data(str(track_id), _track_data(entry), fallback_name=str(entry.get("track_name") or ""))

    @classmethod
    def from_track_data(cls, track_id: str, data: Mapping[str, Any], *, fallback_name: str = "") -> WishlistTrack:
        """A track from its catalogue data (``track_data``), filed under ``track_id``."""
        artists = tuple(name for name in (_artist_name(a) for a in data.get("artists") or ()) if name)
        album = data.get("album")
        album_key: str | None = None
        album_name = ""
        release_date = str(data.get("release_date") or "")
        if isinstance(album, Mapping):
            release_date = str(album.get("release_date") or release_date)
            album_name = str(album.get("name") or "").strip()
            album_id = album.get("id")
            if isinstance(album_id, str) and album_id.strip():
                album_key = album_id.strip()
            elif album_name:
                album_key = f"_name_{album_name.lower()}"
        return cls(
            track_id=track_id,
            name=str(data.get("name") or fallback_name),
            artists=artists,
            album_key=album_key,
            album_name=album_name,
            release_date=release_date,
        )

    def matches(self, task: DownloadTask) -> bool:
        """True when the task downloads this track (SoulSync lists its name and first artist)."""
        if (task.track_name or "").strip().casefold() != self.name.strip().casefold():
            return False
        artist = (task.artist_name or "").strip().casefold()
        names = {a.casefold() for a in self.artists}
        return not artist or not names or artist in names or artist == ", ".join(self.artists).casefold()


def is_future_release(text: str, today: date | None = None) -> bool:
    """True only when the date is surely after today at its precision (SoulSync's ``is_future_release``).

    Missing or unreadable dates count as released, and so does a release dated today.
    """
    today = today or datetime.now().astimezone().date()  # SoulSync's local day
    parts = text.strip().split("-")
    try:
        year = int(parts[0])
    except ValueError:
        return False
    try:
        month = int(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError:
        month = None
    if month is None or not 1 <= month <= 12:
        return year > today.year
    try:
        day = int(parts[2][:2]) if len(parts) > 2 and parts[2] else None
    except ValueError:
        day = None
    if day is None:
        return (year, month) > (today.year, today.month)
    try:
        return date(year, month, day) > today
    except ValueError:
        return (year, month) > (today.year, today.month)


def same_track(one: WishlistTrack, other: WishlistTrack) -> bool:
    """The same song by name and an artist in common (how SoulSync spots a duplicate wishlist entry)."""
    if one.name.strip().casefold() != other.name.strip().casefold():
        return False
    return (
        not one.artists
        or not other.artists
        or bool({a.casefold() for a in one.artists} & {a.casefold() for a in other.artists})
    )


def album_groups(
    tracks: Iterable[WishlistTrack], min_tracks: int
) -> tuple[dict[str, list[WishlistTrack]], list[WishlistTrack]]:
    """SoulSync's batching of one run: album searches (by album name) and the per-track rest."""
    buckets: dict[str, list[WishlistTrack]] = {}
    residual: list[WishlistTrack] = []
    for track in tracks:
        if track.album_key is None:
            residual.append(track)
        else:
            buckets.setdefault(track.album_key, []).append(track)
    albums: dict[str, list[WishlistTrack]] = {}
    for group in buckets.values():
        if len(group) >= min_tracks:
            albums[group[0].album_name] = group
        else:
            residual.extend(group)
    return albums, residual


def _track_data(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    data = entry.get("track_data") or entry.get("spotify_data") or {}
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = {}
    return data if isinstance(data, Mapping) else {}


def _artist_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or "").strip()
    return str(value or "").strip()
