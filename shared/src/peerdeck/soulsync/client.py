"""Async client for SoulSync's public REST API (``/api/v1``, SoulSync 3.1.x).

Every route is a method named after it; :meth:`SoulSyncClient.call` reaches any other. The
answers' envelope, SoulSync's error codes and ids in paths are :mod:`.wire`.
What the daemon does that callers must know (``../shared/reference/backend-apis.md`` §2):

* Auth is an ``sk_`` key, as ``Authorization: Bearer`` or ``?api_key=``; no key is a 401
  ``AUTH_REQUIRED``, a wrong one a 403 ``INVALID_KEY``. The first key comes from
  :meth:`SoulSyncClient.bootstrap_api_key`, which needs no key and works only while none exist.
* Every answer is an envelope ``{success, data, error: {code, message}, pagination}``;
  errors become typed exceptions that keep ``code``. An unknown route gets Flask's HTML
  404 instead, reported as :class:`PeerdeckNotSupportedError`.
* 60 requests per minute per IP *and route*, then a 429 without Retry-After: a shared
  :class:`RateLimiter` keeps each route under its limit, and a 429 that still happens
  (another client on the host) becomes :class:`PeerdeckRateLimitedError` (``retry_after`` 60 s).
* Ids go in the path, and SoulSync cannot take one holding ``/`` (sent as ``%2F`` it gets
  an HTML 405); those are refused before sending.

Behaviour checked against a real SoulSync 3.1.9 run under gunicorn as its Docker image runs
it; the conformance server ``tests/shared/soulsync/server.py`` reproduces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from ..client import DEFAULT_TIMEOUT, HttpClient
from ..exceptions import (
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
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
    WishlistAdded,
    object_list,
    require_object,
)
from .ratelimit import RateLimiter, route_key
from .wire import (
    Params,
    SoulSyncForbiddenError,
    clean_params,
    error_of,
    library_id,
    path_segment,
    raise_for_status,
    search_text,
)

DOWNLOADS_PAGE_LIMIT = 500
"""The largest page ``GET /downloads`` serves."""

BUBBLE_SNAPSHOTS = ("artist_bubbles", "search_bubbles", "discover_downloads")
"""The snapshot types ``GET /discover/bubbles/{type}`` knows (any other is a 400)."""

WATCHLIST_SOURCES = ("spotify", "itunes", "deezer", "discogs", "musicbrainz", "amazon")
"""The catalogues a watched artist's id may come from."""


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
        raise_for_status(what, status, headers, body)

    async def call(
        self,
        method: str,
        route: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
    ) -> ApiResult:
        """Call ``/api/v1/<route>`` (already percent-encoded) through the limiter; unwrap the envelope."""
        query = clean_params(params)
        if self.api_key and self.key_in_query:
            query["api_key"] = self.api_key
        path = f"api/v1/{route.lstrip('/')}"
        await self.rate_limiter.acquire(route_key(method, route.partition("?")[0]))
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
        return await self._search("tracks", {"query": search_text(query), "source": source, "limit": limit})

    async def search_albums(self, query: str, *, limit: int = 20) -> MetadataResults:
        """Albums from the primary metadata catalogue."""
        return await self._search("albums", {"query": search_text(query), "limit": limit})

    async def search_artists(self, query: str, *, limit: int = 20) -> MetadataResults:
        """Artists from the primary metadata catalogue."""
        return await self._search("artists", {"query": search_text(query), "limit": limit})

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
        await self.call("POST", f"downloads/{path_segment(download_id)}/cancel", json_body={"username": username})

    async def cancel_all_downloads(self) -> None:
        """Cancel every active download and clear the finished ones (needs slskd reachable)."""
        await self.call("POST", "downloads/cancel-all")

    # ------------------------------------------------------------------ request ("find and download")

    async def request(
        self, query: str, *, notify_url: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> MusicRequest:
        """Ask SoulSync to find ``query`` on Soulseek and hand the best file to the Soulseek daemon.

        No SoulSync download task is created: the download never appears in
        :meth:`downloads`, and the request record stops at ``downloading`` with the remote
        file name as ``download_id``. SoulSync 3.1.9 also answers this with a 500
        ``INTERNAL_ERROR`` although the job was queued (its id is lost); this method reports
        that answer as it is.
        """
        body: JsonObject = {"query": search_text(query)}
        if notify_url:
            body["notify_url"] = notify_url
        if metadata:
            body["metadata"] = dict(metadata)
        return MusicRequest.from_json(await self._object("POST", "request", json_body=body))

    async def request_status(self, request_id: str) -> MusicRequest:
        """A request's progress; SoulSync forgets requests after an hour (then 404)."""
        return MusicRequest.from_json(await self._object("GET", f"request/{path_segment(request_id)}"))

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
        """Add a track (catalogue shape: id, name, artists …); True when new, False when it was there.

        A track already on the wishlist is answered 200 ``{created: false, track}`` (its entry
        updated); a 409 ``CONFLICT`` (:class:`PeerdeckConflictError`) means nothing was written.
        """
        added = await self.wishlist_add(
            track_data, failure_reason=failure_reason, source_type=source_type, quality_profile_id=quality_profile_id
        )
        return added.created

    async def wishlist_add(
        self,
        track_data: Mapping[str, Any],
        *,
        failure_reason: str | None = None,
        source_type: str = "api",
        quality_profile_id: int | None = None,
    ) -> WishlistAdded:
        """:meth:`add_to_wishlist`, also giving the entry as SoulSync stored it.

        Its ``track_id`` is the key SoulSync filed it under (``<id>::<album>`` for a second
        album of one track), the one :meth:`process_wishlist` takes in ``track_ids``.
        """
        if not track_data:
            raise PeerdeckInputError("the wishlist entry has no track data")
        body: JsonObject = {"track_data": dict(track_data), "source_type": source_type}
        if failure_reason is not None:
            body["failure_reason"] = failure_reason
        if quality_profile_id is not None:
            body["quality_profile_id"] = quality_profile_id
        result = await self.call("POST", "wishlist", json_body=body)
        return WishlistAdded.from_result(result.data, result.status, track_data)

    async def remove_from_wishlist(self, track_id: str) -> None:
        """Remove a track by its ``track_id`` (the catalogue id), not its ``id``.

        A wishlist item's ``id`` is a row number, and SoulSync answers 404 ``NOT_FOUND``
        to it, as to any track that is not on the wishlist.
        """
        await self.call("DELETE", f"wishlist/{path_segment(track_id)}")

    async def process_wishlist(self, track_ids: Sequence[str] | None = None) -> None:
        """Ask SoulSync to download the wishlist now, or only the entries with these ``track_ids``.

        The route hands its JSON body to SoulSync's own "download missing" handler, which
        takes ``track_ids`` (SoulSync 3.1.9, ``core/wishlist/processing.py``); the body must
        be JSON (``{}``): without one SoulSync still answers 200 "Wishlist processing
        started." but its handler fails inside and nothing starts. The 200 proves nothing
        more: every call starts a new batch of *every* track asked for, also those an earlier
        batch is still downloading (they are downloaded twice), and 409 ``CONFLICT`` comes
        only while SoulSync's automatic run is going. Tracks of one album (two or more, its
        ``wishlist.album_bundle_min_tracks``) are first searched as an album; their tasks
        appear only when that search ends. :meth:`SoulSyncBackend.process_wishlist` sends
        only what is not being downloaded and looks for the tasks.
        """
        body: JsonObject = {}
        if track_ids is not None:
            wanted = [str(track_id) for track_id in track_ids if str(track_id)]
            if not wanted:
                raise PeerdeckInputError("no wishlist tracks given")
            body["track_ids"] = wanted
        await self.call("POST", "wishlist/process", json_body=body)

    # ------------------------------------------------------------------ watchlist

    async def watchlist(self, *, fields: Sequence[str] | None = None) -> list[JsonObject]:
        """Artists watched for new releases by the client's profile.

        An item's ``id`` is a row number; the artist's catalogue ids are in
        ``spotify_artist_id``, ``itunes_artist_id``, ``deezer_artist_id`` … and ``source``
        names the one it was added from. Live, remix, acoustic and compilation releases
        are off by default.
        """
        return await self._list("watchlist", "artists", params={"fields": self._fields(fields)})

    async def add_to_watchlist(
        self, artist_id: str, artist_name: str, *, source: str | None = None, quality_profile_id: int | None = None
    ) -> None:
        """Watch an artist by its id at ``source`` (spotify, itunes, deezer, discogs, musicbrainz, amazon).

        Without ``source`` SoulSync guesses from the id's shape and files every numeric id
        as iTunes, so a Deezer or Discogs artist is never found again; a numeric id
        therefore needs ``source``. ``quality_profile_id`` picks the quality its releases
        are fetched in (SoulSync's default when None).
        """
        if not artist_id or not artist_name:
            raise PeerdeckInputError("watching an artist needs its id and its name")
        if source is not None and source not in WATCHLIST_SOURCES:
            raise PeerdeckInputError(f"unknown watchlist source {source!r}; one of {', '.join(WATCHLIST_SOURCES)}")
        if source is None and artist_id.isdigit():
            raise PeerdeckInputError(
                f"{artist_id!r} could be a Deezer, iTunes or Discogs id; say which with source=, "
                "or SoulSync files it as iTunes"
            )
        body: JsonObject = {"artist_id": artist_id, "artist_name": artist_name}
        if source is not None:
            body["source"] = source
        if quality_profile_id is not None:
            body["quality_profile_id"] = quality_profile_id
        await self.call("POST", "watchlist", json_body=body)

    async def remove_from_watchlist(self, artist_id: str) -> None:
        """Stop watching an artist, by any of its catalogue ids (not the row ``id``)."""
        await self.call("DELETE", f"watchlist/{path_segment(artist_id)}")

    async def update_watchlist_artist(
        self, artist_id: str, filters: Mapping[str, bool], *, quality_profile_id: int | None = None
    ) -> JsonObject:
        """Change which release types are watched (``include_albums``, ``include_live`` …) and their quality."""
        body: JsonObject = dict(filters)
        if quality_profile_id is not None:
            body["quality_profile_id"] = quality_profile_id
        if not body:
            raise PeerdeckInputError("no watchlist filters given")
        return await self._object("PATCH", f"watchlist/{path_segment(artist_id)}", json_body=body)

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

    async def library_artist(self, artist_id: int | str) -> JsonObject:
        """``{artist, albums}`` of one library artist."""
        return await self._object("GET", f"library/artists/{library_id(artist_id)}")

    async def library_artist_albums(self, artist_id: int | str) -> list[JsonObject]:
        """Albums of one library artist."""
        return await self._list(f"library/artists/{library_id(artist_id)}/albums", "albums")

    async def library_albums(
        self,
        *,
        search: str | None = None,
        artist_id: int | str | None = None,
        year: int | None = None,
        page: int = 1,
        limit: int = 50,
    ) -> Page:
        """Library albums, optionally by artist or year."""
        params: Params = {
            "search": search,
            "artist_id": None if artist_id is None else library_id(artist_id),
            "year": year,
            "page": page,
            "limit": limit,
        }
        return await self._page("library/albums", "albums", params)

    async def library_album(self, album_id: int | str) -> JsonObject:
        """``{album, tracks}`` of one library album."""
        return await self._object("GET", f"library/albums/{library_id(album_id)}")

    async def library_album_tracks(self, album_id: int | str) -> list[JsonObject]:
        """Tracks of one library album."""
        return await self._list(f"library/albums/{library_id(album_id)}/tracks", "tracks")

    async def library_tracks(
        self, *, title: str | None = None, artist: str | None = None, limit: int = 50
    ) -> list[JsonObject]:
        """Library tracks matching a title and/or an artist (one of them is required)."""
        if not title and not artist:
            raise PeerdeckInputError("give a title or an artist to look for")
        return await self._list("library/tracks", "tracks", params={"title": title, "artist": artist, "limit": limit})

    async def library_track(self, track_id: int | str) -> JsonObject:
        """One library track."""
        data = await self._object("GET", f"library/tracks/{library_id(track_id)}")
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
        return await self._object("GET", f"playlists/{path_segment(playlist_id)}")

    async def sync_playlist(
        self, playlist_id: str, *, playlist_name: str, tracks: Sequence[Mapping[str, Any]]
    ) -> JsonObject:
        """Start syncing (downloading what is missing of) a playlist."""
        body = {"playlist_name": playlist_name, "tracks": [dict(t) for t in tracks]}
        return await self._object("POST", f"playlists/{path_segment(playlist_id)}/sync", json_body=body)

    # ------------------------------------------------------------------ settings and keys

    async def settings(self) -> JsonObject:
        """Current settings, secrets redacted by SoulSync; the API keys' hashes are dropped here.

        SoulSync 3.1.9 redacts passwords and tokens but lists ``api_keys`` with each
        ``key_hash``; those never leave this method, so settings can be logged or shown.
        """
        data = await self._object("GET", "settings")
        settings = dict(require_object(data.get("settings"), "GET /api/v1/settings"))
        keys = settings.get("api_keys")
        if isinstance(keys, list):
            settings["api_keys"] = [
                {k: v for k, v in key.items() if k != "key_hash"} if isinstance(key, dict) else key for key in keys
            ]
        return settings

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
        await self.call("DELETE", f"api-keys/{path_segment(key_id)}")

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

    async def discover_pool(
        self, *, page: int = 1, limit: int = 100, new_releases_only: bool = False, source: str | None = None
    ) -> Page:
        """One page (up to 500 tracks) of the discovery pool of the client's profile.

        ``source`` is spotify or itunes (all when None).
        """
        params: Params = {
            "page": page,
            "limit": limit,
            "new_releases_only": "true" if new_releases_only else None,
            "source": source,
        }
        return await self._page("discover/pool", "tracks", params)

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
        """Discovery "bubble" snapshots: ``{snapshots: {type: snapshot | None}}``, or ``{snapshot}`` of one type.

        The types are ``artist_bubbles``, ``search_bubbles`` and ``discover_downloads``; a
        type without a snapshot yet is a 404 ``NOT_FOUND``.
        """
        if snapshot_type is None:
            return await self._object("GET", "discover/bubbles")
        if snapshot_type not in BUBBLE_SNAPSHOTS:
            raise PeerdeckInputError(f"unknown bubble snapshot {snapshot_type!r}; one of {', '.join(BUBBLE_SNAPSHOTS)}")
        return await self._object("GET", f"discover/bubbles/{snapshot_type}")

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
        """Delete a profile; the admin profile 1 is refused (403 ``FORBIDDEN``, :class:`SoulSyncForbiddenError`)."""
        await self.call("DELETE", f"profiles/{int(profile_id)}")

    # ------------------------------------------------------------------ retag

    async def retag_groups(self) -> JsonObject:
        """Pending retag groups."""
        return await self._object("GET", "retag/groups")

    async def retag_group(self, group_id: int) -> JsonObject:
        """One retag group."""
        return await self._object("GET", f"retag/groups/{int(group_id)}")

    async def delete_retag_groups(self) -> int:
        """Drop every retag group; returns how many were dropped one by one.

        SoulSync 3.1.9's ``DELETE /retag/groups`` always fails (500 ``RETAG_ERROR``), so on
        that answer each listed group is deleted on its own route instead.
        """
        try:
            await self.call("DELETE", "retag/groups")
        except PeerdeckServerError as err:
            if err.code != "RETAG_ERROR":
                raise
        else:
            return 0
        groups = object_list(await self.retag_groups(), "groups", "GET /api/v1/retag/groups")
        ids = [group["id"] for group in groups if isinstance(group.get("id"), int)]
        for group_id in ids:
            await self.delete_retag_group(group_id)
        return len(ids)

    async def delete_retag_group(self, group_id: int) -> None:
        """Drop one retag group; SoulSync answers 200 for an unknown one too."""
        await self.call("DELETE", f"retag/groups/{int(group_id)}")

    async def retag_stats(self) -> JsonObject:
        """Retag counters: ``groups``, ``tracks`` and ``artists``."""
        return await self._object("GET", "retag/stats")

    # ------------------------------------------------------------------ listenbrainz

    async def listenbrainz_playlists(self) -> JsonObject:
        """Playlists fetched from ListenBrainz."""
        return await self._object("GET", "listenbrainz/playlists")

    async def listenbrainz_playlist(self, playlist_id: str) -> JsonObject:
        """One ListenBrainz playlist."""
        return await self._object("GET", f"listenbrainz/playlists/{path_segment(playlist_id)}")

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
