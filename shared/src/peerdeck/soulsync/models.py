"""Typed shapes of SoulSync's answers (3.1.x), read from the ``data`` of its envelope.

Only what callers act on is typed; every model keeps the daemon's record in ``raw`` so
fields added by later SoulSync versions stay reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import PeerdeckInvalidResponseError

JsonObject = dict[str, Any]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _album_name(value: Any) -> str | None:
    """A task's ``album_name``: a name, or an album object (``{album_type, name, …}``) in 3.1.9."""
    if isinstance(value, Mapping):
        return _str(value.get("name"))
    return _str(value)


def require_object(value: Any, what: str) -> JsonObject:
    """The ``data`` of an envelope as an object, or an error naming the route."""
    if not isinstance(value, dict):
        raise PeerdeckInvalidResponseError(f"{what}: SoulSync sent {type(value).__name__} where an object was expected")
    return value


def object_list(data: JsonObject, key: str, what: str) -> list[JsonObject]:
    """``data[key]`` as a list of objects (missing means empty), or an error naming the route."""
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise PeerdeckInvalidResponseError(f"{what}: SoulSync's {key!r} is not a list of objects")
    return items


@dataclass(frozen=True, slots=True)
class Pagination:
    """The envelope's ``pagination`` (1-based pages)."""

    page: int
    limit: int
    total: int
    total_pages: int
    has_next: bool
    has_prev: bool

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Pagination:
        """Read the envelope's pagination object."""
        return cls(
            page=_int(value.get("page"), 1),
            limit=_int(value.get("limit")),
            total=_int(value.get("total")),
            total_pages=_int(value.get("total_pages"), 1),
            has_next=bool(value.get("has_next")),
            has_prev=bool(value.get("has_prev")),
        )


@dataclass(frozen=True, slots=True)
class ApiResult:
    """One successful envelope: HTTP status, ``data`` and ``pagination``."""

    status: int
    data: Any
    pagination: Pagination | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing (library artists, albums, wishlist)."""

    items: tuple[JsonObject, ...]
    pagination: Pagination | None


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """``GET /system/status``. The ``services`` flags are not health checks (see the notes)."""

    uptime: str
    uptime_seconds: int
    services: Mapping[str, bool]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: JsonObject) -> SystemStatus:
        """Read ``data`` of ``/system/status``."""
        services = data.get("services")
        return cls(
            uptime=str(data.get("uptime", "")),
            uptime_seconds=_int(data.get("uptime_seconds")),
            services={str(k): bool(v) for k, v in services.items()} if isinstance(services, dict) else {},
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class SystemStats:
    """``GET /system/stats``: library counts, database and active downloads."""

    artists: int
    albums: int
    tracks: int
    database_size_mb: float | None
    database_last_update: str | None
    active_downloads: int
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: JsonObject) -> SystemStats:
        """Read ``data`` of ``/system/stats``."""
        library = data.get("library") or {}
        database = data.get("database") or {}
        downloads = data.get("downloads") or {}
        size = database.get("size_mb")
        return cls(
            artists=_int(library.get("artists")),
            albums=_int(library.get("albums")),
            tracks=_int(library.get("tracks")),
            database_size_mb=float(size) if isinstance(size, int | float) else None,
            database_last_update=_str(database.get("last_update")),
            active_downloads=_int(downloads.get("active")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class DownloadTask:
    """One SoulSync download task. ``id`` is SoulSync's task id, not slskd's transfer id."""

    id: str
    status: str
    track_name: str | None = None
    artist_name: str | None = None
    album_name: str | None = None
    username: str | None = None
    filename: str | None = None
    progress: float = 0.0
    """As SoulSync lists it: 0, also once the task is completed (3.1.9); the real progress is
    only in its web UI's internal routes, so 0 here means "unknown", not "not started"."""
    size: int | None = None
    """Null, also once the task is completed (3.1.9)."""
    error: str | None = None
    batch_id: str | None = None
    track_index: int | None = None
    retry_count: int = 0
    metadata_enhanced: bool = False
    status_change_time: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, item: JsonObject) -> DownloadTask:
        """Read one entry of ``data.downloads``."""
        progress = item.get("progress")
        return cls(
            id=str(item.get("id", "")),
            status=str(item.get("status") or ""),
            track_name=_str(item.get("track_name")),
            artist_name=_str(item.get("artist_name")),
            album_name=_album_name(item.get("album_name")),
            username=_str(item.get("username")),
            filename=_str(item.get("filename")),
            progress=float(progress) if isinstance(progress, int | float) else 0.0,
            size=_opt_int(item.get("size")),
            error=_str(item.get("error")),
            batch_id=_str(item.get("batch_id")),
            track_index=_opt_int(item.get("track_index")),
            retry_count=_int(item.get("retry_count")),
            metadata_enhanced=bool(item.get("metadata_enhanced")),
            status_change_time=item.get("status_change_time"),
            raw=item,
        )


