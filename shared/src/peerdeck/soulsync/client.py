"""Async client for SoulSync's public REST API (``/api/v1``, SoulSync 3.1.x).

Every route is a method named after it; :meth:`SoulSyncClient.call` reaches any other.
What the daemon does that callers must know (``../shared/reference/backend-apis.md`` §2):

* Auth is an ``sk_`` key, as ``Authorization: Bearer`` or ``?api_key=``; no key is a 401
  ``AUTH_REQUIRED``, a wrong one a 403 ``INVALID_KEY``. The first key comes from
  :meth:`SoulSyncClient.bootstrap_api_key`, which needs no key and works only while none exist.
* Every answer is an envelope ``{success, data, error: {code, message}, pagination}``;
  errors become typed exceptions that keep ``code``. An unknown route gets Flask's HTML
  404 instead, reported as :class:`PeerdeckNotSupportedError`.
* 60 requests per minute per IP, then a 429 without Retry-After: a shared
  :class:`RateLimiter` keeps calls under the limit, and a 429 that still happens (another
  client on the host) becomes :class:`PeerdeckRateLimitedError` with ``retry_after`` 60 s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from ..client import DEFAULT_TIMEOUT, HttpClient, parse_retry_after
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckConflictError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
)
from .models import (
    ApiKeyInfo,
    ApiResult,
    DownloadList,
    DownloadTask,
    JsonObject,
    MetadataResults,
    MusicRequest,
    NewApiKey,
    Page,
    Pagination,
    SystemStats,
    SystemStatus,
    object_list,
    require_object,
)
from .ratelimit import RateLimiter

RATE_LIMIT_RETRY_AFTER = 60.0
"""SoulSync's window is one minute and its 429 says nothing more, so a minute always suffices."""

DOWNLOADS_PAGE_LIMIT = 500
"""The largest page ``GET /downloads`` serves."""

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


def _segment(value: str | int) -> str:
    """One path segment, percent-encoded (ids may hold ``/`` or ``:``)."""
    text = str(value)
    if not text:
        raise PeerdeckInputError("an empty id was given")
    return quote(text, safe="")


def _clean(params: Params | None) -> dict[str, str | int | float]:
    return {k: v for k, v in (params or {}).items() if v is not None}


