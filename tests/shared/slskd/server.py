"""A conformance server for slskd's REST API (``/api/v0``), built from the reference notes.

slskd cannot be installed here, so the slskd client is tested against this server. Each
part reproduces behaviour recorded in ``shared/reference/backend-apis.md`` §1 (read from
slskd's source at 0.26.0, ``src/slskd/**/Controllers``) and the ``slskd-api`` docs:

* **Base URL** (§1.1): everything lives under ``url_base`` (``app.UsePathBase``); the API
  under ``{url_base}/api/v0``; ``GET /health`` needs no auth and answers ``Healthy``.
* **Auth** (§1.1): ``X-API-Key`` (the primary key is Administrator) or ``Authorization:
  Bearer <jwt>`` from ``POST /session`` ``{expires, issued, name, notBefore, token,
  tokenType}``; a missing or bad credential is a bare 401. ``GET /session/enabled`` and
  ``POST /session`` need none; login answers 401 on a wrong password and 403 when headless.
  Tokens expire after ``jwt_ttl`` and all die on :meth:`SlskdConformance.restart` (random
  signing key per start). JWT-only routes (``PUT``/``DELETE /application``, ``/options/yaml*``,
  ``/options/debug``, ``/relay/agent``) answer 401 to an API key.
* **JSON** (§1.1): camelCase, enums as strings, ``[Flags]`` as ``"Completed, Succeeded"``,
  null fields omitted; string results (version, YAML, error messages) as ``text/plain``.
* **Names in paths** (§1.1): usernames and room names are percent-decoded from their raw
  segment (``[UrlEncoded]``, 0.25+), so ``a%2Fb`` is the user ``a/b``.
* **Searches** (§1.2, §1.3): ``POST /searches`` returns the Search; a second POST while one
  is being created answers **429 "Only one concurrent operation is permitted…"**; a duplicate
  id 409; no text 400. State machine ``Requested`` → ``InProgress`` → ``Completed, TimedOut``
  (``searchTimeout`` ms after the last response) / ``Completed, ResponseLimitReached`` /
  ``Completed, FileLimitReached`` / ``Completed, Cancelled`` (``PUT /searches/{id}``);
  ``isComplete`` and ``endedAt`` follow. Responses arrive one peer at a time.
* **Transfers** (§1.2, §1.3): per-user enqueue answers 201 without a body (≤0.23), 201
  ``{enqueued, failed:[filename]}`` (0.24 to 0.25) or ``failed`` as serialised tuples ``{}``
  (0.26); 500 with a message for an offline user; **429** while two enqueues are in flight
  (0.24+). 0.26 adds ``POST /transfers/downloads/batches`` (201 all, 207 some, 200 none; 404
  offline user; 409 duplicate batch id; 400 repeated files) and ``GET …/batches/{id}``; before
  0.26 that POST reaches the per-user route with the user ``batches`` and fails binding (400).
  State machine ``Queued, Remotely`` → ``Initializing`` → ``InProgress`` → ``Completed,
  Succeeded`` / ``Errored`` / ``Rejected`` (file not shared) / ``Cancelled`` (``DELETE``);
  ``?remove=true`` drops the record (``includeRemoved`` shows it); ``all/completed`` drops the
  finished ones. Listings group ``[{username, directories:[{directory, fileCount, files}]}]``.
* **Events** (0.22+, §1.2): newest first, ``X-Total-Count``, ``data`` a JSON **string**;
  ``DownloadFileComplete`` is raised when a download succeeds; ``POST /events/{type}`` raises a
  sample (400 on an unknown type). Before 0.22 the routes do not exist (404).
* **Telemetry** (0.24+): ``/telemetry/metrics[/kpis]`` and the transfer reports, computed from
  the transfers held here, with slskd's 400s on a missing or bad ``direction``.
* The other areas (application, server, users, conversations, rooms, files with base64 paths,
  logs, options with the ``remote_configuration`` and Administrator checks, shares with the
  409 on a running scan, relay) return slskd's shapes from seeded in-memory data.

Simplification: the relay controller routes check ``X-Relay-Credential`` against
:func:`relay_credential` instead of slskd's encrypted token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ONLY_ONE = "Only one concurrent operation is permitted. Wait until the previous request completes"
EVENT_TYPES = (
    "DownloadFileComplete",
    "DownloadDirectoryComplete",
    "UploadFileComplete",
    "PrivateMessageReceived",
    "RoomMessageReceived",
    "SoulseekClientConnected",
    "SoulseekClientDisconnected",
    "Noop",
)


def relay_credential(agent_secret: str, token: str) -> str:
    """The credential a relay agent presents for ``token`` (a stand-in for slskd's encrypted one)."""
    return hashlib.sha256(f"{agent_secret}:{token}".encode()).hexdigest()


def now_iso(at: float | None = None) -> str:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def timespan(seconds: float) -> str:
    """A .NET TimeSpan string (``hh:mm:ss.fffffff``)."""
    whole = int(seconds)
    fraction = round((seconds - whole) * 10_000_000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{fraction:07d}"


def version_tuple(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in text.split(".")[:3])
    return major, minor, patch


@dataclass
class Peer:
    """A Soulseek user as the server sees them: shares, slots, and how their transfers go."""

    username: str
    files: dict[str, int] = field(default_factory=dict)
    online: bool = True
    free_slot: bool = True
    queue_length: int = 0
    upload_speed: int = 1_000_000
    response_delay: float = 0.0
    errored: set[str] = field(default_factory=set)
    """Files whose download ends ``Completed, Errored``."""
    hold: bool = False
    """Downloads from this peer stay ``Queued, Remotely`` (a long remote queue)."""
    locked: set[str] = field(default_factory=set)
    browse_delay: float = 0.0


@dataclass
class Config:
    """How the simulated slskd is set up (its YAML options, in effect)."""

    version: str = "0.26.0"
    api_key: str | None = "conformance-api-key-0123456789"
    username: str = "slskd"
    password: str = "slskd"
    jwt_ttl: float = 604800.0
    url_base: str = "/"
    headless: bool = False
    no_auth: bool = False
    remote_configuration: bool = False
    remote_file_management: bool = False
    debug: bool = False
    tick: float = 0.02
    """Seconds per step of the transfer state machine."""
    response_interval: float = 0.02
    """Seconds between two peers' search responses."""
    operation_delay: float = 0.05
    """How long a search or enqueue POST holds slskd's concurrency limiter."""
    relay_agents: dict[str, str] = field(default_factory=dict)


@dataclass
class Search:
    record: dict[str, Any]
    request: dict[str, Any]
    responses: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class SlskdConformance:
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

    def restart(self) -> None:
        """Like a daemon restart: a new JWT signing key, so every issued token dies."""
        self.tokens.clear()

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
        # transfers (specific routes before the {username} ones, as ASP.NET ranks literals first)
        t = f"{v}/transfers"
        if self.version >= (0, 26, 0):
            r.add_post(f"{t}/downloads/batches", self.batch_enqueue)
            r.add_get(f"{t}/downloads/batches/{{id}}", self.batch_get)
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
        if self.version >= (0, 22, 0):
            r.add_get(f"{v}/events", self.events_list)
            r.add_post(f"{v}/events/{{type}}", self.event_raise)
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
        r.add_patch(f"{v}/options", self.options_patch)
        r.add_get(f"{v}/options/debug", self.options_debug)
        r.add_get(f"{v}/options/yaml/location", self.options_yaml_location)
        r.add_get(f"{v}/options/yaml", self.options_yaml_get)
        r.add_put(f"{v}/options/yaml", self.options_yaml_put)
        r.add_post(f"{v}/options/yaml/validate", self.options_yaml_validate)
        # shares
        r.add_get(f"{v}/shares", self.shares_list)
        r.add_put(f"{v}/shares", self.shares_rescan)
        r.add_delete(f"{v}/shares", self.shares_cancel)
        r.add_get(f"{v}/shares/contents", self.shares_contents)
        r.add_get(f"{v}/shares/{{id}}", self.share_get)
        r.add_get(f"{v}/shares/{{id}}/contents", self.share_contents)
        # telemetry (0.24+)
        if self.version >= (0, 24, 0):
            m = f"{v}/telemetry"
            r.add_get(f"{m}/metrics", self.metrics)
            r.add_get(f"{m}/metrics/kpis", self.kpis)
            r.add_get(f"{m}/reports/transfers/summary", self.report_summary)
            r.add_get(f"{m}/reports/transfers/histogram", self.report_histogram)
            r.add_get(f"{m}/reports/transfers/leaderboard", self.report_leaderboard)
            r.add_get(f"{m}/reports/transfers/users/{{username}}", self.report_user)
            r.add_get(f"{m}/reports/transfers/exceptions", self.report_exceptions)
            r.add_get(f"{m}/reports/transfers/exceptions/pareto", self.report_pareto)
            r.add_get(f"{m}/reports/transfers/directories", self.report_directories)
        # relay
        r.add_put(f"{v}/relay/agent", self.relay_connect)
        r.add_delete(f"{v}/relay/agent", self.relay_disconnect)
        r.add_get(f"{v}/relay/controller/downloads/{{token}}", self.relay_download)
        r.add_post(f"{v}/relay/controller/files/{{token}}", self.relay_upload_file)
        r.add_post(f"{v}/relay/controller/shares/{{token}}", self.relay_upload_shares)

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

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def text(message: str, status: int = 200) -> web.Response:
        return web.Response(status=status, text=message, content_type="text/plain")

    @staticmethod
    async def json_string(request: web.Request) -> str | None:
        """A ``[FromBody] string`` parameter: the body must be a JSON string."""
        try:
            value = await request.json()
        except ValueError:
            return None
        return value if isinstance(value, str) else None

    @staticmethod
    def flag(request: web.Request, name: str, default: bool) -> bool:
        value = request.query.get(name)
        return default if value is None else value.lower() == "true"

    async def ok_empty(self, _request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def health(self, _request: web.Request) -> web.Response:
        return self.text("Healthy")

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
        return self.text(self.config.version)

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

    # ------------------------------------------------------------------ searches

    async def search_create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self.text("The request body is not valid JSON.", 400)
        if not isinstance(body, dict) or not str(body.get("searchText") or "").strip():
            return self.text("The SearchText field is required.", 400)
        search_id = str(body.get("id") or uuid.uuid4())
        try:
            search_id = str(uuid.UUID(search_id))
        except ValueError:
            return self.text(f"The value '{search_id}' is not valid.", 400)
        if self.search_busy >= 1:
            return self.text(ONLY_ONE, 429)
        self.search_busy += 1
        self.max_search_busy = max(self.max_search_busy, self.search_busy)
        try:
            await asyncio.sleep(self.config.operation_delay)
            if search_id in self.searches:
                return self.text(f"An active search with ID {search_id} is already in progress.", 409)
            search = Search(
                record={
                    "id": search_id,
                    "searchText": body["searchText"],
                    "token": len(self.searches) + 1000,
                    "state": "Requested",
                    "isComplete": False,
                    "startedAt": now_iso(),
                    "responseCount": 0,
                    "fileCount": 0,
                    "lockedFileCount": 0,
                    "responses": [],
                },
                request=body,
            )
            self.searches[search_id] = search
            search.task = self._spawn(self._run_search(search))
            return web.json_response(search.record)
        finally:
            self.search_busy -= 1

    async def _run_search(self, search: Search) -> None:
        text = str(search.record["searchText"]).lower().split()
        timeout = float(search.request.get("searchTimeout", 15000)) / 1000.0
        response_limit = int(search.request.get("responseLimit", 250))
        file_limit = int(search.request.get("fileLimit", 25000))
        await asyncio.sleep(self.config.response_interval)
        search.record["state"] = "InProgress"
        started = time.monotonic()
        for peer in sorted(self.peers.values(), key=lambda p: p.response_delay):
            if not peer.online:
                continue
            matches = {n: s for n, s in peer.files.items() if all(word in n.lower() for word in text)}
            if not matches:
                continue
            await asyncio.sleep(max(self.config.response_interval, started + peer.response_delay - time.monotonic()))
            search.responses.append(self._response(search, peer, matches))
            search.record["responseCount"] = len(search.responses)
            search.record["fileCount"] += sum(1 for n in matches if n not in peer.locked)
            search.record["lockedFileCount"] += sum(1 for n in matches if n in peer.locked)
            if search.record["fileCount"] >= file_limit:
                self._finish_search(search, "FileLimitReached")
                return
            if len(search.responses) >= response_limit:
                self._finish_search(search, "ResponseLimitReached")
                return
        await asyncio.sleep(timeout)
        self._finish_search(search, "TimedOut")

    @staticmethod
    def _response(search: Search, peer: Peer, matches: dict[str, int]) -> dict[str, Any]:
        def entry(name: str, size: int) -> dict[str, Any]:
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            item: dict[str, Any] = {
                "filename": name,
                "size": size,
                "code": 1,
                "extension": extension,
                "isLocked": name in peer.locked,
            }
            if extension == "mp3":
                item.update({"bitRate": 320, "length": 215, "isVariableBitRate": False})
            elif extension == "flac":
                item.update({"bitDepth": 16, "sampleRate": 44100, "length": 215})
            return item

        unlocked = [entry(n, s) for n, s in matches.items() if n not in peer.locked]
        locked = [entry(n, s) for n, s in matches.items() if n in peer.locked]
        return {
            "username": peer.username,
            "fileCount": len(unlocked),
            "files": unlocked,
            "lockedFileCount": len(locked),
            "lockedFiles": locked,
            "hasFreeUploadSlot": peer.free_slot,
            "queueLength": peer.queue_length,
            "uploadSpeed": peer.upload_speed,
            "token": search.record["token"],
        }

    @staticmethod
    def _finish_search(search: Search, reason: str) -> None:
        if search.record["isComplete"]:
            return
        search.record["state"] = f"Completed, {reason}"
        search.record["isComplete"] = True
        search.record["endedAt"] = now_iso()

    def _search(self, request: web.Request) -> Search:
        try:
            search_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            raise web.HTTPNotFound() from None
        search = self.searches.get(search_id)
        if search is None:
            raise web.HTTPNotFound()
        return search

    async def search_list(self, _request: web.Request) -> web.Response:
        return web.json_response([{**s.record, "responses": []} for s in self.searches.values()])

    async def search_get(self, request: web.Request) -> web.Response:
        search = self._search(request)
        include = self.flag(request, "includeResponses", default=False)
        return web.json_response({**search.record, "responses": search.responses if include else []})

    async def search_responses(self, request: web.Request) -> web.Response:
        return web.json_response(self._search(request).responses)

    async def search_cancel(self, request: web.Request) -> web.Response:
        search = self._search(request)
        if search.task is not None:
            search.task.cancel()
        self._finish_search(search, "Cancelled")
        return web.Response(status=200)

    async def search_delete(self, request: web.Request) -> web.Response:
        search = self._search(request)
        if search.task is not None:
            search.task.cancel()
        del self.searches[search.record["id"]]
        return web.Response(status=204)

    # ------------------------------------------------------------------ transfers

    def _transfer_record(
        self, transfer_id: str, username: str, filename: str, size: int, state: str, direction: str = "Download"
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": transfer_id,
            "username": username,
            "direction": direction,
            "filename": filename,
            "size": size,
            "state": state,
            "requestedAt": now_iso(),
            "bytesTransferred": 0,
            "averageSpeed": 0.0,
            "bytesRemaining": size,
            "percentComplete": 0.0,
            "removed": False,
        }
        if self.version >= (0, 26, 0):
            record["attempts"] = 0
        return record

    def _enqueue_one(self, peer: Peer, filename: str, size: int, batch_id: str | None) -> dict[str, Any]:
        transfer_id = str(uuid.uuid4())
        record = self._transfer_record(transfer_id, peer.username, filename, size, "Queued, Remotely")
        record["enqueuedAt"] = now_iso()
        record["placeInQueue"] = peer.queue_length + 1
        if batch_id is not None:
            record["batchId"] = batch_id
        self.downloads[transfer_id] = record
        record_task = self._spawn(self._run_transfer(peer, record))
        record_task.set_name(transfer_id)
        return record

    def _in_flight(self, username: str, filename: str) -> bool:
        return any(
            t["username"] == username and t["filename"] == filename and "Completed" not in t["state"]
            for t in self.downloads.values()
        )

    async def _run_transfer(self, peer: Peer, record: dict[str, Any]) -> None:
        tick = self.config.tick
        await asyncio.sleep(tick)
        while peer.hold:  # noqa: ASYNC110 - tests flip this plain flag at any time
            await asyncio.sleep(tick)
        if record["filename"] not in peer.files:
            self._end_transfer(record, "Completed, Rejected", "File not shared.")
            return
        record["state"] = "Initializing"
        record.pop("placeInQueue", None)
        await asyncio.sleep(tick)
        record["state"] = "InProgress"
        record["startedAt"] = now_iso()
        size = int(record["size"])
        started = time.monotonic()
        for step in range(1, 4):
            await asyncio.sleep(tick)
            done = size * step // 4
            elapsed = max(time.monotonic() - started, 1e-3)
            record.update(
                {
                    "bytesTransferred": done,
                    "bytesRemaining": size - done,
                    "percentComplete": round(100.0 * done / size, 2) if size else 0.0,
                    "averageSpeed": done / elapsed,
                    "elapsedTime": timespan(elapsed),
                    "remainingTime": timespan((size - done) / (done / elapsed) if done else 0.0),
                }
            )
            if step == 2 and record["filename"] in peer.errored:
                self._end_transfer(record, "Completed, Errored", "Remote connection closed")
                return
        await asyncio.sleep(tick)
        record.update({"bytesTransferred": size, "bytesRemaining": 0, "percentComplete": 100.0})
        self._end_transfer(record, "Completed, Succeeded", None)
        local = "/downloads/" + record["filename"].replace("\\", "/").rsplit("/", 1)[-1]
        self._raise_event(
            "DownloadFileComplete", {"localFilename": local, "remoteFilename": record["filename"], "transfer": record}
        )

    @staticmethod
    def _end_transfer(record: dict[str, Any], state: str, exception: str | None) -> None:
        record["state"] = state
        record["endedAt"] = now_iso()
        record.pop("placeInQueue", None)
        if exception is not None:
            record["exception"] = exception

    def _cancel_task(self, transfer_id: str) -> None:
        for task in self.tasks:
            if task.get_name() == transfer_id:
                task.cancel()

    async def _enqueue_slot(self) -> bool:
        """slskd 0.24+ allows two enqueues in flight; a third answers 429."""
        if self.version >= (0, 24, 0) and self.enqueue_busy >= 2:
            return False
        self.enqueue_busy += 1
        self.max_enqueue_busy = max(self.max_enqueue_busy, self.enqueue_busy)
        await asyncio.sleep(self.config.operation_delay)
        return True

    async def legacy_enqueue(self, request: web.Request) -> web.Response:
        username = request.match_info["username"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            return self.text("The input was not valid.", 400)
        if not body:
            return self.text("At least one file is required", 400)
        if any(not isinstance(f, dict) or not f.get("filename") for f in body):
            return self.text("One or more files in the request are null", 400)
        if any(".." in str(f["filename"]).replace("\\", "/").split("/") for f in body):
            return self.text("One or more files in the request contain a dangerous path traversal segment", 400)
        if not await self._enqueue_slot():
            return self.text(ONLY_ONE, 429)
        try:
            peer = self.peers.get(username)
            if peer is None or not peer.online:
                return self.text(f"Failed to enqueue download: User {username} appears to be offline", 500)
            enqueued, failed = [], []
            for item in body:
                if self._in_flight(username, item["filename"]):
                    failed.append(item["filename"])
                    continue
                enqueued.append(dict(self._enqueue_one(peer, item["filename"], int(item.get("size", 0)), None)))
            if self.version < (0, 24, 0):
                return web.Response(status=201)
            if self.version >= (0, 26, 0):
                # System.Text.Json skips tuple fields: each (Filename, Message) comes out as {}.
                return web.json_response({"enqueued": enqueued, "failed": [{} for _ in failed]}, status=201)
            return web.json_response({"enqueued": enqueued, "failed": failed}, status=201)
        finally:
            self.enqueue_busy -= 1

    async def batch_enqueue(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("username") or not isinstance(body.get("files"), list):
            return self.text("The Username field is required. The Files field is required.", 400)
        files = body["files"]
        if any(not isinstance(f, dict) or not f.get("filename") or "size" not in f for f in files):
            return self.text("One or more files in the request are null", 400)
        names = [f["filename"] for f in files]
        if len(set(names)) != len(names):
            return self.text("Two or more files in the request are repeated", 400)
        try:
            batch_id = str(uuid.UUID(str(body.get("id") or uuid.uuid4())))
            search_id = str(uuid.UUID(body["searchId"])) if body.get("searchId") else None
        except ValueError:
            return self.text("One or more provided identifiers is not a valid GUID/UUID", 400)
        if not await self._enqueue_slot():
            return self.text(ONLY_ONE, 429)
        try:
            peer = self.peers.get(body["username"])
            if peer is None or not peer.online:
                return self.text(f"User {body['username']} appears to be offline", 404)
            if batch_id in self.batches:
                return self.text(f"A batch with ID {batch_id} already exists", 409)
            transfers, failures = [], []
            for item in files:
                if self._in_flight(peer.username, item["filename"]):
                    failures.append({"filename": item["filename"], "message": "A download is already in progress"})
                    continue
                transfers.append(self._enqueue_one(peer, item["filename"], int(item["size"]), batch_id))
            batch: dict[str, Any] = {
                "id": batch_id,
                "username": peer.username,
                "direction": "Download",
                "createdAt": now_iso(),
                "options": body.get("options") or {},
                "transfers": [dict(t) for t in transfers],
            }
            if search_id is not None:
                batch["searchId"] = search_id
            self.batches[batch_id] = batch
            status = 201 if not failures else (207 if transfers else 200)
            return web.json_response({"batch": batch, "failures": failures}, status=status)
        finally:
            self.enqueue_busy -= 1

    async def batch_get(self, request: web.Request) -> web.Response:
        try:
            batch_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            return self.text(f"The specified id {request.match_info['id']} is not a valid GUID/UUID", 400)
        batch = self.batches.get(batch_id)
        if batch is None:
            return web.Response(status=404)
        return web.json_response({**batch, "transfers": [self.downloads.get(t["id"], t) for t in batch["transfers"]]})

    @staticmethod
    def _group(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        users: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for record in records:
            name = record["filename"].replace("/", "\\")
            directory = name.rsplit("\\", 1)[0] if "\\" in name else ""
            users.setdefault(record["username"], {}).setdefault(directory, []).append(record)
        return [
            {
                "username": username,
                "directories": [
                    {"directory": d, "fileCount": len(files), "files": files} for d, files in directories.items()
                ],
            }
            for username, directories in users.items()
        ]

    def _list(self, store: dict[str, dict[str, Any]], request: web.Request) -> web.Response:
        include_removed = self.flag(request, "includeRemoved", default=False)
        return web.json_response(self._group([t for t in store.values() if include_removed or not t["removed"]]))

    def _user(self, store: dict[str, dict[str, Any]], request: web.Request) -> web.Response:
        username = request.match_info["username"]
        records = [t for t in store.values() if t["username"] == username and not t["removed"]]
        if not records:
            return web.Response(status=404)
        return web.json_response(self._group(records)[0])

    @staticmethod
    def _one(store: dict[str, dict[str, Any]], request: web.Request) -> dict[str, Any]:
        try:
            transfer_id = str(uuid.UUID(request.match_info["id"]))
        except ValueError:
            raise web.HTTPBadRequest() from None
        record = store.get(transfer_id)
        if record is None or record["username"] != request.match_info["username"]:
            raise web.HTTPNotFound()
        return record

    async def list_downloads(self, request: web.Request) -> web.Response:
        return self._list(self.downloads, request)

    async def list_uploads(self, request: web.Request) -> web.Response:
        return self._list(self.uploads, request)

    async def user_downloads(self, request: web.Request) -> web.Response:
        return self._user(self.downloads, request)

    async def user_uploads(self, request: web.Request) -> web.Response:
        return self._user(self.uploads, request)

    async def get_download(self, request: web.Request) -> web.Response:
        return web.json_response(self._one(self.downloads, request))

    async def get_upload(self, request: web.Request) -> web.Response:
        return web.json_response(self._one(self.uploads, request))

    async def download_position(self, request: web.Request) -> web.Response:
        record = self._one(self.downloads, request)
        if "placeInQueue" not in record:
            return web.Response(status=404)
        return web.json_response(record["placeInQueue"])

    def _cancel(self, store: dict[str, dict[str, Any]], request: web.Request) -> web.Response:
        record = self._one(store, request)
        if "Completed" not in record["state"]:
            self._cancel_task(record["id"])
            self._end_transfer(record, "Completed, Cancelled", "Operation cancelled")
        if self.flag(request, "remove", default=False):
            record["removed"] = True
        return web.Response(status=204)

    async def cancel_download(self, request: web.Request) -> web.Response:
        return self._cancel(self.downloads, request)

    async def cancel_upload(self, request: web.Request) -> web.Response:
        return self._cancel(self.uploads, request)

    @staticmethod
    def _clear(store: dict[str, dict[str, Any]]) -> web.Response:
        for record in store.values():
            if "Completed" in record["state"]:
                record["removed"] = True
        return web.Response(status=204)

    async def clear_completed_downloads(self, _request: web.Request) -> web.Response:
        return self._clear(self.downloads)

    async def clear_completed_uploads(self, _request: web.Request) -> web.Response:
        return self._clear(self.uploads)

    # ------------------------------------------------------------------ events

    def _raise_event(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self.version < (0, 22, 0):
            return {}
        event = {"id": str(uuid.uuid4()), "timestamp": now_iso(), "type": event_type, "version": 0, **payload}
        record = {"timestamp": event["timestamp"], "type": event_type, "data": json.dumps(event), "id": event["id"]}
        self.events.insert(0, record)
        return event

    async def events_list(self, request: web.Request) -> web.Response:
        try:
            offset = int(request.query.get("offset", "0"))
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return web.Response(status=400)
        if offset < 0:
            return self.text("Offset must be greater than or equal to zero", 400)
        if limit <= 0:
            return self.text("Limit must be greater than zero", 400)
        return web.json_response(self.events[offset : offset + limit], headers={"X-Total-Count": str(len(self.events))})

    async def event_raise(self, request: web.Request) -> web.Response:
        requested = request.match_info["type"]
        matches = [t for t in (*EVENT_TYPES, "None", "Any") if t.lower() == requested.lower()]
        if not matches:
            names = ", ".join(EVENT_TYPES)
            return self.text(f"Unknown event type '{requested}'; must be one of {names}", 400)
        if matches[0] in ("None", "Any"):
            return self.text(f"Event type '{requested}' can not be raised", 400)
        d = await self.json_string(request) or ""
        samples: dict[str, dict[str, Any]] = {
            "DownloadFileComplete": {"localFilename": f"{d}local.file", "remoteFilename": f"{d}remote.file"},
            "DownloadDirectoryComplete": {
                "localDirectoryName": f"{d}local.directory",
                "remoteDirectoryName": f"{d}remote.directory",
                "username": f"{d}username",
            },
            "UploadFileComplete": {"localFilename": f"{d}local.file", "remoteFilename": f"{d}remote.file"},
            "PrivateMessageReceived": {"message": {"id": 42, "username": f"{d}username", "message": f"{d}message"}},
            "RoomMessageReceived": {"message": {"roomName": f"{d}room", "username": f"{d}username"}},
        }
        event = self._raise_event(matches[0], samples.get(matches[0], {}))
        return web.json_response(event, status=201)

    # ------------------------------------------------------------------ users

    def _peer(self, request: web.Request) -> Peer:
        peer = self.peers.get(request.match_info["username"])
        if peer is None or not peer.online:
            raise web.HTTPNotFound(text=f"User {request.match_info['username']} appears to be offline")
        return peer

    async def user_endpoint(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        port = 2234 + sum(map(ord, peer.username)) % 1000
        return web.json_response({"addressFamily": "InterNetwork", "address": "203.0.113.5", "port": port})

    @staticmethod
    def _directories(peer: Peer) -> list[dict[str, Any]]:
        folders: dict[str, list[dict[str, Any]]] = {}
        for name, size in peer.files.items():
            directory, _, base = name.replace("/", "\\").rpartition("\\")
            extension = base.rsplit(".", 1)[-1] if "." in base else ""
            folders.setdefault(directory, []).append(
                {
                    "code": 1,
                    "filename": base,
                    "size": size,
                    "extension": extension,
                    "attributeCount": 0,
                    "attributes": [],
                }
            )
        return [{"name": d, "fileCount": len(f), "files": f} for d, f in folders.items()]

    async def user_browse(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        total = sum(peer.files.values())
        self.browsing[peer.username] = {
            "username": peer.username,
            "size": total,
            "bytesTransferred": 0,
            "bytesRemaining": total,
            "percentComplete": 0,
        }
        try:
            await asyncio.sleep(peer.browse_delay)
        finally:
            del self.browsing[peer.username]
        directories = self._directories(peer)
        return web.json_response(
            {
                "directoryCount": len(directories),
                "directories": directories,
                "lockedDirectoryCount": 0,
                "lockedDirectories": [],
            }
        )

    async def user_browse_status(self, request: web.Request) -> web.Response:
        status = self.browsing.get(request.match_info["username"])
        if status is None:
            return web.Response(status=404)
        return web.json_response(status)

    async def user_directory(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("directory"):
            return web.Response(status=400)
        wanted = str(body["directory"]).replace("/", "\\")
        found = [d for d in self._directories(peer) if d["name"] == wanted]
        if not found:
            return self.text(f"Directory {wanted} not found", 404)
        return web.json_response(found)

    async def user_info(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        return web.json_response(
            {
                "description": f"{peer.username}'s shares",
                "hasFreeUploadSlot": peer.free_slot,
                "hasPicture": False,
                "queueLength": peer.queue_length,
                "uploadSlots": 2,
            }
        )

    async def user_status(self, request: web.Request) -> web.Response:
        self._peer(request)
        return web.json_response({"isPrivileged": False, "presence": "Online"})

    # ------------------------------------------------------------------ conversations

    @staticmethod
    def _conversation_view(conversation: dict[str, Any], include_messages: bool) -> dict[str, Any]:
        unacked = sum(1 for m in conversation["messages"] if not m["isAcknowledged"] and m["direction"] == "In")
        view = {
            "username": conversation["username"],
            "isActive": conversation["isActive"],
            "unAcknowledgedMessageCount": unacked,
            "hasUnAcknowledgedMessages": unacked > 0,
        }
        if include_messages:
            view["messages"] = conversation["messages"]
        return view

    def _conversation(self, request: web.Request) -> dict[str, Any]:
        conversation = self.conversations.get(request.match_info["username"])
        if conversation is None:
            raise web.HTTPNotFound()
        return conversation

    async def conversations_list(self, request: web.Request) -> web.Response:
        include_inactive = self.flag(request, "includeInactive", default=False)
        unacked_only = self.flag(request, "unAcknowledgedOnly", default=False)
        views = [
            self._conversation_view(c, include_messages=False)
            for c in self.conversations.values()
            if include_inactive or c["isActive"]
        ]
        return web.json_response([v for v in views if not unacked_only or v["hasUnAcknowledgedMessages"]])

    async def conversation_get(self, request: web.Request) -> web.Response:
        include = self.flag(request, "includeMessages", default=True)
        return web.json_response(self._conversation_view(self._conversation(request), include))

    async def conversation_messages(self, request: web.Request) -> web.Response:
        messages = self._conversation(request)["messages"]
        if self.flag(request, "unAcknowledgedOnly", default=False):
            messages = [m for m in messages if not m["isAcknowledged"]]
        return web.json_response(messages)

    async def conversation_send(self, request: web.Request) -> web.Response:
        message = await self.json_string(request)
        username = request.match_info["username"]
        if not message:
            return web.Response(status=400)
        conversation = self.conversations.setdefault(username, {"username": username, "isActive": True, "messages": []})
        conversation["isActive"] = True
        conversation["messages"].append(
            {
                "timestamp": now_iso(),
                "id": len(conversation["messages"]) + 1,
                "username": username,
                "direction": "Out",
                "message": message,
                "isAcknowledged": True,
                "wasReplayed": False,
            }
        )
        return web.Response(status=201)

    async def conversation_ack(self, request: web.Request) -> web.Response:
        conversation = self._conversation(request)
        for message in conversation["messages"]:
            if str(message["id"]) == request.match_info["id"]:
                message["isAcknowledged"] = True
                return web.Response(status=200)
        return web.Response(status=404)

    async def conversation_ack_all(self, request: web.Request) -> web.Response:
        for message in self._conversation(request)["messages"]:
            message["isAcknowledged"] = True
        return web.Response(status=200)

    async def conversation_close(self, request: web.Request) -> web.Response:
        self._conversation(request)["isActive"] = False
        return web.Response(status=204)

    # ------------------------------------------------------------------ rooms

    def _room(self, request: web.Request) -> dict[str, Any]:
        room = self.rooms.get(request.match_info["room"])
        if room is None:
            raise web.HTTPNotFound()
        return room

    async def rooms_list_available(self, _request: web.Request) -> web.Response:
        return web.json_response(self.rooms_available)

    async def rooms_list_joined(self, _request: web.Request) -> web.Response:
        return web.json_response(list(self.rooms))

    async def room_join(self, request: web.Request) -> web.Response:
        name = await self.json_string(request)
        if not name:
            return web.Response(status=400)
        if name in self.rooms:
            return web.Response(status=200)
        known = {r["name"]: r for r in self.rooms_available}
        self.rooms[name] = {
            "name": name,
            "isPrivate": bool(known.get(name, {}).get("isPrivate")),
            "users": [
                {
                    "username": "me",
                    "status": "Online",
                    "averageSpeed": 0,
                    "uploadCount": 0,
                    "fileCount": 3,
                    "directoryCount": 2,
                    "slotsFree": 2,
                    "countryCode": "NL",
                }
            ],
            "messages": [],
            "tickers": {},
            "members": [],
        }
        return web.json_response(self.rooms[name], status=201)

    async def room_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._room(request))

    async def room_leave(self, request: web.Request) -> web.Response:
        self._room(request)
        del self.rooms[request.match_info["room"]]
        return web.Response(status=204)

    async def room_messages(self, request: web.Request) -> web.Response:
        return web.json_response(self._room(request)["messages"])

    async def room_send(self, request: web.Request) -> web.Response:
        room = self._room(request)
        message = await self.json_string(request)
        if not message:
            return web.Response(status=400)
        room["messages"].append(
            {"timestamp": now_iso(), "username": "me", "message": message, "roomName": room["name"]}
        )
        return web.Response(status=201)

    async def room_ticker(self, request: web.Request) -> web.Response:
        room = self._room(request)
        room["tickers"]["me"] = await self.json_string(request) or ""
        return web.Response(status=201)

    async def room_member(self, request: web.Request) -> web.Response:
        room = self._room(request)
        username = await self.json_string(request)
        if not username:
            return web.Response(status=400)
        room["members"].append(username)
        return web.Response(status=201)

    async def room_users(self, request: web.Request) -> web.Response:
        return web.json_response(self._room(request)["users"])

    # ------------------------------------------------------------------ files

    @staticmethod
    def _root(request: web.Request) -> str:
        return "downloads" if "/files/downloads/" in request.path else "incomplete"

    @staticmethod
    def _decode_name(request: web.Request) -> str:
        try:
            return base64.b64decode(request.match_info["name"], validate=True).decode().replace("\\", "/").strip("/")
        except (binascii.Error, UnicodeDecodeError):
            raise web.HTTPInternalServerError(text="The input is not a valid Base-64 string") from None

    def _tree(self, root: str, prefix: str, recursive: bool) -> dict[str, Any]:
        stamp = now_iso()
        files = self.files[root]
        base = f"{prefix}/" if prefix else ""
        direct = [p for p in files if p.startswith(base) and "/" not in p[len(base) :]]
        subdirs = sorted({p[len(base) :].split("/", 1)[0] for p in files if p.startswith(base) and p not in direct})
        return {
            "name": prefix.rsplit("/", 1)[-1] or root,
            "fullName": f"/{root}/{prefix}".rstrip("/"),
            "attributes": "Directory",
            "createdAt": stamp,
            "modifiedAt": stamp,
            "files": [
                {
                    "name": p.rsplit("/", 1)[-1],
                    "fullName": f"/{root}/{p}",
                    "length": files[p],
                    "attributes": "Archive",
                    "createdAt": stamp,
                    "modifiedAt": stamp,
                }
                for p in direct
            ],
            "directories": [
                self._tree(root, base + d, recursive)
                if recursive
                else {"name": d, "fullName": f"/{root}/{base}{d}", "attributes": "Directory"}
                for d in subdirs
            ],
        }

    async def files_list(self, request: web.Request) -> web.Response:
        root = self._root(request)
        prefix = self._decode_name(request) if "name" in request.match_info else ""
        if prefix and not any(p.startswith(prefix + "/") for p in self.files[root]):
            return web.Response(status=404)
        return web.json_response(self._tree(root, prefix, self.flag(request, "recursive", default=False)))

    async def files_delete_directory(self, request: web.Request) -> web.Response:
        if not self.config.remote_file_management:
            return web.Response(status=403)
        root, prefix = self._root(request), self._decode_name(request)
        doomed = [p for p in self.files[root] if p.startswith(prefix + "/")]
        if not doomed:
            return web.Response(status=404)
        for path in doomed:
            del self.files[root][path]
        return web.Response(status=204)

    async def files_delete_file(self, request: web.Request) -> web.Response:
        if not self.config.remote_file_management:
            return web.Response(status=403)
        root, name = self._root(request), self._decode_name(request)
        if name not in self.files[root]:
            return web.Response(status=404)
        del self.files[root][name]
        return web.Response(status=204)

    # ------------------------------------------------------------------ logs, options

    async def logs(self, _request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"timestamp": now_iso(), "context": "Application", "level": "Information", "message": "started"},
                {"timestamp": now_iso(), "context": "SoulseekClient", "level": "Information", "message": "logged in"},
            ]
        )

    async def options_get(self, _request: web.Request) -> web.Response:
        return web.json_response(self.options)

    def _remote_config(self, request: web.Request, *, jwt_only: bool) -> None:
        if jwt_only:
            self._jwt_only(request)
        if not self.config.remote_configuration:
            raise web.HTTPForbidden()

    async def options_patch(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=False)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.text("The overlay is not a JSON object", 400)
        self.overlay.update(body)
        return web.json_response(self.overlay)

    async def options_debug(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        if not self.config.debug:
            raise web.HTTPForbidden()
        return self.text("soulseek:username=me (YamlConfigurationProvider)")

    async def options_yaml_location(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        return self.text("/app/slskd.yml")

    async def options_yaml_get(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        return self.text(self.yaml)

    @staticmethod
    def _yaml_error(yaml: str) -> str | None:
        return None if ":" in yaml and "\t" not in yaml else "(Line: 1, Col: 1): not a YAML mapping"

    async def options_yaml_put(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        yaml = await self.json_string(request)
        error = self._yaml_error(yaml or "")
        if yaml is None or error is not None:
            return self.text(error or "A YAML string is required", 400)
        self.yaml = yaml
        return web.Response(status=200)

    async def options_yaml_validate(self, request: web.Request) -> web.Response:
        self._remote_config(request, jwt_only=True)
        error = self._yaml_error(await self.json_string(request) or "")
        return self.text(error) if error else web.Response(status=200)

    # ------------------------------------------------------------------ shares

    _SHARE: ClassVar[dict[str, Any]] = {
        "id": "music",
        "alias": "music",
        "isExcluded": False,
        "localPath": "/music",
        "raw": "/music",
        "remotePath": "@@music",
        "directories": 2,
        "files": 3,
    }

    async def shares_list(self, _request: web.Request) -> web.Response:
        return web.json_response({"local": [self._SHARE]})

    async def share_get(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self._SHARE["id"]:
            return web.Response(status=404)
        return web.json_response(self._SHARE)

    def _share_contents(self) -> list[dict[str, Any]]:
        return self._directories(Peer("me", {"@@music\\Album\\a.flac": 10, "@@music\\Album\\b.flac": 20}))

    async def shares_contents(self, _request: web.Request) -> web.Response:
        return web.json_response(self._share_contents())

    async def share_contents(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self._SHARE["id"]:
            return web.Response(status=404)
        return web.json_response(self._share_contents())

    async def shares_rescan(self, _request: web.Request) -> web.Response:
        if self.scanning:
            return self.text("A share scan is already in progress.", 409)
        self.scanning = True
        return web.Response(status=200)

    async def shares_cancel(self, _request: web.Request) -> web.Response:
        if not self.scanning:
            return web.Response(status=404)
        self.scanning = False
        return web.Response(status=204)

    # ------------------------------------------------------------------ telemetry

    def _finished(self, request: web.Request) -> list[dict[str, Any]]:
        direction = request.query.get("direction")
        username = request.query.get("username") or request.match_info.get("username")
        records = [*self.downloads.values(), *self.uploads.values()]
        return [
            t
            for t in records
            if "Completed" in t["state"]
            and (direction is None or t["direction"] == direction)
            and (username is None or t["username"] == username)
        ]

    def _check_direction(self, request: web.Request, *, required: bool) -> None:
        direction = request.query.get("direction")
        if direction is None and required:
            raise web.HTTPBadRequest(text="Direction is required")
        if direction is not None and direction not in ("Download", "Upload"):
            raise web.HTTPBadRequest(text="Invalid direction; expected one of: Download, Upload")

    def _page(self, request: web.Request, items: list[Any]) -> list[Any]:
        limit = int(request.query.get("limit", "25"))
        offset = int(request.query.get("offset", "0"))
        if limit <= 0:
            raise web.HTTPBadRequest(text="Limit must be greater than zero")
        return items[offset : offset + limit]

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"slskd_transfers_downloads_total": len(self.downloads), "slskd_searches_total": len(self.searches)}
        )

    async def kpis(self, _request: web.Request) -> web.Response:
        return web.json_response({"downloads": len(self.downloads), "uploads": len(self.uploads)})

    async def report_summary(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=False)
        summary: dict[str, dict[str, dict[str, int]]] = {}
        for t in self._finished(request):
            final = t["state"].split(", ", 1)[-1]
            entry = summary.setdefault(t["direction"], {}).setdefault(final, {"count": 0, "totalBytes": 0})
            entry["count"] += 1
            entry["totalBytes"] += int(t["bytesTransferred"])
        return web.json_response(summary)

    async def report_histogram(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=False)
        if "interval" in request.query and "buckets" in request.query:
            return self.text("Specify either interval or buckets, not both", 400)
        start = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return web.json_response({start: {"Download": {"count": len(self._finished(request))}}})

    async def report_leaderboard(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=True)
        if request.query.get("sortBy", "Count") not in ("Count", "TotalBytes", "AverageSpeed"):
            return self.text("Invalid sortBy; expected one of: Count, TotalBytes, AverageSpeed", 400)
        users: dict[str, dict[str, Any]] = {}
        for t in self._finished(request):
            entry = users.setdefault(t["username"], {"username": t["username"], "count": 0, "totalBytes": 0})
            entry["count"] += 1
            entry["totalBytes"] += int(t["bytesTransferred"])
        ranked = sorted(users.values(), key=lambda u: u["count"], reverse=request.query.get("sortOrder") != "ASC")
        return web.json_response(self._page(request, ranked))

    async def report_user(self, request: web.Request) -> web.Response:
        finished = self._finished(request)
        return web.json_response(
            {
                "username": request.match_info["username"],
                "download": {"count": sum(1 for t in finished if t["direction"] == "Download")},
                "upload": {"count": sum(1 for t in finished if t["direction"] == "Upload")},
            }
        )

    async def report_exceptions(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=True)
        failed = [
            {
                "direction": t["direction"],
                "username": t["username"],
                "filename": t["filename"],
                "state": t["state"],
                "exception": t["exception"],
            }
            for t in self._finished(request)
            if "exception" in t
        ]
        return web.json_response(self._page(request, failed))

    async def report_pareto(self, request: web.Request) -> web.Response:
        self._check_direction(request, required=True)
        counts: dict[str, set[str]] = {}
        totals: dict[str, int] = {}
        for t in self._finished(request):
            if "exception" in t:
                counts.setdefault(t["exception"], set()).add(t["username"])
                totals[t["exception"]] = totals.get(t["exception"], 0) + 1
        rows = [{"exception": e, "count": totals[e], "distinctUsers": len(u)} for e, u in counts.items()]
        return web.json_response(self._page(request, sorted(rows, key=lambda r: -r["count"])))

    async def report_directories(self, request: web.Request) -> web.Response:
        paths: dict[str, set[str]] = {}
        totals: dict[str, int] = {}
        for t in self._finished(request):
            directory = t["filename"].replace("/", "\\").rsplit("\\", 1)[0]
            paths.setdefault(directory, set()).add(t["username"])
            totals[directory] = totals.get(directory, 0) + 1
        rows = [{"path": p, "count": totals[p], "distinctUsers": len(u)} for p, u in paths.items()]
        return web.json_response(self._page(request, rows))

    # ------------------------------------------------------------------ relay

    async def relay_connect(self, request: web.Request) -> web.Response:
        self._jwt_only(request)
        return web.Response(status=200)

    async def relay_disconnect(self, request: web.Request) -> web.Response:
        self._jwt_only(request)
        return web.Response(status=204)

    def _relay_agent(self, request: web.Request) -> tuple[str, str]:
        if self._principal(request) != "apikey":
            raise web.HTTPUnauthorized()
        token = request.match_info["token"]
        try:
            uuid.UUID(token)
        except ValueError:
            raise web.HTTPBadRequest(text="Token is not in a valid format") from None
        agent = request.headers.get("X-Relay-Agent", "")
        secret = self.config.relay_agents.get(agent)
        credential = request.headers.get("X-Relay-Credential", "")
        if secret is None or not secrets.compare_digest(credential, relay_credential(secret, token)):
            raise web.HTTPUnauthorized()
        return agent, token

    async def relay_download(self, request: web.Request) -> web.Response:
        _, token = self._relay_agent(request)
        try:
            filename = base64.b64decode(request.headers.get("X-Relay-Filename-Base64", "")).decode()
        except (binascii.Error, UnicodeDecodeError):
            return web.Response(status=400)
        offered = self.relay_files.get(token)
        if not filename or offered is None or offered[0] != filename:
            return web.Response(status=401)
        return web.Response(body=offered[1], content_type="application/octet-stream")

    async def _first_part(self, request: web.Request) -> tuple[str, bytes]:
        if not request.content_type.startswith("multipart/"):
            raise web.HTTPBadRequest()
        reader = await request.multipart()
        part = await reader.next()
        if part is None or not getattr(part, "filename", None):
            raise web.HTTPBadRequest()
        return str(part.filename), bytes(await part.read())  # type: ignore[union-attr]

    async def relay_upload_file(self, request: web.Request) -> web.Response:
        _, token = self._relay_agent(request)
        self.relay_received[token] = await self._first_part(request)
        return web.Response(status=200)

    async def relay_upload_shares(self, request: web.Request) -> web.Response:
        _, token = self._relay_agent(request)
        self.relay_received[token] = await self._first_part(request)
        return web.Response(status=200)


def default_peers() -> list[Peer]:
    """Soulseek users with awkward names: a ``/`` and spaces, Windows-style paths."""
    return [
        Peer(
            "alice",
            files={
                "@@music\\Artist\\Album\\01 - Blue Song.mp3": 8_000_000,
                "@@music\\Artist\\Album\\02 - Red Song.mp3": 9_000_000,
            },
            free_slot=True,
            queue_length=0,
        ),
        Peer(
            "dj/slash man",
            files={"Shared/Blue Song (remix).flac": 30_000_000, "Shared/Locked Blue.flac": 1_000},
            free_slot=False,
            queue_length=5,
            response_delay=0.05,
            locked={"Shared/Locked Blue.flac"},
        ),
        Peer("offline user", files={"x\\Blue.mp3": 1}, online=False),
    ]
