"""A conformance server for slskd's REST API (``/api/v0``), version by version (0.21 to 0.26).

slskd cannot be installed here, so the slskd client is tested against this server. It was
checked against slskd's own source (``slskd/slskd`` at the release tags 0.22.0 … 0.26.0, and the
Soulseek.NET each bundles); every behaviour that matters to the library, with the source file,
line and tag it was read from and the test that covers it, is in ``docs/supported.md`` ("slskd").
Behaviours that changed between releases are gated by ``Config.version``, checked per request,
so :meth:`SlskdConformance.restart` can also change it. One file per area:

* this file: set-up, routing and version gates, auth and session, application and server;
* ``server_search.py``: searches (responses written when a search ends, inactivity timeout,
  queued searches, 429 on concurrent creates);
* ``server_transfers.py``: enqueue (per user and batches), the transfer state machine, cancel and
  remove (asynchronous cancel; remove of finished records only);
* ``server_events.py``: the event log (sorted by timestamp, late completion events, samples);
* ``server_people.py``: users, conversations, rooms; ``server_admin.py``: files, logs, options,
  shares, telemetry, relay.

Also from ``shared/reference/backend-apis.md`` §1 (read from slskd's controllers at 0.26.0):

* **Base URL** (§1.1): everything lives under ``url_base`` (``app.UsePathBase``); the API
  under ``{url_base}/api/v0``; ``GET /health`` needs no auth and answers ``Healthy``.
* **Auth** (§1.1): ``X-API-Key`` (the primary key is Administrator) or ``Authorization:
  Bearer <jwt>`` from ``POST /session`` ``{expires, issued, name, notBefore, token,
  tokenType}``; a missing or bad credential is a bare 401. ``GET /session/enabled`` and
  ``POST /session`` need none; login answers 401 on a wrong password and 403 when headless.
  Tokens expire after ``jwt_ttl`` and all die on :meth:`SlskdConformance.restart` (random
  signing key per start). JWT-only routes (``PUT``/``DELETE /application``, ``/options/yaml*``,
  ``/options/debug``, ``/relay/agent``) answer 401 to an API key.
* **JSON** (§1.1): camelCase, enums as strings, ``[Flags]`` as ``"Completed, Succeeded"``.
* **Names in paths**: usernames are URL-decoded from 0.24.2 (``[UrlEncoded]``), so ``a%2Fb`` is
  the user ``a/b``; before, ASP.NET leaves ``%2F`` as it is.
* **Transfers** (§1.2, §1.3): per-user enqueue answers 201 without a body (≤0.23, after each
  file was queued at the peer), 201 ``{enqueued, failed:[filename]}`` (0.24 to 0.25) or
  ``failed`` as serialised tuples ``{}`` (0.26); 500 with a message for an offline user; **429**
  while two enqueues are in flight (0.24+). 0.26 adds ``POST /transfers/downloads/batches``
  (201 all, 207 some, 200 none; 404 offline user; 409 duplicate batch id; 400 repeated files)
  and ``GET …/batches/{id}``. Listings group ``[{username, directories:[{directory, fileCount,
  files}]}]``; ``all/completed`` drops the finished ones.
* **Telemetry** computed from the transfers held here, with slskd's 400s on a missing or bad
  ``direction``.
* The other areas return slskd's shapes from seeded in-memory data.

Simplifications: the relay controller routes check ``X-Relay-Credential`` against
:func:`relay_credential` instead of slskd's encrypted token; a restart keeps running transfers
running (with ``volatile``, it drops them with everything else).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from .server_admin import AdminMixin
from .server_common import (
    Config,
    Handler,
    Peer,
    Search,
    default_peers,
    now_iso,
    relay_credential,
    version_tuple,
)
from .server_events import EventsMixin
from .server_people import PeopleMixin
from .server_search import SearchesMixin
from .server_transfers import TransfersMixin

__all__ = ["Config", "Peer", "Search", "SlskdConformance", "default_peers", "relay_credential"]


class SlskdConformance(SearchesMixin, TransfersMixin, EventsMixin, PeopleMixin, AdminMixin):
    """The simulated daemon: state, state machines and the aiohttp application."""

    def __init__(self, config: Config | None = None, peers: list[Peer] | None = None) -> None:
        self.config = config or Config()
        self.peers: dict[str, Peer] = {p.username: p for p in peers or default_peers()}
        self.tokens: dict[str, float] = {}
        self.searches: dict[str, Search] = {}
        self.downloads: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.search_busy = 0
        self.enqueue_busy = 0
        self.max_search_busy = 0
        self.max_enqueue_busy = 0
        self.requests: list[tuple[str, str]] = []
        self.logins = 0
        self.connected = True
        self.scanning = False
        self.browsing: dict[str, dict[str, Any]] = {}
        self.relay_files: dict[str, tuple[str, bytes]] = {}
        self.relay_received: dict[str, tuple[str, bytes]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.rooms_available = [
            {"name": "indie", "userCount": 42, "isPrivate": False, "isOwned": False, "isModerated": False},
            {"name": "jazz lounge", "userCount": 7, "isPrivate": False, "isOwned": False, "isModerated": False},
            {"name": "a/b room", "userCount": 2, "isPrivate": True, "isOwned": True, "isModerated": False},
        ]
        self.rooms: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, int]] = {
            "downloads": {"Album One/01 - Intro.flac": 20_000_000, "Album One/02 - Song.flac": 30_000_000},
            "incomplete": {"Partial/03 - Track.mp3": 1_000_000},
        }
        self.options: dict[str, Any] = {
            "remoteConfiguration": self.config.remote_configuration,
            "remoteFileManagement": self.config.remote_file_management,
            "web": {"urlBase": self.config.url_base, "authentication": {"password": "*****", "apiKeys": {}}},
            "soulseek": {"username": "me", "password": "*****"},
        }
        self.overlay: dict[str, Any] = {}
        self.yaml = "soulseek:\n  username: me\n"
        self._search_semaphore: asyncio.Semaphore | None = None
        self._seed()

    # ------------------------------------------------------------------ setup

    def _seed(self) -> None:
        self.conversations["bob"] = {
            "username": "bob",
            "isActive": True,
            "messages": [
                {
                    "timestamp": now_iso(),
                    "id": 1,
                    "username": "bob",
                    "direction": "In",
                    "message": "hello",
                    "isAcknowledged": False,
                    "wasReplayed": False,
                }
            ],
        }
        upload_id = str(uuid.uuid4())
        self.uploads[upload_id] = self._transfer_record(
            upload_id, "leecher", "Music\\Shared\\song.mp3", 4_000_000, "InProgress", direction="Upload"
        )
        self.uploads[upload_id].update({"bytesTransferred": 1_000_000, "percentComplete": 25.0, "averageSpeed": 5000.0})

    @property
    def version(self) -> tuple[int, int, int]:
        return version_tuple(self.config.version)

    def restart(self, version: str | None = None) -> None:
        """Like a daemon restart (or an upgrade to ``version``): a new JWT signing key kills every token;
        with ``volatile`` the in-memory databases (events, transfers, searches) start empty."""
        self.tokens.clear()
        if version is not None:
            self.config.version = version
        self._search_semaphore = None
        if self.config.volatile:
            for task in list(self.tasks):
                task.cancel()
            self.events.clear()
            self.downloads.clear()
            self.batches.clear()
            self.searches.clear()

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        async def run() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # ------------------------------------------------------------------ application

    def app(self) -> web.Application:
        api = web.Application(middlewares=[self._auth_middleware])
        self._routes(api)
        root = web.Application()
        base = self.config.url_base.rstrip("/")
        if base:
            root.add_subapp(base, api)
        else:
            root = api
        root.on_cleanup.append(lambda _app: self.close())
        return root

    def _routes(self, app: web.Application) -> None:
        r = app.router
        v = "/api/v0"
        r.add_get("/health", self.health)
        # session
        r.add_get(f"{v}/session", self.session_check)
        r.add_get(f"{v}/session/enabled", self.session_enabled)
        r.add_post(f"{v}/session", self.session_login)
        # application
        r.add_get(f"{v}/application", self.application_state)
        r.add_put(f"{v}/application", self.application_restart)
        r.add_delete(f"{v}/application", self.application_shutdown)
        r.add_get(f"{v}/application/version", self.application_version)
        r.add_get(f"{v}/application/version/latest", self.application_latest)
        r.add_post(f"{v}/application/gc", self.ok_empty)
        # server
        r.add_get(f"{v}/server", self.server_get)
        r.add_put(f"{v}/server", self.server_connect)
        r.add_delete(f"{v}/server", self.server_disconnect)
        # searches
        r.add_post(f"{v}/searches", self.search_create)
        r.add_get(f"{v}/searches", self.search_list)
        r.add_get(f"{v}/searches/{{id}}", self.search_get)
        r.add_get(f"{v}/searches/{{id}}/responses", self.search_responses)
        r.add_put(f"{v}/searches/{{id}}", self.search_cancel)
        r.add_delete(f"{v}/searches/{{id}}", self.search_delete)
        # transfers (specific routes before the {username} ones, as ASP.NET ranks literals first);
        # before 0.26 a POST to …/batches reaches the per-user route with the user "batches"
        t = f"{v}/transfers"
        r.add_post(f"{t}/downloads/batches", self._gate((0, 26, 0), self.batch_enqueue, older=self.legacy_enqueue))
        r.add_get(f"{t}/downloads/batches/{{id}}", self._gate((0, 26, 0), self.batch_get, older=self.get_download))
        r.add_delete(f"{t}/downloads/all/completed", self.clear_completed_downloads)
        r.add_delete(f"{t}/uploads/all/completed", self.clear_completed_uploads)
        r.add_post(f"{t}/downloads/{{username}}", self.legacy_enqueue)
        r.add_get(f"{t}/downloads", self.list_downloads)
        r.add_get(f"{t}/downloads/{{username}}", self.user_downloads)
        r.add_get(f"{t}/downloads/{{username}}/{{id}}", self.get_download)
        r.add_get(f"{t}/downloads/{{username}}/{{id}}/position", self.download_position)
        r.add_delete(f"{t}/downloads/{{username}}/{{id}}", self.cancel_download)
        r.add_get(f"{t}/uploads", self.list_uploads)
        r.add_get(f"{t}/uploads/{{username}}", self.user_uploads)
        r.add_get(f"{t}/uploads/{{username}}/{{id}}", self.get_upload)
        r.add_delete(f"{t}/uploads/{{username}}/{{id}}", self.cancel_upload)
        # users
        r.add_get(f"{v}/users/{{username}}/endpoint", self.user_endpoint)
        r.add_get(f"{v}/users/{{username}}/browse", self.user_browse)
        r.add_get(f"{v}/users/{{username}}/browse/status", self.user_browse_status)
        r.add_post(f"{v}/users/{{username}}/directory", self.user_directory)
        r.add_get(f"{v}/users/{{username}}/info", self.user_info)
        r.add_get(f"{v}/users/{{username}}/status", self.user_status)
        # conversations
        c = f"{v}/conversations"
        r.add_get(c, self.conversations_list)
        r.add_get(f"{c}/{{username}}", self.conversation_get)
        r.add_get(f"{c}/{{username}}/messages", self.conversation_messages)
        r.add_post(f"{c}/{{username}}", self.conversation_send)
        r.add_put(f"{c}/{{username}}/{{id}}", self.conversation_ack)
        r.add_put(f"{c}/{{username}}", self.conversation_ack_all)
        r.add_delete(f"{c}/{{username}}", self.conversation_close)
        # rooms
        j = f"{v}/rooms/joined"
        r.add_get(f"{v}/rooms/available", self.rooms_list_available)
        r.add_get(j, self.rooms_list_joined)
        r.add_post(j, self.room_join)
        r.add_get(f"{j}/{{room}}", self.room_get)
        r.add_delete(f"{j}/{{room}}", self.room_leave)
        r.add_get(f"{j}/{{room}}/messages", self.room_messages)
        r.add_post(f"{j}/{{room}}/messages", self.room_send)
        r.add_post(f"{j}/{{room}}/ticker", self.room_ticker)
        r.add_post(f"{j}/{{room}}/members", self.room_member)
        r.add_get(f"{j}/{{room}}/users", self.room_users)
        # events (0.22+)
        r.add_get(f"{v}/events", self._gate((0, 22, 0), self.events_list))
        r.add_post(f"{v}/events/{{type}}", self._gate((0, 22, 0), self.event_raise))
        # files
        for root in ("downloads", "incomplete"):
            r.add_get(f"{v}/files/{root}/directories", self.files_list)
            r.add_get(f"{v}/files/{root}/directories/{{name}}", self.files_list)
            r.add_delete(f"{v}/files/{root}/directories/{{name}}", self.files_delete_directory)
            r.add_delete(f"{v}/files/{root}/files/{{name}}", self.files_delete_file)
        # logs, options
        r.add_get(f"{v}/logs", self.logs)
        r.add_get(f"{v}/options", self.options_get)
        r.add_get(f"{v}/options/startup", self.options_get)
        r.add_patch(f"{v}/options", self._gate((0, 24, 4), self.options_patch, older=self.method_not_allowed))
        r.add_get(f"{v}/options/debug", self.options_debug)
        r.add_get(f"{v}/options/yaml/location", self.options_yaml_location)
        r.add_get(f"{v}/options/yaml", self.options_yaml_get)
        r.add_put(f"{v}/options/yaml", self._gate((0, 24, 4), self.options_yaml_put, older=self.method_not_allowed))
        r.add_post(f"{v}/options/yaml", self._gate((0, 24, 4), self.method_not_allowed, older=self.options_yaml_put))
        r.add_post(f"{v}/options/yaml/validate", self.options_yaml_validate)
        # shares
        r.add_get(f"{v}/shares", self.shares_list)
        r.add_put(f"{v}/shares", self.shares_rescan)
        r.add_delete(f"{v}/shares", self.shares_cancel)
        r.add_get(f"{v}/shares/contents", self.shares_contents)
        r.add_get(f"{v}/shares/{{id}}", self.share_get)
        r.add_get(f"{v}/shares/{{id}}/contents", self.share_contents)
        # telemetry: metrics and metrics/kpi in 0.24.0-0.24.1; metrics/kpis and the reports from 0.24.2
        m = f"{v}/telemetry"
        r.add_get(f"{m}/metrics", self._gate((0, 24, 0), self.metrics))
        r.add_get(f"{m}/metrics/kpi", self._gate((0, 24, 0), self.kpis, until=(0, 24, 2)))
        reports = {
            "metrics/kpis": self.kpis,
            "reports/transfers/summary": self.report_summary,
            "reports/transfers/histogram": self.report_histogram,
            "reports/transfers/leaderboard": self.report_leaderboard,
            "reports/transfers/users/{username}": self.report_user,
            "reports/transfers/exceptions": self.report_exceptions,
            "reports/transfers/exceptions/pareto": self.report_pareto,
            "reports/transfers/directories": self.report_directories,
        }
        for route, handler in reports.items():
            r.add_get(f"{m}/{route}", self._gate((0, 24, 2), handler))
        # relay
        r.add_put(f"{v}/relay/agent", self.relay_connect)
        r.add_delete(f"{v}/relay/agent", self.relay_disconnect)
        r.add_get(f"{v}/relay/controller/downloads/{{token}}", self.relay_download)
        r.add_post(f"{v}/relay/controller/files/{{token}}", self.relay_upload_file)
        r.add_post(f"{v}/relay/controller/shares/{{token}}", self.relay_upload_shares)

    def _gate(
        self,
        since: tuple[int, int, int],
        handler: Handler,
        *,
        until: tuple[int, int, int] | None = None,
        older: Handler | None = None,
    ) -> Handler:
        """A route that exists from ``since`` (and before ``until``); checked per request, so
        :meth:`restart` can change the version. ``older`` answers instead on earlier versions."""

        async def gated(request: web.Request) -> web.StreamResponse:
            if self.version >= since and (until is None or self.version < until):
                return await handler(request)
            if older is not None and self.version < since:
                return await older(request)
            return web.Response(status=404)

        return gated

    async def method_not_allowed(self, _request: web.Request) -> web.Response:
        """ASP.NET's answer when the path exists for other methods only."""
        return web.Response(status=405)

    # ------------------------------------------------------------------ auth

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        public = request.path.endswith("/health") or (
            request.path.endswith("/api/v0/session/enabled")
            or (request.method == "POST" and request.path.endswith("/api/v0/session"))
        )
        if not public and self._principal(request) is None:
            return web.Response(status=401)
        return await handler(request)

    def _principal(self, request: web.Request) -> str | None:
        if self.config.no_auth:
            return "jwt"
        key = request.headers.get("X-API-Key")
        if key is not None:
            return "apikey" if self.config.api_key and secrets.compare_digest(key, self.config.api_key) else None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and token in self.tokens and self.tokens[token] > time.time():
            return "jwt"
        return None

    def _jwt_only(self, request: web.Request) -> None:
        if self._principal(request) != "jwt":
            raise web.HTTPUnauthorized()

    # ------------------------------------------------------------------ session

    async def session_check(self, _request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def session_enabled(self, _request: web.Request) -> web.Response:
        return web.json_response(not self.config.no_auth)

    async def session_login(self, request: web.Request) -> web.Response:
        if self.config.headless:
            return web.Response(status=403)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(body, dict) or not body.get("username") or not body.get("password"):
            return self.text("Username and/or Password missing or invalid", 400)
        if body["username"] != self.config.username or body["password"] != self.config.password:
            return web.Response(status=401)
        self.logins += 1
        issued = int(time.time())
        expires = issued + int(self.config.jwt_ttl)
        token = "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(24) + "." + secrets.token_urlsafe(16)
        self.tokens[token] = time.time() + self.config.jwt_ttl
        return web.json_response(
            {
                "expires": expires,
                "issued": issued,
                "name": body["username"],
                "notBefore": issued,
                "token": token,
                "tokenType": "Bearer",
            }
        )

    # ------------------------------------------------------------------ application, server

    def _server_state(self) -> dict[str, Any]:
        state = "Connected, LoggedIn" if self.connected else "Disconnected"
        return {
            "address": "vps.slsknet.org",
            "ipEndPoint": "198.51.100.7:2271",
            "state": state,
            "isConnected": self.connected,
            "isConnecting": False,
            "isLoggedIn": self.connected,
            "isLoggingIn": False,
            "isTransitioning": False,
        }

    def _version_record(self) -> dict[str, Any]:
        return {
            "full": f"{self.config.version}+conformance",
            "current": self.config.version,
            "latest": self.config.version,
            "isUpdateAvailable": False,
            "isCanary": False,
            "isDevelopment": False,
        }

    async def application_state(self, _request: web.Request) -> web.Response:
        state: dict[str, Any] = {
            "version": self._version_record(),
            "pendingReconnect": False,
            "pendingRestart": False,
            "server": self._server_state(),
            "relay": {"mode": "Debug", "controller": {"state": "Disconnected"}, "agents": []},
            "user": {"username": "me", "privileges": {"isPrivileged": False}, "statistics": {}},
            "distributedNetwork": {"canAcceptChildren": True, "children": [], "hasParent": False},
            "shares": {
                "scanPending": False,
                "scanning": self.scanning,
                "ready": True,
                "faulted": False,
                "cancelled": False,
                "scanProgress": 1.0,
                "hosts": ["local"],
                "directories": 2,
                "files": 3,
            },
            "rooms": list(self.rooms),
            "users": [],
        }
        if self.version >= (0, 24, 0):
            state["health"] = {"status": "Healthy"}
            state["connectionWatchdog"] = {"isEnabled": True, "isAttemptingConnection": False}
        return web.json_response(state)

    async def application_version(self, _request: web.Request) -> web.Response:
        # [Produces("application/json")] on ApplicationController: the version is a JSON string. A 0.26
        # release build reports four parts (a real-run finding, issue 23).
        return web.json_response(f"{self.config.version}.0" if self.version >= (0, 26, 0) else self.config.version)

    async def application_latest(self, _request: web.Request) -> web.Response:
        return web.json_response(self._version_record())

    async def application_restart(self, request: web.Request) -> web.Response:
        self._jwt_only(request)
        return web.Response(status=204)

    async def application_shutdown(self, request: web.Request) -> web.Response:
        self._jwt_only(request)
        return web.Response(status=204)

    async def server_get(self, _request: web.Request) -> web.Response:
        return web.json_response(self._server_state())

    async def server_connect(self, _request: web.Request) -> web.Response:
        was_connected, self.connected = self.connected, True
        if not was_connected:
            self._raise_event("SoulseekClientConnected", {})
        return web.Response(status=200)

    async def server_disconnect(self, request: web.Request) -> web.Response:
        message = await self.json_string(request)
        if message is None:
            return self.text("A non-empty request body is required.", 400)
        self.connected = False
        self._raise_event("SoulseekClientDisconnected", {"message": message, "exception": None})
        return web.Response(status=204)