def _query(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise PeerdeckInputError("the search text is empty")
    return stripped


class SoulSyncClient(HttpClient):
    """Every SoulSync ``/api/v1`` route as a typed coroutine."""

    daemon_name = "SoulSync"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        key_in_query: bool = False,
        profile_id: int | None = None,
        rate_limiter: RateLimiter | None = None,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """``key_in_query`` sends the key as ``?api_key=`` (for proxies that strip Authorization);
        ``profile_id`` scopes wishlist, watchlist and discover (``X-Profile-Id``); pass one
        ``rate_limiter`` to several clients of the same SoulSync so they share its budget.
        """
        super().__init__(url, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)
        self.api_key = api_key
        self.key_in_query = key_in_query
        self.profile_id = profile_id
        self.rate_limiter = rate_limiter if rate_limiter is not None else RateLimiter()

    # ------------------------------------------------------------------ plumbing

    def _auth_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.api_key and not self.key_in_query:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.profile_id is not None:
            headers["X-Profile-Id"] = str(self.profile_id)
        return headers

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
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

    async def call(
        self,
        method: str,
        route: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
    ) -> ApiResult:
        """Call ``/api/v1/<route>`` (already percent-encoded) through the limiter; unwrap the envelope."""
        query = _clean(params)
        if self.api_key and self.key_in_query:
            query["api_key"] = self.api_key
        await self.rate_limiter.acquire()
        path = f"api/v1/{route.lstrip('/')}"
        reply = await self._request(method, path, params=query or None, json_body=json_body, decode="json")
        what = self._describe(method, path)
        envelope = reply.data
        if not isinstance(envelope, dict) or "success" not in envelope:
            raise PeerdeckInvalidResponseError(f"{what}: SoulSync's answer is not its usual envelope")
        if envelope.get("success") is not True:
            code, text = error_of(envelope) or (None, "")
            raise PeerdeckResponseError(f"{what}: SoulSync reported a failure: {text or code}", reply.status, code)
        pagination = envelope.get("pagination")
        return ApiResult(
            status=reply.status,
            data=envelope.get("data"),
            pagination=Pagination.from_json(pagination) if isinstance(pagination, dict) else None,
        )

    async def _object(
        self, method: str, route: str, *, params: Params | None = None, json_body: Any = None
    ) -> JsonObject:
        result = await self.call(method, route, params=params, json_body=json_body)
        return require_object(result.data, f"{method} /api/v1/{route}")

    async def _list(self, route: str, key: str, *, params: Params | None = None) -> list[JsonObject]:
        data = await self._object("GET", route, params=params)
        return object_list(data, key, f"GET /api/v1/{route}")

    async def _page(self, route: str, key: str, params: Params) -> Page:
        result = await self.call("GET", route, params=params)
        data = require_object(result.data, f"GET /api/v1/{route}")
        return Page(tuple(object_list(data, key, f"GET /api/v1/{route}")), result.pagination)

    @staticmethod
    def _fields(fields: Sequence[str] | None) -> str | None:
        return ",".join(fields) if fields else None

    # ------------------------------------------------------------------ system

    async def system_status(self) -> SystemStatus:
        """Uptime and the ``services`` flags (``spotify``/``soulseek`` are always true: not health checks)."""
        return SystemStatus.from_json(await self._object("GET", "system/status"))

    async def system_activity(self) -> list[JsonObject]:
        """The recent activity feed."""
        return await self._list("system/activity", "activities")

    async def system_stats(self) -> SystemStats:
        """Library counts, database size and the number of active downloads."""
        return SystemStats.from_json(await self._object("GET", "system/stats"))

    # ------------------------------------------------------------------ search (metadata catalogues)

    async def _search(self, kind: str, body: JsonObject) -> MetadataResults:
        result = await self.call("POST", f"search/{kind}", json_body=body)
        data = require_object(result.data, f"POST /api/v1/search/{kind}")
        items = object_list(data, kind, f"POST /api/v1/search/{kind}")
        return MetadataResults(tuple(items), str(data.get("source", "")))

    async def search_tracks(self, query: str, *, source: str = "auto", limit: int = 20) -> MetadataResults:
        """Tracks from the metadata catalogues (not Soulseek); ``source``: auto, spotify, itunes, deezer."""
        return await self._search("tracks", {"query": _query(query), "source": source, "limit": limit})

    async def search_albums(self, query: str, *, limit: int = 20) -> MetadataResults:
        """Albums from the primary metadata catalogue."""
        return await self._search("albums", {"query": _query(query), "limit": limit})

    async def search_artists(self, query: str, *, limit: int = 20) -> MetadataResults:
        """Artists from the primary metadata catalogue."""
        return await self._search("artists", {"query": _query(query), "limit": limit})

    # ------------------------------------------------------------------ downloads

    async def downloads(
        self, *, statuses: Sequence[str] | None = None, limit: int = 100, offset: int = 0
    ) -> DownloadList:
        """One slice of the download tasks, newest status change first; ``statuses`` filters."""
        params: Params = {"status": ",".join(statuses) if statuses else None, "limit": limit, "offset": offset}
        data = await self._object("GET", "downloads", params=params)
        tasks = object_list(data, "downloads", "GET /api/v1/downloads")
        return DownloadList(
            downloads=tuple(DownloadTask.from_json(t) for t in tasks),
            total=int(data.get("total") or 0),
            limit=int(data.get("limit") or limit),
            offset=int(data.get("offset") or 0),
        )

    async def all_downloads(self, *, statuses: Sequence[str] | None = None) -> list[DownloadTask]:
        """Every download task, fetched in pages of 500."""
        tasks: list[DownloadTask] = []
        seen: set[str] = set()
        offset = 0
        while True:
            page = await self.downloads(statuses=statuses, limit=DOWNLOADS_PAGE_LIMIT, offset=offset)
            # The order moves while we page (newest change first); skip a task seen twice.
            tasks.extend(t for t in page.downloads if t.id not in seen)
            seen.update(t.id for t in page.downloads)
            offset += len(page.downloads)
            if not page.downloads or offset >= page.total:
                return tasks

    async def cancel_download(self, download_id: str, username: str) -> None:
        """Cancel one download at its source.

        SoulSync 3.1.x hands ``download_id`` to the source plugin as the *slskd transfer id*
        (routed by ``username``); the task ids of :meth:`downloads` do not work here and
        give a 500 ``CANCEL_FAILED``. Use the slskd transfer id (from slskd itself).
        """
        if not username:
            raise PeerdeckInputError("SoulSync needs the Soulseek username of the download to cancel it")
        await self.call("POST", f"downloads/{_segment(download_id)}/cancel", json_body={"username": username})

    async def cancel_all_downloads(self) -> None:
        """Cancel every active download and clear the finished ones (needs slskd reachable)."""
        await self.call("POST", "downloads/cancel-all")

    # ------------------------------------------------------------------ request ("find and download")

    async def request(
        self, query: str, *, notify_url: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> MusicRequest:
        """Ask SoulSync to find and download ``query`` in the background.

        SoulSync 3.1.9 answers this with a 500 ``INTERNAL_ERROR`` although the job was
        queued (its id is lost); this method reports that answer as it is. The backend's
        ``enqueue`` works around it by watching ``/downloads``.
        """
        body: JsonObject = {"query": _query(query)}
        if notify_url:
            body["notify_url"] = notify_url
        if metadata:
            body["metadata"] = dict(metadata)
        return MusicRequest.from_json(await self._object("POST", "request", json_body=body))

    async def request_status(self, request_id: str) -> MusicRequest:
        """A request's progress; SoulSync forgets requests after an hour (then 404)."""
        return MusicRequest.from_json(await self._object("GET", f"request/{_segment(request_id)}"))

    # ------------------------------------------------------------------ wishlist

    async def wishlist(
        self, *, category: str | None = None, page: int = 1, limit: int = 50, fields: Sequence[str] | None = None
    ) -> Page:
        """Wishlist tracks (``category``: singles or albums) of the client's profile."""
        params: Params = {"category": category, "page": page, "limit": limit, "fields": self._fields(fields)}
        return await self._page("wishlist", "tracks", params)

    async def add_to_wishlist(
        self,
        track_data: Mapping[str, Any],
        *,
        failure_reason: str | None = None,
        source_type: str = "api",
        quality_profile_id: int | None = None,
    ) -> bool:
        """Add a track (catalogue shape: id, name, artists …); True when new, False when updated.

        An exact duplicate is a :class:`PeerdeckConflictError` (409 ``CONFLICT``).
        """
        if not track_data:
            raise PeerdeckInputError("the wishlist entry has no track data")
        body: JsonObject = {"track_data": dict(track_data), "source_type": source_type}
        if failure_reason is not None:
            body["failure_reason"] = failure_reason
        if quality_profile_id is not None:
            body["quality_profile_id"] = quality_profile_id
        result = await self.call("POST", "wishlist", json_body=body)
        return result.status == 201

    async def remove_from_wishlist(self, track_id: str) -> None:
        """Remove a track by its catalogue id (404 ``NOT_FOUND`` when absent)."""
        await self.call("DELETE", f"wishlist/{_segment(track_id)}")

    async def process_wishlist(self) -> None:
        """Start downloading the wishlist (409 ``CONFLICT`` when a run is already going)."""
        await self.call("POST", "wishlist/process")

    # ------------------------------------------------------------------ watchlist

    async def watchlist(self, *, fields: Sequence[str] | None = None) -> list[JsonObject]:
        """Artists watched for new releases by the client's profile."""
        return await self._list("watchlist", "artists", params={"fields": self._fields(fields)})

    async def add_to_watchlist(self, artist_id: str, artist_name: str) -> None:
        """Watch an artist (catalogue id and name)."""
        if not artist_id or not artist_name:
            raise PeerdeckInputError("watching an artist needs its id and its name")
        await self.call("POST", "watchlist", json_body={"artist_id": artist_id, "artist_name": artist_name})

    async def remove_from_watchlist(self, artist_id: str) -> None:
        """Stop watching an artist."""
        await self.call("DELETE", f"watchlist/{_segment(artist_id)}")

    async def update_watchlist_artist(self, artist_id: str, filters: Mapping[str, bool]) -> JsonObject:
        """Change which release types are watched (``include_albums``, ``include_live`` …)."""
        if not filters:
            raise PeerdeckInputError("no watchlist filters given")
        return await self._object("PATCH", f"watchlist/{_segment(artist_id)}", json_body=dict(filters))

    async def scan_watchlist(self) -> None:
        """Look for new releases now (409 ``CONFLICT`` when a scan is running)."""
        await self.call("POST", "watchlist/scan")

    # ------------------------------------------------------------------ library

    async def library_artists(
        self,
        *,
        search: str | None = None,
        letter: str | None = None,
        page: int = 1,
        limit: int = 50,
        watchlist: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> Page:
        """Library artists; ``letter`` a-z or ``#``, ``watchlist`` all, watched or unwatched."""
        params: Params = {
            "search": search,
            "letter": letter,
            "page": page,
            "limit": limit,
            "watchlist": watchlist,
            "fields": self._fields(fields),
        }
        return await self._page("library/artists", "artists", params)

    async def library_artist(self, artist_id: int) -> JsonObject:
        """``{artist, albums}`` of one library artist."""
        return await self._object("GET", f"library/artists/{_segment(artist_id)}")

    async def library_artist_albums(self, artist_id: int) -> list[JsonObject]:
        """Albums of one library artist."""
        return await self._list(f"library/artists/{_segment(artist_id)}/albums", "albums")

    async def library_albums(
        self,
        *,
        search: str | None = None,
        artist_id: int | None = None,
        year: int | None = None,
        page: int = 1,
        limit: int = 50,
    ) -> Page:
        """Library albums, optionally by artist or year."""
        params: Params = {"search": search, "artist_id": artist_id, "year": year, "page": page, "limit": limit}
        return await self._page("library/albums", "albums", params)

    async def library_album(self, album_id: int) -> JsonObject:
        """``{album, tracks}`` of one library album."""
        return await self._object("GET", f"library/albums/{_segment(album_id)}")

    async def library_album_tracks(self, album_id: int) -> list[JsonObject]:
        """Tracks of one library album."""
        return await self._list(f"library/albums/{_segment(album_id)}/tracks", "tracks")

    async def library_tracks(
        self, *, title: str | None = None, artist: str | None = None, limit: int = 50
    ) -> list[JsonObject]:
        """Library tracks matching a title and/or an artist (one of them is required)."""
        if not title and not artist:
            raise PeerdeckInputError("give a title or an artist to look for")
        return await self._list("library/tracks", "tracks", params={"title": title, "artist": artist, "limit": limit})

    async def library_track(self, track_id: int) -> JsonObject:
        """One library track."""
        data = await self._object("GET", f"library/tracks/{_segment(track_id)}")
        return require_object(data.get("track"), "GET /api/v1/library/tracks/{id}")

    async def library_genres(self, *, source: str = "artists") -> list[JsonObject]:
        """Genres with counts, from ``artists`` or ``albums``."""
        return await self._list("library/genres", "genres", params={"source": source})

    async def library_recently_added(self, *, kind: str = "albums", limit: int = 50) -> list[JsonObject]:
        """Newest library entries; ``kind`` albums, artists or tracks."""
        return await self._list("library/recently-added", "items", params={"type": kind, "limit": limit})

    async def library_lookup(self, kind: str, provider: str, external_id: str) -> JsonObject:
        """The library artist, album or track with a catalogue id (``provider``: spotify, deezer …)."""
        params = {"type": kind, "provider": provider, "id": external_id}
        data = await self._object("GET", "library/lookup", params=params)
        return require_object(data.get(kind), "GET /api/v1/library/lookup")

    async def library_stats(self) -> JsonObject:
        """Artist, album and track counts and database information."""
        return await self._object("GET", "library/stats")

    # ------------------------------------------------------------------ playlists

    async def playlists(self, *, source: str = "spotify") -> list[JsonObject]:
        """The user's playlists at ``source`` (spotify or tidal)."""
        return await self._list("playlists", "playlists", params={"source": source})

    async def playlist(self, playlist_id: str) -> JsonObject:
        """One playlist with its tracks."""
        return await self._object("GET", f"playlists/{_segment(playlist_id)}")

    async def sync_playlist(
        self, playlist_id: str, *, playlist_name: str, tracks: Sequence[Mapping[str, Any]]
    ) -> JsonObject:
        """Start syncing (downloading what is missing of) a playlist."""
        body = {"playlist_name": playlist_name, "tracks": [dict(t) for t in tracks]}
        return await self._object("POST", f"playlists/{_segment(playlist_id)}/sync", json_body=body)

    # ------------------------------------------------------------------ settings and keys

    async def settings(self) -> JsonObject:
        """Current settings, secrets redacted by SoulSync."""
        data = await self._object("GET", "settings")
        return require_object(data.get("settings"), "GET /api/v1/settings")

    async def update_settings(self, changes: Mapping[str, Any]) -> list[str]:
        """Set dotted keys (``soulseek.search_timeout``); returns the keys SoulSync wrote.

        SoulSync silently skips ``api_keys``; manage keys with the api-key methods.
        """
        if not changes:
            raise PeerdeckInputError("no settings given")
        data = await self._object("PATCH", "settings", json_body=dict(changes))
        return [str(k) for k in data.get("updated_keys") or []]

    async def api_keys(self) -> list[ApiKeyInfo]:
        """The stored keys (label and prefix; SoulSync never returns a key twice)."""
        return [ApiKeyInfo.from_json(k) for k in await self._list("api-keys", "keys")]

    async def create_api_key(self, label: str = "") -> NewApiKey:
        """A new key; keep ``key`` now, SoulSync stores only its hash."""
        return NewApiKey.from_json(await self._object("POST", "api-keys", json_body={"label": label}))

    async def revoke_api_key(self, key_id: str) -> None:
        """Delete a key by its id (404 ``NOT_FOUND`` when unknown)."""
        await self.call("DELETE", f"api-keys/{_segment(key_id)}")

    async def bootstrap_api_key(self, label: str = "Peerdeck", *, use_it: bool = True) -> NewApiKey:
        """The first key of a fresh SoulSync, without a key; ``use_it`` makes this client use it.

        SoulSync refuses (403 ``FORBIDDEN``) once any key exists.
        """
        try:
            key = NewApiKey.from_json(await self._object("POST", "api-keys/bootstrap", json_body={"label": label}))
        except SoulSyncForbiddenError as err:
            raise SoulSyncForbiddenError(
                "SoulSync already has an API key, so it refuses to bootstrap another; create one in its "
                "Settings (SoulSync API) or with create_api_key using an existing key",
                err.status,
                err.code,
            ) from err
        if use_it:
            self.api_key = key.key
        return key

    # ------------------------------------------------------------------ discover

    async def discover_pool(self) -> JsonObject:
        """The discovery pool of the client's profile."""
        return await self._object("GET", "discover/pool")

    async def discover_pool_metadata(self) -> JsonObject:
        """When and from what the discovery pool was built."""
        return await self._object("GET", "discover/pool/metadata")

    async def discover_similar_artists(self) -> JsonObject:
        """Artists similar to the library's."""
        return await self._object("GET", "discover/similar-artists")

    async def discover_recent_releases(self) -> JsonObject:
        """Recent releases of watched and library artists."""
        return await self._object("GET", "discover/recent-releases")

    async def discover_bubbles(self, snapshot_type: str | None = None) -> JsonObject:
        """Discovery "bubbles", all or of one snapshot type."""
        route = "discover/bubbles" + (f"/{_segment(snapshot_type)}" if snapshot_type else "")
        return await self._object("GET", route)

    # ------------------------------------------------------------------ profiles

    async def profiles(self) -> list[JsonObject]:
        """Every user profile."""
        return await self._list("profiles", "profiles")

    async def create_profile(self, fields: Mapping[str, Any]) -> JsonObject:
        """Create a profile (``name`` at least)."""
        return await self._object("POST", "profiles", json_body=dict(fields))

    async def profile(self, profile_id: int) -> JsonObject:
        """One profile."""
        return await self._object("GET", f"profiles/{int(profile_id)}")

    async def update_profile(self, profile_id: int, fields: Mapping[str, Any]) -> JsonObject:
        """Change a profile."""
        return await self._object("PUT", f"profiles/{int(profile_id)}", json_body=dict(fields))

    async def delete_profile(self, profile_id: int) -> None:
        """Delete a profile."""
        await self.call("DELETE", f"profiles/{int(profile_id)}")

    # ------------------------------------------------------------------ retag

    async def retag_groups(self) -> JsonObject:
        """Pending retag groups."""
        return await self._object("GET", "retag/groups")

    async def retag_group(self, group_id: int) -> JsonObject:
        """One retag group."""
        return await self._object("GET", f"retag/groups/{int(group_id)}")

    async def delete_retag_groups(self) -> None:
        """Drop every retag group."""
        await self.call("DELETE", "retag/groups")

    async def delete_retag_group(self, group_id: int) -> None:
        """Drop one retag group."""
        await self.call("DELETE", f"retag/groups/{int(group_id)}")

    async def retag_stats(self) -> JsonObject:
        """Retag counters."""
        return await self._object("GET", "retag/stats")

    # ------------------------------------------------------------------ listenbrainz

    async def listenbrainz_playlists(self) -> JsonObject:
        """Playlists fetched from ListenBrainz."""
        return await self._object("GET", "listenbrainz/playlists")

    async def listenbrainz_playlist(self, playlist_id: str) -> JsonObject:
        """One ListenBrainz playlist."""
        return await self._object("GET", f"listenbrainz/playlists/{_segment(playlist_id)}")

    # ------------------------------------------------------------------ cache

    async def musicbrainz_cache(self, *, page: int = 1, limit: int = 50) -> Page:
        """Cached MusicBrainz look-ups."""
        return await self._page("cache/musicbrainz", "entries", {"page": page, "limit": limit})

    async def musicbrainz_cache_stats(self) -> JsonObject:
        """Size and hit counts of the MusicBrainz cache."""
        return await self._object("GET", "cache/musicbrainz/stats")

    async def discovery_match_cache(self, *, page: int = 1, limit: int = 50) -> Page:
        """Cached discovery matches."""
        return await self._page("cache/discovery-matches", "entries", {"page": page, "limit": limit})

    async def discovery_match_cache_stats(self) -> JsonObject:
        """Size of the discovery-match cache."""
        return await self._object("GET", "cache/discovery-matches/stats")
