"""A conformance server for SoulSync's public REST API (``/api/v1``, SoulSync 3.1.9).

SoulSync cannot be installed here, so the client is tested against this aiohttp app. It
follows what a real SoulSync 3.1.9 did when run as its Docker image runs it (``gunicorn -c
gunicorn.conf.py wsgi:application``) with a Soulseek daemon behind it, route by route, and
its source (``api/*.py``) where a body was not recorded.

Reproduced as the real daemon does it:

* **Auth** (``api/auth.py``): ``Authorization: Bearer sk_…`` or ``?api_key=``; keys are
  ``sk_`` + ``token_urlsafe(32)``, stored as SHA-256 only. No key → 401 ``AUTH_REQUIRED``,
  unknown key → 403 ``INVALID_KEY``.
* **Bootstrap** (``api/settings.py``): ``POST /api-keys/bootstrap`` needs no key, answers 201
  with the raw key while no key exists, then 403 ``FORBIDDEN``.
* **Envelope** (``api/helpers.py``): ``{success, data, error, pagination}`` on every
  blueprint route, pagination ``{page, limit, total, total_pages, has_next, has_prev}``.
* **Unknown routes** (Flask): an unmatched ``/api/v1/…`` URL gets Werkzeug's HTML 404 (and
  a wrong method its HTML 405), never the envelope; those are not rate limited. An id
  holding ``/`` sent as ``%2F`` is decoded before routing and gets the HTML 405.
* **Rate limit** (Flask-Limiter ``"60 per minute"`` on the blueprint, by IP): each route
  (method + URL rule) has its own counter, a fixed window opened by its first hit; counted
  before auth, bootstrap included; the 61st request to a route gets 429 with the exact
  envelope body and **no** ``Retry-After``/``X-RateLimit-*`` headers while other routes
  still answer. Time is the server's ``clock`` (injectable), so tests never wait.
* **``POST /request``** (3.1.9): with ``request_bug`` on (the default) it answers 500
  ``INTERNAL_ERROR`` "An unexpected error occurred." although the job is queued; off, the
  documented 202. Either way the match goes straight to the Soulseek daemon
  (``soulseek_downloads``): **no download task is created**, and the request record stops
  at ``downloading`` with the remote file name as ``download_id``. Queries in
  ``unmatched_queries`` end ``not_found``.
* **Wishlist runs** (``wishlist_routes.py``): ``POST /wishlist/process`` without a JSON body
  answers 200 and does nothing; with one it starts a new batch of every track asked for
  (``track_ids``, else the whole wishlist), **also those an earlier batch is still
  downloading** (SoulSync has no guard: issue 24); 409 ``CONFLICT`` only while the automatic
  run (``auto_wishlist_running``) goes. Two or more tracks of one album are searched as an
  album first and get their tasks ``album_search_seconds`` (45 s) later on the server clock.
* **Download tasks** (``api/downloads.py``): list sorted by ``status_change_time``
  descending, ``status`` filter, ``limit`` clamped to 1..500, ``offset``, ``total``. Every
  poll is one step of searching → downloading → post_processing → completed; ``progress``
  stays 0 and ``size`` null, also once completed (3.1.9, issue 24). ``album_name`` is the
  wishlist track's album object, ``batch_id`` the run's sub-batch.
* **Cancel mismatch**: the cancel route looks the id up among the Soulseek daemon's transfer
  ids (kept hidden, as SoulSync does not list them), so a task id gives 500
  ``CANCEL_FAILED``; a missing ``username`` gives 400; no Soulseek daemon gives 503.
  Cancel-all clears the Soulseek daemon's list and leaves SoulSync's tasks as they were.
* **Wishlist items**: ``id`` is a row number, ``track_id`` the catalogue id; ``DELETE``
  wants the ``track_id`` (a row number is a 404). Adding a track already there answers 200
  ``{created: false, track}``, a new one 201 ``{created: true, track}``.
* **Watchlist items**: ``id`` is a row number; the artist's id sits in the column of its
  ``source`` (``spotify_artist_id``, ``itunes_artist_id``, ``deezer_artist_id`` …). Without
  ``source`` a numeric id is filed as iTunes. ``quality_profile_id`` must name a quality
  profile (else 400). Live, remix, acoustic and compilation filters default to false.
* **Library ids are strings** (``"12"``); a non-numeric one (a Jellyfin-style library
  entry is listed) gets 400 "artist_id must be an integer.".
* **Settings** lists ``api_keys`` with each ``key_hash``. ``GET /api/v1/api-keys-internal``
  (``web_server.py``, a web-UI route outside the blueprint) lists the keys' labels and
  prefixes to anyone, without a key and without a rate limit (issue 24).
* **Retag**: ``DELETE /retag/groups`` always 500 ``RETAG_ERROR``; deleting an unknown group
  answers 200; stats are ``{groups, tracks, artists}``. Deleting profile 1 is 403
  ``FORBIDDEN``. ``/discover/bubbles`` is ``{snapshots: {artist_bubbles, search_bubbles,
  discover_downloads}}``, another type a 400; the discover pool is paginated.
* **Services flags** (``api/system.py``): ``spotify`` and ``soulseek`` are always true.
* **Metadata search offline**: ``catalogue_online=False`` answers 200 with no hits and the
  requested source, as the real one did without network.

Approximated: the bodies of playlists, listenbrainz and cache, and the catalogue, library
and activity contents, which are small fixed samples.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from yarl import URL

from .catalogue import (
    CATALOGUE_ALBUMS,
    CATALOGUE_ARTISTS,
    CATALOGUE_TRACKS,
    LIBRARY_ALBUMS,
    LIBRARY_ARTISTS,
    LIBRARY_TRACKS,
    PROVIDERS,
    SENSITIVE,
    WATCHLIST_FILTERS,
)
from .common import (
    JsonObject,
    Task,
    envelope,
    error,
    json_body,
    only_fields,
    page_args,
    pagination,
    profile_of,
)
from .wishlist_routes import QUALITY_PROFILES, AlbumSearch, WishlistRoutes

__all__ = ["CATALOGUE_TRACKS", "JsonObject", "SoulSyncServer", "Task"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RATE_LIMIT = 60
RATE_WINDOW = 60.0
BASE_TIME = 1_760_000_000.0

HTML_404 = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again.</p>\n"
)
HTML_405 = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n"
    "<p>The method is not allowed for the requested URL.</p>\n"
)

PROGRESSION = ["searching", "downloading", "downloading", "post_processing", "completed"]
"""One step per poll of /downloads; ``progress`` is 0 at every step but the last."""
WATCH_SOURCES = ("spotify", "itunes", "deezer", "discogs", "musicbrainz", "amazon")
BUBBLE_TYPES = ("artist_bubbles", "search_bubbles", "discover_downloads")


class SoulSyncServer(WishlistRoutes):
    """The app plus its state; tests read and change the state directly."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self.clock: Callable[[], float] = clock or self._manual_clock
        self.manual_time = 0.0
        self.rate_limit = RATE_LIMIT
        self.request_bug = True
        self.unmatched_queries: set[str] = set()
        self.catalogue_online = True
        self.slskd_configured = True
        self.advance_downloads = True
        self.auto_wishlist_running = False
        """SoulSync's own timed wishlist run: the only time ``/wishlist/process`` answers 409."""
        self.album_searches: list[AlbumSearch] = []
        """Album sub-batches still searching: their tasks appear when each ends (server clock)."""
        self.runs: list[list[str]] = []
        """The ``track_id``s of every wishlist run a ``/wishlist/process`` started, in order."""
        self.watchlist_scanning = False
        self.keys: list[JsonObject] = []
        self.tasks: dict[str, Task] = {}
        self.music_requests: dict[str, JsonObject] = {}
        self.request_bodies: list[JsonObject] = []
        self.soulseek_downloads: list[JsonObject] = []
        """What SoulSync handed straight to the Soulseek daemon (requests): never a SoulSync task."""
        self.wishlists: dict[int, list[JsonObject]] = {}
        self.watchlists: dict[int, list[JsonObject]] = {}
        self.bubbles: dict[str, JsonObject] = {"artist_bubbles": {"bubbles": [{"name": "idm", "count": 2}]}}
        self._rows = 0
        self.settings: JsonObject = {
            "soulseek": {"slskd_url": "http://127.0.0.1:5030", "api_key": "slskd-secret", "search_timeout": 60},
            "spotify": {"client_id": "abc", "client_secret": "very-secret"},
            "logging": {"level": "INFO"},
        }
        self.profiles: dict[int, JsonObject] = {1: {"id": 1, "name": "Admin", "is_admin": True}}
        self.retag_groups: dict[int, JsonObject] = {
            7: {"id": 7, "album_name": "Discovery", "artist_name": "Daft Punk", "track_count": 2},
            8: {"id": 8, "album_name": "Geogaddi", "artist_name": "Boards of Canada", "track_count": 1},
        }
        self.hits: list[tuple[str, float]] = []
        """``(route, time)`` of each rate-limited request (server clock), for the limiter tests."""
        self.log: list[tuple[str, str, JsonObject, JsonObject]] = []
        """``(method, path, query, headers)`` of every request that reached a route."""
        self.bodies: list[bytes] = []
        """The raw body of every request that reached a route."""
        self._windows: dict[str, tuple[float, int]] = {}
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.url = URL()
        self.app = self._build_app()

    def _manual_clock(self) -> float:
        return self.manual_time

    def advance(self, seconds: float) -> None:
        """Move the manual clock (the rate-limit window) forward."""
        self.manual_time += seconds

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> URL:
        """Serve on a free port of 127.0.0.1."""
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = URL(f"http://127.0.0.1:{port}")
        return self.url

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ state helpers

    def add_key(self, label: str = "test") -> str:
        """Store a new key as SoulSync does (hash only) and return the raw key."""
        raw = f"sk_{secrets.token_urlsafe(32)}"
        self.keys.append(
            {
                "id": str(uuid.uuid4()),
                "label": label,
                "key_hash": hashlib.sha256(raw.encode()).hexdigest(),
                "key_prefix": raw[:11],
                "created_at": "2026-03-03T12:00:00+00:00",
                "last_used_at": None,
            }
        )
        return raw

    def _stamp(self) -> float:
        self._seq += 1
        return BASE_TIME + self._seq

    def add_task(self, status: str = "downloading", **fields: Any) -> Task:
        """A download task as SoulSync would hold it."""
        task = Task(id=str(uuid.uuid4()), status=status, **fields)
        task.step = PROGRESSION.index(status) if status in PROGRESSION else 0
        task.status_change_time = self._stamp()
        self.tasks[task.id] = task
        return task

    def _step(self, task: Task) -> None:
        if task.status == "queued":
            task.status, task.step = "searching", 0
        elif task.status in PROGRESSION[:-1]:
            task.step += 1
            task.status = PROGRESSION[task.step]
        else:
            return
        if task.status == "downloading" and task.username is None:
            task.username = "peer"
            task.filename = f"@@music\\{task.artist_name}\\{task.track_name}.flac"
        # 3.1.9 lists a completed task with progress 0 and size null, as before (issue 24).
        task.status_change_time = self._stamp()

    def _tick(self) -> None:
        """One step of time for the download engine: each poll of /downloads."""
        if self.advance_downloads:
            for task in list(self.tasks.values()):
                self._step(task)
        self.finish_album_searches()

    def _next_row(self) -> int:
        self._rows += 1
        return self._rows

    # ------------------------------------------------------------------ middleware

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Werkzeug's HTML errors for unmatched URLs, then Flask-Limiter, then the key check."""
        match_error = request.match_info.http_exception
        if match_error is not None:
            if match_error.status == 405:
                return web.Response(status=405, text=HTML_405, content_type="text/html")
            return web.Response(status=404, text=HTML_404, content_type="text/html")
        if "%2f" in request.raw_path.lower():
            # Werkzeug decodes %2F before routing: the id splits into segments no rule has.
            return web.Response(status=405, text=HTML_405, content_type="text/html")
        if request.path == "/api/v1/api-keys-internal":
            return await handler(request)  # a web-UI route outside the API blueprint: no limit, no key
        now = self.clock()
        route = f"{request.method} {request.match_info.route.resource.canonical}"  # type: ignore[union-attr]
        start, count = self._windows.get(route, (now, 0))
        if now - start >= RATE_WINDOW:
            start, count = now, 0
        self._windows[route] = (start, count + 1)
        if count + 1 > self.rate_limit:
            return error("RATE_LIMITED", "Too many requests. Please slow down.", 429)
        self.hits.append((route, now))
        self.log.append((request.method, request.path, dict(request.query), dict(request.headers)))
        self.bodies.append(await request.read())
        if request.path != "/api/v1/api-keys/bootstrap":
            key = None
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                key = auth[7:]
            if not key:
                key = request.query.get("api_key")
            if not key:
                return error(
                    "AUTH_REQUIRED",
                    "API key is required. Pass via Authorization: Bearer <key> header or ?api_key= query parameter.",
                    401,
                )
            digest = hashlib.sha256(key.encode()).hexdigest()
            if not any(k["key_hash"] == digest for k in self.keys):
                return error("INVALID_KEY", "Invalid API key.", 403)
        return await handler(request)

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        r = app.router
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/system/status", self.system_status),
            ("GET", "/system/activity", self.system_activity),
            ("GET", "/system/stats", self.system_stats),
            ("POST", "/search/{kind:tracks|albums|artists}", self.search),
            ("GET", "/downloads", self.downloads),
            ("POST", "/downloads/cancel-all", self.cancel_all),
            ("POST", "/downloads/{download_id}/cancel", self.cancel),
            ("POST", "/request", self.create_request),
            ("GET", "/request/{request_id}", self.request_status),
            ("GET", "/wishlist", self.wishlist),
            ("POST", "/wishlist", self.wishlist_add),
            ("POST", "/wishlist/process", self.wishlist_process),
            ("DELETE", "/wishlist/{track_id}", self.wishlist_remove),
            ("GET", "/watchlist", self.watchlist),
            ("POST", "/watchlist", self.watchlist_add),
            ("POST", "/watchlist/scan", self.watchlist_scan),
            ("DELETE", "/watchlist/{artist_id}", self.watchlist_remove),
            ("PATCH", "/watchlist/{artist_id}", self.watchlist_update),
            ("GET", "/library/artists", self.library_artists),
            ("GET", "/library/artists/{artist_id}", self.library_artist),
            ("GET", "/library/artists/{artist_id}/albums", self.library_artist_albums),
            ("GET", "/library/albums", self.library_albums),
            ("GET", "/library/albums/{album_id}", self.library_album),
            ("GET", "/library/albums/{album_id}/tracks", self.library_album_tracks),
            ("GET", "/library/tracks", self.library_tracks),
            ("GET", "/library/tracks/{track_id}", self.library_track),
            ("GET", "/library/genres", self.library_genres),
            ("GET", "/library/recently-added", self.library_recent),
            ("GET", "/library/lookup", self.library_lookup),
            ("GET", "/library/stats", self.library_stats),
            ("GET", "/playlists", self.playlists),
            ("GET", "/playlists/{playlist_id}", self.playlist),
            ("POST", "/playlists/{playlist_id}/sync", self.playlist_sync),
            ("GET", "/settings", self.get_settings),
            ("PATCH", "/settings", self.patch_settings),
            ("GET", "/api-keys", self.api_keys),
            ("POST", "/api-keys", self.api_key_create),
            ("POST", "/api-keys/bootstrap", self.api_key_bootstrap),
            ("DELETE", "/api-keys/{key_id}", self.api_key_revoke),
            ("GET", "/discover/pool", self.discover_pool),
            ("GET", "/discover/pool/metadata", self.discover_pool_metadata),
            ("GET", "/discover/similar-artists", self.discover_similar),
            ("GET", "/discover/recent-releases", self.discover_recent),
            ("GET", "/discover/bubbles", self.discover_bubbles),
            ("GET", "/discover/bubbles/{snapshot_type}", self.discover_bubble),
            ("GET", "/profiles", self.profiles_list),
            ("POST", "/profiles", self.profile_create),
            ("GET", r"/profiles/{profile_id:\d+}", self.profile_get),
            ("PUT", r"/profiles/{profile_id:\d+}", self.profile_put),
            ("DELETE", r"/profiles/{profile_id:\d+}", self.profile_delete),
            ("GET", "/retag/groups", self.retag_list),
            ("DELETE", "/retag/groups", self.retag_clear),
            ("GET", r"/retag/groups/{group_id:\d+}", self.retag_get),
            ("DELETE", r"/retag/groups/{group_id:\d+}", self.retag_delete),
            ("GET", "/retag/stats", self.retag_stats),
            ("GET", "/listenbrainz/playlists", self.lb_playlists),
            ("GET", "/listenbrainz/playlists/{playlist_id}", self.lb_playlist),
            ("GET", "/cache/musicbrainz", self.cache_entries),
            ("GET", "/cache/musicbrainz/stats", self.cache_stats),
            ("GET", "/cache/discovery-matches", self.cache_entries),
            ("GET", "/cache/discovery-matches/stats", self.cache_stats),
        ]
        for method, path, handler in routes:
            r.add_route(method, "/api/v1" + path, handler)
        r.add_route("GET", "/api/v1/api-keys-internal", self.api_keys_internal)
        return app

    # ------------------------------------------------------------------ system

    async def system_status(self, request: web.Request) -> web.Response:
        return envelope(
            {
                "uptime": "2h 15m 30s",
                "uptime_seconds": 8130,
                # Not health checks: spotify falls back to iTunes/Deezer, soulseek is "the object exists".
                "services": {"spotify": True, "soulseek": True, "hydrabase": False},
            }
        )

    async def system_activity(self, request: web.Request) -> web.Response:
        return envelope({"activities": [{"icon": "download", "title": "Download complete", "time": "1m ago"}]})

    async def system_stats(self, request: web.Request) -> web.Response:
        active = sum(1 for t in self.tasks.values() if t.status in ("downloading", "queued", "searching"))
        # "active" counts SoulSync's tasks only: what /request handed to the Soulseek daemon is not there.
        return envelope(
            {
                "library": {
                    "artists": len(LIBRARY_ARTISTS),
                    "albums": len(LIBRARY_ALBUMS),
                    "tracks": len(LIBRARY_TRACKS),
                },
                "database": {"size_mb": 1.5, "last_update": "2026-03-03 12:00:00"},
                "downloads": {"active": active},
            }
        )

    # ------------------------------------------------------------------ search

    async def search(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        body = await json_body(request)
        query = str(body.get("query", "")).strip()
        limit = min(50, max(1, int(body.get("limit", 20))))
        source = str(body.get("source", "auto")) if kind == "tracks" else "deezer"
        if not query:
            return error("BAD_REQUEST", "Missing 'query' in request body.", 400)
        catalogue = {"tracks": CATALOGUE_TRACKS, "albums": CATALOGUE_ALBUMS, "artists": CATALOGUE_ARTISTS}[kind]
        words = query.lower().split()
        hits = []
        if self.catalogue_online:
            for item in catalogue:
                text = " ".join([str(item["name"]), *item.get("artists", []), str(item.get("album", ""))]).lower()
                if all(w in text for w in words):
                    hits.append(item)
        if not hits:
            return envelope({kind: [], "source": source})
        return envelope({kind: hits[:limit], "source": "deezer"})

    # ------------------------------------------------------------------ downloads

    async def downloads(self, request: web.Request) -> web.Response:
        self._tick()
        try:
            limit = int(request.query.get("limit", 100))
        except ValueError:
            limit = 100
        try:
            offset = int(request.query.get("offset", 0))
        except ValueError:
            offset = 0
        limit, offset = max(1, min(limit, 500)), max(0, offset)
        wanted = {s.strip() for s in request.query.get("status", "").split(",") if s.strip()}
        tasks = [t for t in self.tasks.values() if not wanted or t.status in wanted]
        tasks.sort(key=lambda t: (t.status_change_time, t.id), reverse=True)
        return envelope(
            {
                "downloads": [t.public() for t in tasks[offset : offset + limit]],
                "total": len(tasks),
                "limit": limit,
                "offset": offset,
            }
        )

    async def cancel(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body.get("username"):
            return error("BAD_REQUEST", "Missing 'username' in body.", 400)
        if not self.slskd_configured:
            return error("NOT_AVAILABLE", "Soulseek client not configured.", 503)
        wanted = request.match_info["download_id"]
        for task in self.tasks.values():
            if task.slskd_id == wanted and task.username == body["username"]:
                task.status, task.status_change_time = "cancelled", self._stamp()
                return envelope({"message": "Download cancelled."})
        return error("CANCEL_FAILED", "Failed to cancel download.", 500)

    async def cancel_all(self, request: web.Request) -> web.Response:
        if not self.slskd_configured:
            return error("NOT_AVAILABLE", "Soulseek client not configured.", 503)
        # Cancels and clears the Soulseek daemon's downloads; SoulSync's own task list is untouched.
        self.soulseek_downloads.clear()
        return envelope({"message": "All downloads cancelled and cleared."})

    # ------------------------------------------------------------------ request

    async def create_request(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        self.request_bodies.append(body)
        query = str(body.get("query") or "").strip()
        if not query:
            return error("BAD_REQUEST", "Missing 'query' in request body.", 400)
        request_id = str(uuid.uuid4())
        record: JsonObject = {
            "request_id": request_id,
            "query": query,
            "status": "searching",
            "download_id": None,
            "error": None,
            "completed_at": None,
        }
        self.music_requests[request_id] = record
        if query in self.unmatched_queries:
            record.update(status="not_found", error="No match found", completed_at="2026-03-03T12:00:00")
        else:
            # Handed to the Soulseek daemon as is: no SoulSync task, the record stops at "downloading".
            filename = f"@@music\\{query}.flac"
            self.soulseek_downloads.append({"username": "peer", "filename": filename})
            record.update(status="downloading", download_id=filename, completed_at="2026-03-03T12:00:00")
        if self.request_bug:
            # 3.1.9: `return api_success({...}), 202` nests a tuple; Flask raises TypeError after queuing.
            return error("INTERNAL_ERROR", "An unexpected error occurred.", 500)
        return envelope({"request_id": request_id, "status": "queued", "query": query}, status=202)

    async def request_status(self, request: web.Request) -> web.Response:
        record = self.music_requests.get(request.match_info["request_id"])
        if record is None:
            return error("NOT_FOUND", "Request not found or expired.", 404)
        return envelope(dict(record))

    # ------------------------------------------------------------------ watchlist

    async def watchlist(self, request: web.Request) -> web.Response:
        artists = self.watchlists.get(profile_of(request), [])
        return envelope({"artists": [only_fields(a, request) for a in artists]})

    @staticmethod
    def _watched(artist: JsonObject, artist_id: str) -> bool:
        """``artist_id_match_sql``: an id matches any provider column."""
        return any(artist[f"{source}_artist_id"] == artist_id for source in WATCH_SOURCES)

    async def watchlist_add(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        artist_id, name = body.get("artist_id"), body.get("artist_name")
        if not artist_id or not name:
            return error("BAD_REQUEST", "Missing 'artist_id' or 'artist_name'.", 400)
        source = body.get("source")
        if source is None:
            source = "itunes" if str(artist_id).isdigit() else "spotify"  # the legacy guess
        elif source not in WATCH_SOURCES:
            return error("BAD_REQUEST", f"Unknown source. Supported: {', '.join(sorted(WATCH_SOURCES))}.", 400)
        quality = body.get("quality_profile_id")
        if quality is not None and quality not in QUALITY_PROFILES:
            return error("BAD_REQUEST", "Unknown quality_profile_id.", 400)
        artists = self.watchlists.setdefault(profile_of(request), [])
        if not any(self._watched(a, str(artist_id)) for a in artists):
            artist: JsonObject = {"id": self._next_row(), "source": source}
            artist.update({f"{s}_artist_id": str(artist_id) if s == source else None for s in WATCH_SOURCES})
            artist.update(artist_name=name, profile_id=profile_of(request), quality_profile_id=quality)
            artists.append({**artist, **WATCHLIST_FILTERS})
        return envelope({"message": f"Added {name} to watchlist."}, status=201)

    async def watchlist_remove(self, request: web.Request) -> web.Response:
        artists = self.watchlists.get(profile_of(request), [])
        for artist in artists:
            if self._watched(artist, request.match_info["artist_id"]):
                artists.remove(artist)
                return envelope({"message": "Artist removed from watchlist."})
        return error("NOT_FOUND", "Artist not found in watchlist.", 404)

    async def watchlist_update(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        updates: JsonObject = {k: v for k, v in body.items() if k in WATCHLIST_FILTERS}
        if "quality_profile_id" in body:
            if body["quality_profile_id"] not in QUALITY_PROFILES:
                return error("BAD_REQUEST", "Unknown quality_profile_id.", 400)
            updates["quality_profile_id"] = body["quality_profile_id"]
        if not updates:
            allowed = ", ".join(sorted({*WATCHLIST_FILTERS, "quality_profile_id"}))
            return error("BAD_REQUEST", f"No valid fields provided. Allowed: {allowed}", 400)
        for artist in self.watchlists.get(profile_of(request), []):
            if self._watched(artist, request.match_info["artist_id"]):
                artist.update(updates)
                return envelope({"message": "Watchlist settings updated.", "updated": updates})
        return error("NOT_FOUND", "Artist not found in watchlist.", 404)

    async def watchlist_scan(self, request: web.Request) -> web.Response:
        if self.watchlist_scanning:
            return error("CONFLICT", "Watchlist scan is already running.", 409)
        self.watchlist_scanning = True
        return envelope({"message": "Watchlist scan started."})

    # ------------------------------------------------------------------ library

    @staticmethod
    def _int_id(request: web.Request, name: str) -> str | None:
        """``int(id)`` as the route does: library ids are numeric strings, anything else a 400."""
        try:
            return str(int(request.match_info[name]))
        except ValueError:
            return None

    async def library_artists(self, request: web.Request) -> web.Response:
        page, limit = page_args(request)
        search = request.query.get("search", "").lower()
        letter = request.query.get("letter", "all").lower()
        watched_ids = {
            a[f"{source}_artist_id"] for a in self.watchlists.get(profile_of(request), []) for source in WATCH_SOURCES
        } - {None}
        watch = request.query.get("watchlist", "all")
        artists = [a for a in LIBRARY_ARTISTS if search in a["name"].lower()]
        if letter == "#":
            artists = [a for a in artists if not a["name"][0].isalpha()]
        elif letter != "all":
            artists = [a for a in artists if a["name"].lower().startswith(letter)]
        if watch in ("watched", "unwatched"):
            artists = [a for a in artists if (a["spotify_artist_id"] in watched_ids) == (watch == "watched")]
        chunk = artists[(page - 1) * limit : page * limit]
        return envelope({"artists": [only_fields(a, request) for a in chunk]}, pagination(page, limit, len(artists)))

    async def library_artist(self, request: web.Request) -> web.Response:
        artist_id = self._int_id(request, "artist_id")
        if artist_id is None:
            return error("BAD_REQUEST", "artist_id must be an integer.", 400)
        artist = next((a for a in LIBRARY_ARTISTS if a["id"] == artist_id), None)
        if artist is None:
            return error("NOT_FOUND", f"Artist {artist_id} not found.", 404)
        albums = [a for a in LIBRARY_ALBUMS if a["artist_id"] == artist_id]
        return envelope({"artist": only_fields(artist, request), "albums": albums})

    async def library_artist_albums(self, request: web.Request) -> web.Response:
        artist_id = self._int_id(request, "artist_id")
        if artist_id is None:
            return error("BAD_REQUEST", "artist_id must be an integer.", 400)
        return envelope({"albums": [a for a in LIBRARY_ALBUMS if a["artist_id"] == artist_id]})

    async def library_albums(self, request: web.Request) -> web.Response:
        page, limit = page_args(request)
        search = request.query.get("search", "").lower()
        albums = [a for a in LIBRARY_ALBUMS if search in a["title"].lower()]
        for name in ("artist_id", "year"):
            if value := request.query.get(name):
                try:
                    wanted = int(value)
                except ValueError:
                    return error("BAD_REQUEST", f"{name} must be an integer.", 400)
                albums = [a for a in albums if int(a[name]) == wanted]
        chunk = albums[(page - 1) * limit : page * limit]
        return envelope({"albums": chunk}, pagination(page, limit, len(albums)))

    async def library_album(self, request: web.Request) -> web.Response:
        album_id = self._int_id(request, "album_id")
        if album_id is None:
            return error("BAD_REQUEST", "album_id must be an integer.", 400)
        album = next((a for a in LIBRARY_ALBUMS if a["id"] == album_id), None)
        if album is None:
            return error("NOT_FOUND", f"Album {album_id} not found.", 404)
        return envelope({"album": album, "tracks": [t for t in LIBRARY_TRACKS if t["album_id"] == album_id]})

    async def library_album_tracks(self, request: web.Request) -> web.Response:
        album_id = self._int_id(request, "album_id")
        if album_id is None:
            return error("BAD_REQUEST", "album_id must be an integer.", 400)
        return envelope({"tracks": [t for t in LIBRARY_TRACKS if t["album_id"] == album_id]})

    async def library_tracks(self, request: web.Request) -> web.Response:
        title = request.query.get("title", "").lower()
        artist = request.query.get("artist", "").lower()
        if not title and not artist:
            return error("BAD_REQUEST", "Provide at least 'title' or 'artist' query param.", 400)
        limit = min(200, max(1, int(request.query.get("limit", 50))))
        tracks = [t for t in LIBRARY_TRACKS if title in t["title"].lower() and artist in t["artist_name"].lower()]
        return envelope({"tracks": tracks[:limit]})

    async def library_track(self, request: web.Request) -> web.Response:
        track_id = self._int_id(request, "track_id")
        if track_id is None:
            return error("BAD_REQUEST", "track_id must be an integer.", 400)
        track = next((t for t in LIBRARY_TRACKS if t["id"] == track_id), None)
        if track is None:
            return error("NOT_FOUND", f"Track {track_id} not found.", 404)
        return envelope({"track": track})

    async def library_genres(self, request: web.Request) -> web.Response:
        source = request.query.get("source", "artists")
        if source not in ("artists", "albums"):
            return error("BAD_REQUEST", "source must be 'artists' or 'albums'.", 400)
        counts: dict[str, int] = {}
        for item in LIBRARY_ARTISTS if source == "artists" else LIBRARY_ALBUMS:
            for genre in item["genres"]:
                counts[genre] = counts.get(genre, 0) + 1
        return envelope({"genres": [{"name": g, "count": c} for g, c in sorted(counts.items())], "source": source})

    async def library_recent(self, request: web.Request) -> web.Response:
        kind = request.query.get("type", "albums")
        items = {"albums": LIBRARY_ALBUMS, "artists": LIBRARY_ARTISTS, "tracks": LIBRARY_TRACKS}.get(kind)
        if items is None:
            return error("BAD_REQUEST", "type must be 'albums', 'artists', or 'tracks'.", 400)
        limit = min(200, max(1, int(request.query.get("limit", 50))))
        return envelope({"items": list(reversed(items))[:limit], "type": kind})

    async def library_lookup(self, request: web.Request) -> web.Response:
        kind, provider, external = (request.query.get(k) for k in ("type", "provider", "id"))
        if not kind or not provider or not external:
            return error("BAD_REQUEST", "Required params: type, provider, id.", 400)
        if kind not in ("artist", "album", "track"):
            return error("BAD_REQUEST", "type must be 'artist', 'album', or 'track'.", 400)
        if provider not in PROVIDERS:
            return error("BAD_REQUEST", f"provider must be one of: {', '.join(PROVIDERS)}.", 400)
        found = next((a for a in LIBRARY_ARTISTS if a.get(f"{provider}_artist_id") == external), None)
        if kind != "artist" or found is None:
            return error("NOT_FOUND", f"No {kind} found for {provider} ID: {external}", 404)
        return envelope({kind: found})

    async def library_stats(self, request: web.Request) -> web.Response:
        return envelope(
            {
                "artists": len(LIBRARY_ARTISTS),
                "albums": len(LIBRARY_ALBUMS),
                "tracks": len(LIBRARY_TRACKS),
                "database_size_mb": 1.5,
                "last_update": "2026-03-03 12:00:00",
            }
        )

    # ------------------------------------------------------------------ playlists

    def _playlists(self, source: str) -> list[JsonObject]:
        return [{"id": f"{source}-pl1", "name": "Road Trip", "track_count": 1, "source": source}]

    async def playlists(self, request: web.Request) -> web.Response:
        return envelope({"playlists": self._playlists(request.query.get("source", "spotify"))})

    async def playlist(self, request: web.Request) -> web.Response:
        playlist_id = request.match_info["playlist_id"]
        if playlist_id != "spotify-pl1":
            return error("NOT_FOUND", f"Playlist {playlist_id} not found.", 404)
        return envelope({"playlist": {**self._playlists("spotify")[0], "tracks": CATALOGUE_TRACKS[:1]}})

    async def playlist_sync(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body.get("tracks"):
            return error("BAD_REQUEST", "Missing 'tracks' in body.", 400)
        playlist_id = request.match_info["playlist_id"]
        return envelope({"message": "Playlist sync started.", "playlist_id": playlist_id}, status=202)

    # ------------------------------------------------------------------ settings and keys

    def _redacted(self, config: JsonObject, prefix: str = "") -> JsonObject:
        out: JsonObject = {}
        for key, value in config.items():
            full = f"{prefix}.{key}" if prefix else key
            if full in SENSITIVE:
                out[key] = "***REDACTED***"
            elif isinstance(value, dict):
                out[key] = self._redacted(value, full)
            else:
                out[key] = value
        return out

    async def get_settings(self, request: web.Request) -> web.Response:
        # 3.1.9 lists the stored keys with their hashes among the settings.
        keys = [{f: k[f] for f in ("id", "label", "key_hash", "key_prefix", "created_at")} for k in self.keys]
        return envelope({"settings": {**self._redacted(self.settings), "api_keys": keys}})

    async def patch_settings(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body:
            return error("BAD_REQUEST", "Empty body.", 400)
        updated = []
        for key, value in body.items():
            if key == "api_keys":
                continue
            *parents, leaf = key.split(".")
            node = self.settings
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
            updated.append(key)
        return envelope({"message": "Settings updated.", "updated_keys": updated})

    async def api_keys(self, request: web.Request) -> web.Response:
        fields = ("id", "label", "key_prefix", "created_at", "last_used_at")
        return envelope({"keys": [{f: k.get(f) for f in fields} for k in self.keys]})

    async def api_keys_internal(self, request: web.Request) -> web.Response:
        """``web_server.py`` ``list_api_keys_internal``: the key list for the settings page, without a key
        (``admin_only`` lets everyone through while no login is set up), not rate limited (issue 24)."""
        fields = ("id", "label", "key_prefix", "created_at", "last_used_at")
        keys = [{f: k.get(f) for f in fields} for k in self.keys]
        return web.json_response({"success": True, "data": {"keys": keys}})

    def _new_key(self, label: str) -> web.Response:
        raw = self.add_key(label)
        record = self.keys[-1]
        fields = ("id", "label", "key_prefix", "created_at")
        return envelope({"key": raw, **{f: record[f] for f in fields}}, status=201)

    async def api_key_create(self, request: web.Request) -> web.Response:
        return self._new_key(str((await json_body(request)).get("label", "")))

    async def api_key_bootstrap(self, request: web.Request) -> web.Response:
        if self.keys:
            return error("FORBIDDEN", "API keys already exist. Use an authenticated request to create more.", 403)
        return self._new_key(str((await json_body(request)).get("label", "Default")))

    async def api_key_revoke(self, request: web.Request) -> web.Response:
        before = len(self.keys)
        self.keys = [k for k in self.keys if k["id"] != request.match_info["key_id"]]
        if len(self.keys) == before:
            return error("NOT_FOUND", "API key not found.", 404)
        return envelope({"message": "API key revoked."})

    # ------------------------------------------------------------------ discover (bodies approximated)

    async def discover_pool(self, request: web.Request) -> web.Response:
        page, limit = page_args(request, default_limit=100, max_limit=500)
        source = request.query.get("source")
        if source and source not in ("spotify", "itunes"):
            return error("BAD_REQUEST", "source must be 'spotify' or 'itunes'.", 400)
        tracks = CATALOGUE_TRACKS
        chunk = tracks[(page - 1) * limit : page * limit]
        return envelope({"tracks": chunk}, pagination(page, limit, len(tracks)))

    async def discover_pool_metadata(self, request: web.Request) -> web.Response:
        return envelope({"last_populated": "2026-03-03T12:00:00", "track_count": 2, "profile_id": profile_of(request)})

    async def discover_similar(self, request: web.Request) -> web.Response:
        return envelope({"artists": CATALOGUE_ARTISTS[1:]})

    async def discover_recent(self, request: web.Request) -> web.Response:
        return envelope({"releases": CATALOGUE_ALBUMS[:1]})

    async def discover_bubbles(self, request: web.Request) -> web.Response:
        return envelope({"snapshots": {kind: self.bubbles.get(kind) for kind in BUBBLE_TYPES}})

    async def discover_bubble(self, request: web.Request) -> web.Response:
        kind = request.match_info["snapshot_type"]
        if kind not in BUBBLE_TYPES:
            return error("BAD_REQUEST", f"type must be one of: {', '.join(BUBBLE_TYPES)}", 400)
        if kind not in self.bubbles:
            return error("NOT_FOUND", f"No '{kind}' snapshot found.", 404)
        return envelope({"snapshot": self.bubbles[kind]})

    # ------------------------------------------------------------------ profiles (bodies approximated)

    def _profile(self, request: web.Request) -> JsonObject | None:
        return self.profiles.get(int(request.match_info["profile_id"]))

    async def profiles_list(self, request: web.Request) -> web.Response:
        return envelope({"profiles": list(self.profiles.values())})

    async def profile_create(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not body.get("name"):
            return error("BAD_REQUEST", "Missing 'name'.", 400)
        profile_id = max(self.profiles) + 1
        self.profiles[profile_id] = {"id": profile_id, "name": body["name"], "is_admin": False}
        return envelope({"profile": self.profiles[profile_id]}, status=201)

    async def profile_get(self, request: web.Request) -> web.Response:
        profile = self._profile(request)
        if profile is None:
            return error("NOT_FOUND", "Profile not found.", 404)
        return envelope({"profile": profile})

    async def profile_put(self, request: web.Request) -> web.Response:
        profile = self._profile(request)
        if profile is None:
            return error("NOT_FOUND", "Profile not found.", 404)
        profile.update({k: v for k, v in (await json_body(request)).items() if k in ("name", "avatar")})
        return envelope({"profile": profile})

    async def profile_delete(self, request: web.Request) -> web.Response:
        profile_id = int(request.match_info["profile_id"])
        if profile_id == 1:
            return error("FORBIDDEN", "Cannot delete the default admin profile.", 403)
        if self.profiles.pop(profile_id, None) is None:
            return error("NOT_FOUND", "Profile not found.", 404)
        return envelope({"message": "Profile deleted."})

    # ------------------------------------------------------------------ retag, listenbrainz, cache (approximated)

    async def retag_list(self, request: web.Request) -> web.Response:
        return envelope({"groups": list(self.retag_groups.values())})

    async def retag_clear(self, request: web.Request) -> web.Response:
        # 3.1.9: this route fails on every call and clears nothing.
        return error("RETAG_ERROR", "'MusicDatabase' object has no attribute 'clear_all_retag_groups'", 500)

    async def retag_get(self, request: web.Request) -> web.Response:
        group = self.retag_groups.get(int(request.match_info["group_id"]))
        if group is None:
            return error("NOT_FOUND", "Retag group not found.", 404)
        return envelope({"group": group, "tracks": []})

    async def retag_delete(self, request: web.Request) -> web.Response:
        group_id = int(request.match_info["group_id"])
        self.retag_groups.pop(group_id, None)  # an unknown group is "deleted" too
        return envelope({"message": f"Retag group {group_id} deleted."})

    async def retag_stats(self, request: web.Request) -> web.Response:
        groups = self.retag_groups.values()
        return envelope(
            {
                "groups": len(groups),
                "tracks": sum(g["track_count"] for g in groups),
                "artists": len({g["artist_name"] for g in groups}),
            }
        )

    async def lb_playlists(self, request: web.Request) -> web.Response:
        return envelope({"playlists": [{"id": "lb-weekly", "title": "Weekly Jams", "track_count": 1}]})

    async def lb_playlist(self, request: web.Request) -> web.Response:
        if request.match_info["playlist_id"] != "lb-weekly":
            return error("NOT_FOUND", "Playlist not found.", 404)
        return envelope({"playlist": {"id": "lb-weekly", "title": "Weekly Jams", "tracks": CATALOGUE_TRACKS[:1]}})

    async def cache_entries(self, request: web.Request) -> web.Response:
        page, limit = page_args(request)
        entries = [{"key": f"{request.path.rsplit('/', 1)[-1]}:{n}", "hits": n} for n in range(3)]
        return envelope({"entries": entries[(page - 1) * limit : page * limit]}, pagination(page, limit, len(entries)))

    async def cache_stats(self, request: web.Request) -> web.Response:
        return envelope({"total": 3, "hits": 3, "path": request.path})