@dataclass(frozen=True, slots=True)
class DownloadList:
    """One slice of ``GET /downloads`` (newest status change first) and the filtered total."""

    downloads: tuple[DownloadTask, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class MusicRequest:
    """A "find and download" request (``POST /request``, ``GET /request/{id}``)."""

    request_id: str
    query: str
    status: str
    """queued, searching, downloading, not_found or failed."""
    download_id: str | None = None
    error: str | None = None
    completed_at: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> MusicRequest:
        """Read the request record."""
        return cls(
            request_id=str(data.get("request_id", "")),
            query=str(data.get("query", "")),
            status=str(data.get("status", "")),
            download_id=_str(data.get("download_id")),
            error=_str(data.get("error")),
            completed_at=_str(data.get("completed_at")),
        )


@dataclass(frozen=True, slots=True)
class MetadataResults:
    """Hits of a catalogue search and the catalogue that answered (deezer, spotify, itunes …)."""

    items: tuple[JsonObject, ...]
    source: str


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """A stored API key as listed: never the key itself, only its prefix."""

    id: str
    label: str
    key_prefix: str
    created_at: str | None = None
    last_used_at: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> ApiKeyInfo:
        """Read one entry of ``data.keys``."""
        return cls(
            id=str(data.get("id", "")),
            label=str(data.get("label", "")),
            key_prefix=str(data.get("key_prefix", "")),
            created_at=_str(data.get("created_at")),
            last_used_at=_str(data.get("last_used_at")),
        )


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly generated key; SoulSync shows ``key`` this once and stores only its hash."""

    key: str = field(repr=False)
    id: str = ""
    label: str = ""
    key_prefix: str = ""
    created_at: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> NewApiKey:
        """Read ``data`` of ``POST /api-keys`` or ``/api-keys/bootstrap``."""
        key = data.get("key")
        if not isinstance(key, str) or not key:
            raise PeerdeckInvalidResponseError("SoulSync did not return the new API key")
        return cls(
            key=key,
            id=str(data.get("id", "")),
            label=str(data.get("label", "")),
            key_prefix=str(data.get("key_prefix", "")),
            created_at=_str(data.get("created_at")),
        )


@dataclass(frozen=True, slots=True)
class WishlistAdded:
    """What ``POST /wishlist`` did: ``created`` (or updated), and the entry as SoulSync stored it."""

    created: bool
    track_id: str
    """The key SoulSync filed the track under (the catalogue id, or ``<id>::<album>``)."""
    track: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_result(cls, data: Any, status: int, sent: Mapping[str, Any]) -> WishlistAdded:
        """Read ``data`` of the answer; the sent track's id stands in when no entry came back."""
        body = data if isinstance(data, dict) else {}
        created = body.get("created")
        stored = body.get("track")
        track: JsonObject = stored if isinstance(stored, dict) else {}
        track_id = track.get("track_id") or track.get("spotify_track_id") or sent.get("id") or ""
        return cls(
            created=created if isinstance(created, bool) else status == 201,
            track_id=str(track_id),
            track=track,
        )
