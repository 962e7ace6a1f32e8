"""A conformance server for SoulSync's public REST API (``/api/v1``, SoulSync 3.1.9).

SoulSync cannot be installed here, so the client is tested against this aiohttp app. It
follows what a real SoulSync 3.1.9 did when run as its Docker image runs it (``gunicorn -c
gunicorn.conf.py wsgi:application``) with a Soulseek daemon behind it, route by route, and
its source (``api/*.py``) where a body was not recorded. One file per area, each citing where
its behaviours come from:

* this file: the app and its state, the route table, the task engine, unknown routes, the rate
  limit and the key check;
* ``server_downloads.py``: the download task list, cancel and cancel-all, ``POST /request``;
* ``server_wishlist.py``: wishlist items and the wishlist runs (album sub-batches, no guard
  against a second run);
* ``server_watchlist.py``: watchlist items; ``server_library.py``: the library;
* ``server_discover.py``: metadata search, discover, playlists, ListenBrainz;
* ``server_admin.py``: system, settings and API keys, profiles, retag, cache.

Reproduced here as the real daemon does it:

* **Auth** (``api/auth.py``): ``Authorization: Bearer sk_…`` or ``?api_key=``; keys are
  ``sk_`` + ``token_urlsafe(32)``, stored as SHA-256 only. No key → 401 ``AUTH_REQUIRED``,
  unknown key → 403 ``INVALID_KEY``.
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
* **Task engine**: every poll of ``/downloads`` is one step of searching → downloading →
  post_processing → completed; ``progress`` stays 0 and ``size`` null, also once completed
  (3.1.9, issue 24).

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

from .common import JsonObject, Task, error
from .server_admin import AdminRoutes
from .server_discover import DiscoverRoutes
from .server_downloads import DownloadRoutes
from .server_library import LibraryRoutes
from .server_watchlist import WatchlistRoutes
from .server_wishlist import AlbumSearch, WishlistRoutes

__all__ = ["JsonObject", "SoulSyncServer", "Task"]

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


class SoulSyncServer(DownloadRoutes, WishlistRoutes, WatchlistRoutes, LibraryRoutes, DiscoverRoutes, AdminRoutes):
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
