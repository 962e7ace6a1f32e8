"""Async client for slskd's REST API (``/api/v0``, slskd 0.22 to 0.26).

Every route of the areas the ``slskd-api`` package covers (application, conversations,
events, files, logs, options, relay, rooms, searches, server, session, shares, telemetry,
transfers, users) is a method here, plus the 0.26 download batches. What the daemon does
differently per version is handled inside:

* authentication is an API key (``X-API-Key``) or a JWT from ``POST /session``, renewed
  before it expires and once more when a call answers 401 (every JWT dies when slskd
  restarts, since its signing key is random per start);
* usernames and room names are percent-encoded with ``safe=""``, so a ``/`` in a name
  stays inside its path segment;
* slskd answers 429 when a second search, or a third enqueue, is in flight, so those
  calls are serialised behind locks and retried a few times with backoff;
* enqueues go through ``POST /transfers/downloads/batches`` on 0.26 and later, and through
  the per-user route before (whose answer changed in 0.24).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from ..client import DEFAULT_TIMEOUT, Decode, HttpClient, Reply
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
)

JsonObject = dict[str, Any]
Params = Mapping[str, str | int | float]

_API = "api/v0"
_BATCHES_VERSION = (0, 26, 0)
_ENQUEUE_RESULT_VERSION = (0, 24, 0)
"""From here the per-user enqueue answers at once with ``{enqueued, failed}``; before, it answers
only once the peer has queued every file, one after another, and 500 if any was refused."""
_URL_ENCODED_NAMES = (0, 24, 2)
"""slskd URL-decodes usernames in routes from here (``[UrlEncoded]``); before, ``%2F`` stays as is."""
_OPTIONS_PATCH_VERSION = (0, 24, 4)
"""``PATCH /options`` and ``PUT /options/yaml`` from here; ``POST /options/yaml`` before."""
_TELEMETRY_VERSION = (0, 24, 0)
_REPORTS_VERSION = (0, 24, 2)
"""Telemetry reports, and ``metrics/kpis`` (``metrics/kpi`` before), from here."""
_SLOW_ENQUEUE = 120.0
"""Seconds one file may take on slskd 0.22 to 0.23, which answers after the peer has queued it."""
_TOKEN_MARGIN = 60.0
"""Renew a JWT this many seconds before slskd says it expires."""


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``"0.24.1.0"`` or ``"0.26.0+abc"`` → ``(0, 24, 1)``; None when there are no three numbers."""
    core = text.strip().lstrip("v").split("+", 1)[0].split("-", 1)[0]
    parts = core.split(".")
    if len(parts) < 3:
        return None
    try:
        return int(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        return None


def encode_segment(value: str) -> str:
    """Percent-encode one path segment (a ``/`` in a username must not split the route)."""
    if not value:
        raise PeerdeckInputError("an empty name cannot be part of a slskd route")
    return quote(value, safe="")


def encode_path(path: str) -> str:
    """slskd's files routes take a path as base64 of its UTF-8 bytes, like its web UI's ``btoa``.

    slskd does not URL-decode that segment, and ASP.NET leaves ``%2F`` encoded, so a base64 ``/``
    cannot reach it either way (``+`` and ``=`` are sent as they are, which a path allows).
    """
    encoded = base64.b64encode(path.encode()).decode()
    if "/" in encoded:
        raise PeerdeckInputError(
            f"slskd's files API cannot address {path!r}: its base64 form contains '/', which slskd's route "
            "cannot carry; rename it or use the file system directly"
        )
    return encoded


@dataclass(frozen=True, slots=True)
class EnqueueFailure:
    """A file slskd refused to enqueue, and why (when the version says)."""

    filename: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """What an enqueue did, whichever route and version answered.

    ``enqueued`` holds the new transfer records where slskd returns them (0.24 and later);
    slskd 0.23 and older answer 201 without a body, and then it is empty.
    """

    username: str
    enqueued: tuple[JsonObject, ...] = ()
    failed: tuple[EnqueueFailure, ...] = ()
    batch_id: str | None = None
    via_batches: bool = False
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class EventsPage:
    """One page of ``GET /events`` (newest first) and the total count slskd reports."""

    events: tuple[JsonObject, ...]
    total: int | None


def event_data(event: Mapping[str, Any]) -> JsonObject:
    """The ``data`` of an event record, which slskd stores as a JSON *string*."""
    data = event.get("data")
    if isinstance(data, Mapping):
        return dict(data)
    if not isinstance(data, str) or not data:
        return {}
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return dict(parsed) if isinstance(parsed, dict) else {}


class SlskdClient(HttpClient):
    """Every slskd API call as a typed coroutine."""

    daemon_name = "slskd"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        rate_limit_retries: int = 3,
        rate_limit_backoff: float = 0.5,
    ) -> None:
        super().__init__(url, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)
        self._api_key = api_key or None
        self._username = username or ""
        self._password = password or ""
        self._token: str | None = None
        self._token_expires = 0.0
        self._login_lock = asyncio.Lock()
        self._search_lock = asyncio.Lock()
        self._enqueue_lock = asyncio.Lock()
        self._version: tuple[int, int, int] | None = None
        self._version_known = False
        self._batches: bool | None = None
        self.rate_limit_retries = max(0, rate_limit_retries)
        self.rate_limit_backoff = rate_limit_backoff

    # ------------------------------------------------------------------ plumbing

    @property
    def uses_jwt(self) -> bool:
        """True when the client logs in with a username and password instead of an API key."""
        return self._api_key is None and bool(self._username)

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key is not None:
            return {"X-API-Key": self._api_key}
        if self._token is not None:
            return {"Authorization": f"Bearer {self._token}"}
        return {}

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        # slskd's error bodies are plain text or a JSON string; show the text without quotes.
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, str):
            body = decoded.encode()
        super()._raise_for_status(what, status, headers, body)

    def forget_token(self) -> None:
        """Drop the JWT, as if it had expired (the next call logs in again)."""
        self._token = None
        self._token_expires = 0.0

    async def _ensure_token(self) -> None:
        if not self.uses_jwt:
            return
        async with self._login_lock:
            if self._token is not None and time.time() < self._token_expires - _TOKEN_MARGIN:
                return
            answer = await self.session_login(self._username, self._password)
            token = answer.get("token")
            if not isinstance(token, str) or not token:
                raise PeerdeckInvalidResponseError("slskd answered the login without a token")
            self._token = token
            expires = answer.get("expires")
            self._token_expires = float(expires) if isinstance(expires, int | float) else time.time() + 3600.0

    async def _api(
        self,
        method: str,
        route: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        decode: Decode = "auto",
        ok_statuses: tuple[int, ...] = (),
        time_limit: float | None = None,
    ) -> Reply:
        """Call ``/api/v0/<route>`` authenticated; with a JWT, log in again once on a 401."""
        await self._ensure_token()
        path = f"{_API}/{route}" if route else _API
        kwargs: dict[str, Any] = {
            "params": params,
            "json_body": json_body,
            "data": data,
            "headers": headers,
            "decode": decode,
            "ok_statuses": ok_statuses,
            "timeout": time_limit,
        }
        try:
            return await self._request(method, path, **kwargs)
        except PeerdeckAuthenticationError:
            if not self.uses_jwt:
                raise
            self.forget_token()
            await self._ensure_token()
            return await self._request(method, path, **kwargs)

    async def _serialised(self, lock: asyncio.Lock, method: str, route: str, **kwargs: Any) -> Reply:
        """One call at a time per lock; slskd's own 429 (another client busy) is retried with backoff."""
        async with lock:
            attempt = 0
            while True:
                try:
                    return await self._api(method, route, **kwargs)
                except PeerdeckRateLimitedError as err:
                    if attempt >= self.rate_limit_retries:
                        raise
                    delay = err.retry_after if err.retry_after is not None else self.rate_limit_backoff * 2**attempt
                    attempt += 1
                    await asyncio.sleep(delay)

    async def _get(self, route: str, params: Params | None = None) -> Any:
        return (await self._api("GET", route, params=params, decode="json")).data

    async def version(self) -> tuple[int, int, int] | None:
        """slskd's version as numbers, fetched once; None for builds without a plain version."""
        if not self._version_known:
            self._version = parse_version(await self.application_version())
            self._version_known = True
        return self._version

    def forget_version(self) -> None:
        """slskd restarted as another version: ask again, and choose routes again."""
        self._version = None
        self._version_known = False
        self._batches = None

    def note_version(self, text: str) -> bool:
        """Compare a version slskd reports now with the one routes were chosen for; True (and the
        choice forgotten) when it changed, i.e. slskd restarted as another build."""
        if not self._version_known or parse_version(text) == self._version:
            return False
        self.forget_version()
        return True

    async def _since(self, wanted: tuple[int, int, int], what: str) -> None:
        """Refuse a route this slskd does not have yet (an unknown version is given the benefit)."""
        version = await self.version()
        if version is not None and version < wanted:
            have = ".".join(map(str, version))
            need = ".".join(map(str, wanted))
            raise PeerdeckNotSupportedError(f"slskd {have} has no {what}; it came in slskd {need}")

    async def _user(self, username: str) -> str:
        """A username as a route segment; before 0.24.2 slskd cannot read one with a ``/`` from a route."""
        if "/" in username:
            await self._since(_URL_ENCODED_NAMES, f"route for the user {username!r} (a name with '/')")
        return encode_segment(username)

    # ------------------------------------------------------------------ session

    async def session_login(self, username: str, password: str) -> JsonObject:
        """``POST /session``: ``{expires, issued, name, notBefore, token, tokenType}``."""
        try:
            reply = await self._request(
                "POST", f"{_API}/session", json_body={"username": username, "password": password}, decode="json"
            )
        except PeerdeckAuthenticationError as err:
            raise PeerdeckAuthenticationError("slskd rejected the username or password") from err
        except PeerdeckForbiddenError as err:
            raise PeerdeckForbiddenError("slskd refuses logins (it runs headless); use an API key instead") from err
        return _object(reply.data, "session")

    async def session_check(self) -> bool:
        """``GET /session``: True when the current credentials are accepted."""
        await self._ensure_token()
        reply = await self._request("GET", f"{_API}/session", decode="none", ok_statuses=(401,))
        return reply.status == 200

    async def session_enabled(self) -> bool:
        """``GET /session/enabled`` (no auth needed): whether slskd asks for credentials at all."""
        reply = await self._request("GET", f"{_API}/session/enabled", decode="json")
        return bool(reply.data)

    async def health(self) -> str:
        """``GET /health`` (no auth, outside ``/api``): ``"Healthy"``, ``"Degraded"`` or ``"Unhealthy"``."""
        reply = await self._request("GET", "health", decode="text", ok_statuses=(503,))
        return str(reply.data).strip()

    # ------------------------------------------------------------------ application

    async def application_state(self) -> JsonObject:
        """``GET /application``: version, server, user, shares, rooms … (keys vary by version)."""
        return _object(await self._get("application"), "application state")

    async def application_version(self) -> str:
        """``GET /application/version``: the running version string."""
        return _plain(await self._api("GET", "application/version", decode="text"))

    async def application_check_updates(self, *, force_check: bool = False) -> JsonObject:
        """``GET /application/version/latest``: ``{full, current, latest, isUpdateAvailable, …}``."""
        return _object(await self._get("application/version/latest", {"forceCheck": _bool(force_check)}), "version")

    async def application_restart(self) -> None:
        """``PUT /application`` (JWT and Administrator only)."""
        await self._api("PUT", "application", decode="none")

    async def application_shutdown(self) -> None:
        """``DELETE /application`` (JWT and Administrator only)."""
        await self._api("DELETE", "application", decode="none")

    async def application_gc(self) -> None:
        """``POST /application/gc``: force a garbage collection."""
        await self._api("POST", "application/gc", decode="none")

    # ------------------------------------------------------------------ server

    async def server_state(self) -> JsonObject:
        """``GET /server``: ``{address, ipEndPoint, state: "Connected, LoggedIn", isConnected, …}``."""
        return _object(await self._get("server"), "server state")

    async def server_connect(self) -> bool:
        """``PUT /server``; True when slskd (re)connected, False when its watchdog restarted instead (205)."""
        reply = await self._api("PUT", "server", decode="none")
        return reply.status != 205

    async def server_disconnect(self, message: str = "") -> None:
        """``DELETE /server`` with a JSON-string message for the log."""
        await self._api("DELETE", "server", json_body=message, decode="none")

    # ------------------------------------------------------------------ searches

    async def searches_create(
        self,
        search_text: str,
        *,
        search_id: str | None = None,
        search_timeout: int = 15000,
        response_limit: int = 100,
        file_limit: int = 10000,
        filter_responses: bool = True,
        minimum_response_file_count: int = 1,
        maximum_peer_queue_length: int | None = None,
        minimum_peer_upload_speed: int | None = None,
    ) -> JsonObject:
        """``POST /searches``, serialised (slskd allows one at a time). ``search_timeout`` is in ms."""
        if not search_text.strip():
            raise PeerdeckInputError("the search text is empty")
        body: JsonObject = {
            "id": search_id or str(uuid.uuid4()),
            "searchText": search_text,
            "searchTimeout": search_timeout,
            "responseLimit": response_limit,
            "fileLimit": file_limit,
            "filterResponses": filter_responses,
            "minimumResponseFileCount": minimum_response_file_count,
        }
        if maximum_peer_queue_length is not None:
            body["maximumPeerQueueLength"] = maximum_peer_queue_length
        if minimum_peer_upload_speed is not None:
            body["minimumPeerUploadSpeed"] = minimum_peer_upload_speed
        reply = await self._serialised(self._search_lock, "POST", "searches", json_body=body, decode="json")
        return _object(reply.data, "search")

    async def searches(self) -> list[JsonObject]:
        """``GET /searches``: every search, without responses."""
        return _objects(await self._get("searches"), "searches")

    async def search(self, search_id: str, *, include_responses: bool = False) -> JsonObject:
        """``GET /searches/{id}``: ``{id, searchText, state, isComplete, responseCount, fileCount, …}``."""
        params = {"includeResponses": _bool(include_responses)}
        return _object(await self._get(f"searches/{encode_segment(search_id)}", params), "search")

    async def search_responses(self, search_id: str) -> list[JsonObject]:
        """``GET /searches/{id}/responses``: one record per responding user, with their files."""
        return _objects(await self._get(f"searches/{encode_segment(search_id)}/responses"), "responses")

    async def search_stop(self, search_id: str) -> None:
        """``PUT /searches/{id}``: stop a running search (its state becomes ``Completed, Cancelled``)."""
        await self._api("PUT", f"searches/{encode_segment(search_id)}", decode="none")

    async def search_delete(self, search_id: str) -> None:
        """``DELETE /searches/{id}``."""
        await self._api("DELETE", f"searches/{encode_segment(search_id)}", decode="none")

    # ------------------------------------------------------------------ transfers

    async def transfers_downloads(self, *, include_removed: bool = False) -> list[JsonObject]:
        """``GET /transfers/downloads``: ``[{username, directories: [{directory, files: [Transfer]}]}]``."""
        return _objects(await self._get("transfers/downloads", {"includeRemoved": _bool(include_removed)}), "downloads")

    async def transfers_user_downloads(self, username: str) -> JsonObject:
        """``GET /transfers/downloads/{username}``: ``{username, directories}``."""
        return _object(await self._get(f"transfers/downloads/{await self._user(username)}"), "downloads")

    async def transfers_download(self, username: str, transfer_id: str) -> JsonObject:
        """``GET /transfers/downloads/{username}/{id}``: one Transfer record."""
        route = f"transfers/downloads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        return _object(await self._get(route), "download")

    async def transfers_queue_position(self, username: str, transfer_id: str) -> int:
        """``GET …/{id}/position``: the place in the remote user's queue (slskd asks the peer)."""
        route = f"transfers/downloads/{encode_segment(username)}/{encode_segment(transfer_id)}/position"
        value = await self._get(route)
        if not isinstance(value, int):
            raise PeerdeckInvalidResponseError("slskd sent a queue position that is not a number")
        return value

    async def transfers_cancel_download(self, username: str, transfer_id: str, *, remove: bool = False) -> None:
        """``DELETE /transfers/downloads/{username}/{id}``: cancel, and drop the record with ``remove``."""
        route = f"transfers/downloads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        await self._api("DELETE", route, params={"remove": _bool(remove)}, decode="none")

    async def transfers_clear_completed_downloads(self) -> None:
        """``DELETE /transfers/downloads/all/completed``: drop every finished download record."""
        await self._api("DELETE", "transfers/downloads/all/completed", decode="none")

    async def transfers_uploads(self, *, include_removed: bool = False) -> list[JsonObject]:
        """``GET /transfers/uploads``: same shape as downloads."""
        return _objects(await self._get("transfers/uploads", {"includeRemoved": _bool(include_removed)}), "uploads")

    async def transfers_user_uploads(self, username: str) -> JsonObject:
        """``GET /transfers/uploads/{username}``."""
        return _object(await self._get(f"transfers/uploads/{encode_segment(username)}"), "uploads")

    async def transfers_upload(self, username: str, transfer_id: str) -> JsonObject:
        """``GET /transfers/uploads/{username}/{id}``."""
        route = f"transfers/uploads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        return _object(await self._get(route), "upload")

    async def transfers_cancel_upload(self, username: str, transfer_id: str, *, remove: bool = False) -> None:
        """``DELETE /transfers/uploads/{username}/{id}``."""
        route = f"transfers/uploads/{encode_segment(username)}/{encode_segment(transfer_id)}"
        await self._api("DELETE", route, params={"remove": _bool(remove)}, decode="none")

    async def transfers_clear_completed_uploads(self) -> None:
        """``DELETE /transfers/uploads/all/completed``."""
        await self._api("DELETE", "transfers/uploads/all/completed", decode="none")

    async def transfers_batch(self, batch_id: str) -> JsonObject:
        """``GET /transfers/downloads/batches/{id}`` (0.26+)."""
        return _object(await self._get(f"transfers/downloads/batches/{encode_segment(batch_id)}"), "batch")

    async def transfers_enqueue(
        self,
        username: str,
        files: Sequence[tuple[str, int]],
        *,
        destination: str | None = None,
        search_id: str | None = None,
    ) -> EnqueueResult:
        """Enqueue downloads by the best route this slskd has: batches on 0.26+, else the per-user route.

        A batches route that answers 404 without a message or 405 (a build or proxy without
        it) switches this client to the per-user route for good.
        """
        if self._batches is None:
            version = await self.version()
            if version is not None:
                self._batches = version >= _BATCHES_VERSION
        if self._batches is False:
            if destination is not None:
                raise PeerdeckInputError("slskd before 0.26 cannot choose a destination per download")
            return await self.transfers_enqueue_legacy(username, files)
        try:
            result = await self.transfers_enqueue_batch(username, files, destination=destination, search_id=search_id)
        except PeerdeckResponseError as err:
            if self._batches is None and _route_missing(err):
                self._batches = False
                return await self.transfers_enqueue(username, files, destination=destination)
            raise
        self._batches = True
        return result

    async def transfers_enqueue_batch(
        self,
        username: str,
        files: Sequence[tuple[str, int]],
        *,
        batch_id: str | None = None,
        search_id: str | None = None,
        destination: str | None = None,
        external_id: str | None = None,
    ) -> EnqueueResult:
        """``POST /transfers/downloads/batches`` (0.26+): 201 all enqueued, 207 some, 200 none."""
        body: JsonObject = {
            "username": username,
            "files": _file_list(files),
            "id": batch_id or str(uuid.uuid4()),
        }
        if search_id is not None:
            body["searchId"] = search_id
        options = {k: v for k, v in (("destination", destination), ("externalId", external_id)) if v is not None}
        if options:
            body["options"] = options
        reply = await self._serialised(
            self._enqueue_lock, "POST", "transfers/downloads/batches", json_body=body, decode="json"
        )
        data = _object(reply.data, "batch")
        found = data.get("batch")
        batch: JsonObject = found if isinstance(found, dict) else {}
        failures = [
            EnqueueFailure(str(f.get("filename", "")), _opt_str(f.get("message")))
            for f in data.get("failures") or []
            if isinstance(f, dict)
        ]
        transfers = [t for t in batch.get("transfers") or [] if isinstance(t, dict)]
        return EnqueueResult(
            username=username,
            enqueued=tuple(transfers),
            failed=tuple(failures),
            batch_id=_opt_str(batch.get("id")) or body["id"],
            via_batches=True,
            raw=data,
        )

    async def transfers_enqueue_legacy(self, username: str, files: Sequence[tuple[str, int]]) -> EnqueueResult:
        """``POST /transfers/downloads/{username}``: ``{enqueued, failed}`` (0.24+) or, before, 201 empty.

        slskd 0.22 to 0.23 answers only once the peer has queued every file, one after another, and
        500 if any was refused while the rest stay enqueued; so there each file is its own request
        with a long time limit, and a 500 is that file's refusal.
        """
        segment = await self._user(username)
        body = _file_list(files)
        version = await self.version()
        if version is not None and version < _ENQUEUE_RESULT_VERSION:
            return await self._enqueue_each(username, segment, body)
        reply = await self._serialised(
            self._enqueue_lock, "POST", f"transfers/downloads/{segment}", json_body=body, decode="auto"
        )
        data = reply.data if isinstance(reply.data, dict) else {}
        failed: list[EnqueueFailure] = []
        for item in data.get("failed") or []:
            if isinstance(item, str):
                failed.append(EnqueueFailure(item))
            elif isinstance(item, dict):
                # 0.26 serialises (Filename, Message) tuples; their fields may or may not appear.
                name = item.get("filename") or item.get("item1")
                failed.append(EnqueueFailure(str(name or ""), _opt_str(item.get("message") or item.get("item2"))))
        enqueued = tuple(t for t in data.get("enqueued") or [] if isinstance(t, dict))
        return EnqueueResult(username=username, enqueued=enqueued, failed=tuple(failed), raw=reply.data)

    async def _enqueue_each(self, username: str, segment: str, body: list[JsonObject]) -> EnqueueResult:
        failed: list[EnqueueFailure] = []
        for item in body:
            try:
                await self._serialised(
                    self._enqueue_lock,
                    "POST",
                    f"transfers/downloads/{segment}",
                    json_body=[item],
                    decode="none",
                    time_limit=max(self.request_timeout, _SLOW_ENQUEUE),
                )
            except PeerdeckResponseError as err:
                if err.status != 500:
                    raise
                failed.append(EnqueueFailure(str(item["filename"]), str(err)))
        return EnqueueResult(username=username, failed=tuple(failed))

    # ------------------------------------------------------------------ users

    async def user_endpoint(self, username: str) -> JsonObject:
        """``GET /users/{username}/endpoint``: ``{addressFamily, address, port}``."""
        return _object(await self._get(f"users/{await self._user(username)}/endpoint"), "endpoint")

    async def user_browse(self, username: str, *, time_limit: float | None = None) -> JsonObject:
        """``GET /users/{username}/browse``: every shared directory (``time_limit`` in s: large shares are slow)."""
        reply = await self._api(
            "GET", f"users/{await self._user(username)}/browse", decode="json", time_limit=time_limit
        )
        return _object(reply.data, "browse")

    async def user_browse_status(self, username: str) -> JsonObject:
        """``GET /users/{username}/browse/status``: progress of a running browse; 404 when none runs."""
        return _object(await self._get(f"users/{await self._user(username)}/browse/status"), "browse status")

    async def user_directory(
        self, username: str, directory: str, *, time_limit: float | None = None
    ) -> list[JsonObject]:
        """``POST /users/{username}/directory``: the contents of one remote directory.

        slskd 0.22.0 to 0.22.2 answers one directory object, later versions a list; both come back as a list.
        """
        reply = await self._api(
            "POST",
            f"users/{await self._user(username)}/directory",
            json_body={"directory": directory},
            decode="json",
            time_limit=time_limit,
        )
        if isinstance(reply.data, dict):
            return [reply.data]
        return _objects(reply.data, "directory")

    async def user_info(self, username: str) -> JsonObject:
        """``GET /users/{username}/info``: description, free slot, queue length, upload slots."""
        return _object(await self._get(f"users/{await self._user(username)}/info"), "user info")

    async def user_status(self, username: str) -> JsonObject:
        """``GET /users/{username}/status``: ``{isPrivileged, presence}``."""
        return _object(await self._get(f"users/{await self._user(username)}/status"), "user status")

    # ------------------------------------------------------------------ conversations

    async def conversations(
        self, *, include_inactive: bool = False, unacknowledged_only: bool = False
    ) -> list[JsonObject]:
        """``GET /conversations``."""
        params = {"includeInactive": _bool(include_inactive), "unAcknowledgedOnly": _bool(unacknowledged_only)}
        return _objects(await self._get("conversations", params), "conversations")

    async def conversation(self, username: str, *, include_messages: bool = True) -> JsonObject:
        """``GET /conversations/{username}``."""
        params = {"includeMessages": _bool(include_messages)}
        return _object(await self._get(f"conversations/{encode_segment(username)}", params), "conversation")

    async def conversation_messages(self, username: str, *, unacknowledged_only: bool = False) -> list[JsonObject]:
        """``GET /conversations/{username}/messages``."""
        params = {"unAcknowledgedOnly": _bool(unacknowledged_only)}
        return _objects(await self._get(f"conversations/{encode_segment(username)}/messages", params), "messages")

    async def conversation_send(self, username: str, message: str) -> None:
        """``POST /conversations/{username}`` with the message as a JSON string."""
        await self._api("POST", f"conversations/{encode_segment(username)}", json_body=message, decode="none")

    async def conversation_acknowledge(self, username: str, message_id: int) -> None:
        """``PUT /conversations/{username}/{id}``: mark one message read."""
        await self._api("PUT", f"conversations/{encode_segment(username)}/{int(message_id)}", decode="none")

    async def conversation_acknowledge_all(self, username: str) -> None:
        """``PUT /conversations/{username}``: mark every message read."""
        await self._api("PUT", f"conversations/{encode_segment(username)}", decode="none")

    async def conversation_close(self, username: str) -> None:
        """``DELETE /conversations/{username}``."""
        await self._api("DELETE", f"conversations/{encode_segment(username)}", decode="none")

    # ------------------------------------------------------------------ rooms

    async def rooms_joined(self) -> list[str]:
        """``GET /rooms/joined``: names of the joined rooms."""
        data = await self._get("rooms/joined")
        if not isinstance(data, list):
            raise PeerdeckInvalidResponseError("slskd sent joined rooms that are not a list")
        return [str(name) for name in data]

    async def rooms_available(self) -> list[JsonObject]:
        """``GET /rooms/available``: the server's room list."""
        return _objects(await self._get("rooms/available"), "rooms")

    async def room_join(self, room: str) -> JsonObject | None:
        """``POST /rooms/joined``: the room, or None when already joined (slskd answers 200 empty)."""
        reply = await self._api("POST", "rooms/joined", json_body=room, decode="auto")
        return dict(reply.data) if isinstance(reply.data, dict) else None

    async def room(self, room: str) -> JsonObject:
        """``GET /rooms/joined/{room}``: name, users and messages."""
        return _object(await self._get(f"rooms/joined/{encode_segment(room)}"), "room")

    async def room_leave(self, room: str) -> None:
        """``DELETE /rooms/joined/{room}``."""
        await self._api("DELETE", f"rooms/joined/{encode_segment(room)}", decode="none")

    async def room_send(self, room: str, message: str) -> None:
        """``POST /rooms/joined/{room}/messages``."""
        await self._api("POST", f"rooms/joined/{encode_segment(room)}/messages", json_body=message, decode="none")

    async def room_messages(self, room: str) -> list[JsonObject]:
        """``GET /rooms/joined/{room}/messages``."""
        return _objects(await self._get(f"rooms/joined/{encode_segment(room)}/messages"), "room messages")

    async def room_set_ticker(self, room: str, ticker: str) -> None:
        """``POST /rooms/joined/{room}/ticker``."""
        await self._api("POST", f"rooms/joined/{encode_segment(room)}/ticker", json_body=ticker, decode="none")

    async def room_add_member(self, room: str, username: str) -> None:
        """``POST /rooms/joined/{room}/members``: add a member to a private room."""
        await self._api("POST", f"rooms/joined/{encode_segment(room)}/members", json_body=username, decode="none")

    async def room_users(self, room: str) -> list[JsonObject]:
        """``GET /rooms/joined/{room}/users``."""
        return _objects(await self._get(f"rooms/joined/{encode_segment(room)}/users"), "room users")

    # ------------------------------------------------------------------ events

    async def events(self, *, offset: int = 0, limit: int = 100) -> EventsPage:
        """``GET /events`` (0.22+): newest first; each ``data`` is a JSON string (see :func:`event_data`)."""
        reply = await self._api("GET", "events", params={"offset": offset, "limit": limit}, decode="json")
        total = reply.headers.get("X-Total-Count")
        return EventsPage(tuple(_objects(reply.data, "events")), int(total) if total and total.isdigit() else None)

    async def event_raise(self, event_type: str, disambiguator: str = "") -> JsonObject:
        """``POST /events/{type}``: raise a sample event (to test webhooks and scripts)."""
        reply = await self._api("POST", f"events/{encode_segment(event_type)}", json_body=disambiguator, decode="json")
        return _object(reply.data, "event")

    # ------------------------------------------------------------------ files

    async def files_downloads(self, subdirectory: str | None = None, *, recursive: bool = False) -> JsonObject:
        """``GET /files/downloads/directories[/{base64}]``: the downloads folder or one subdirectory."""
        return await self._list_files("downloads", subdirectory, recursive)

    async def files_incomplete(self, subdirectory: str | None = None, *, recursive: bool = False) -> JsonObject:
        """``GET /files/incomplete/directories[/{base64}]``: the incomplete folder or one subdirectory."""
        return await self._list_files("incomplete", subdirectory, recursive)

    async def files_delete_download_directory(self, directory: str) -> None:
        """``DELETE /files/downloads/directories/{base64}`` (needs ``remote_file_management``)."""
        await self._api("DELETE", f"files/downloads/directories/{encode_path(directory)}", decode="none")

    async def files_delete_download_file(self, filename: str) -> None:
        """``DELETE /files/downloads/files/{base64}`` (needs ``remote_file_management``)."""
        await self._api("DELETE", f"files/downloads/files/{encode_path(filename)}", decode="none")

    async def files_delete_incomplete_directory(self, directory: str) -> None:
        """``DELETE /files/incomplete/directories/{base64}``."""
        await self._api("DELETE", f"files/incomplete/directories/{encode_path(directory)}", decode="none")

    async def files_delete_incomplete_file(self, filename: str) -> None:
        """``DELETE /files/incomplete/files/{base64}``."""
        await self._api("DELETE", f"files/incomplete/files/{encode_path(filename)}", decode="none")

    async def _list_files(self, root: str, subdirectory: str | None, recursive: bool) -> JsonObject:
        route = f"files/{root}/directories"
        if subdirectory:
            route += "/" + encode_path(subdirectory)
        return _object(await self._get(route, {"recursive": _bool(recursive)}), "directory")

    # ------------------------------------------------------------------ logs, options

    async def logs(self) -> list[JsonObject]:
        """``GET /logs``: the last log entries ``{timestamp, context, level, message}``."""
        return _objects(await self._get("logs"), "logs")

    async def options(self) -> JsonObject:
        """``GET /options``: the current options, secrets redacted."""
        return _object(await self._get("options"), "options")

    async def options_startup(self) -> JsonObject:
        """``GET /options/startup``: the options slskd started with."""
        return _object(await self._get("options/startup"), "options")

    async def options_patch(self, overlay: Mapping[str, Any]) -> JsonObject | None:
        """``PATCH /options`` (0.24.4+): Administrator and ``remote_configuration`` only (403 otherwise)."""
        await self._since(_OPTIONS_PATCH_VERSION, "options overlay (PATCH /options)")
        reply = await self._api("PATCH", "options", json_body=dict(overlay), decode="auto")
        return dict(reply.data) if isinstance(reply.data, dict) else None

    async def options_debug(self) -> str:
        """``GET /options/debug`` (JWT, Administrator, ``debug`` and ``remote_configuration``)."""
        return _plain(await self._api("GET", "options/debug", decode="text"))

    async def options_yaml_location(self) -> str:
        """``GET /options/yaml/location`` (JWT and Administrator only)."""
        return _plain(await self._api("GET", "options/yaml/location", decode="text"))

    async def options_yaml(self) -> str:
        """``GET /options/yaml``: the YAML configuration file (JWT and Administrator only)."""
        return _plain(await self._api("GET", "options/yaml", decode="text"))

    async def options_yaml_update(self, yaml: str) -> None:
        """``PUT /options/yaml`` (``POST`` before 0.24.4): replace the YAML file; 400 when it does not validate."""
        version = await self.version()
        method = "POST" if version is not None and version < _OPTIONS_PATCH_VERSION else "PUT"
        await self._api(method, "options/yaml", json_body=yaml, decode="none")

    async def options_yaml_validate(self, yaml: str) -> str | None:
        """``POST /options/yaml/validate``: None when valid, else slskd's error message."""
        reply = await self._api("POST", "options/yaml/validate", json_body=yaml, decode="text")
        return _plain(reply) or None

    # ------------------------------------------------------------------ shares

    async def shares(self) -> JsonObject:
        """``GET /shares``: ``{local: [share], <relay agent>: [share] …}``."""
        return _object(await self._get("shares"), "shares")

    async def share(self, share_id: str) -> JsonObject:
        """``GET /shares/{id}``."""
        return _object(await self._get(f"shares/{encode_segment(share_id)}"), "share")

    async def shares_contents(self) -> list[JsonObject]:
        """``GET /shares/contents``: every shared directory with its files."""
        return _objects(await self._get("shares/contents"), "share contents")

    async def share_contents(self, share_id: str) -> list[JsonObject]:
        """``GET /shares/{id}/contents``."""
        return _objects(await self._get(f"shares/{encode_segment(share_id)}/contents"), "share contents")

    async def shares_rescan(self) -> None:
        """``PUT /shares``: start a scan; 409 when one is already running."""
        await self._api("PUT", "shares", decode="none")

    async def shares_cancel_scan(self) -> bool:
        """``DELETE /shares``: True when a running scan was cancelled, False when none ran (404)."""
        reply = await self._api("DELETE", "shares", decode="none", ok_statuses=(404,))
        return reply.status == 204

    # ------------------------------------------------------------------ telemetry (0.24+)

    async def telemetry_metrics(self) -> Any:
        """``GET /telemetry/metrics`` (0.24+): the Prometheus metrics, as JSON."""
        await self._since(_TELEMETRY_VERSION, "telemetry")
        return await self._get("telemetry/metrics")

    async def telemetry_kpis(self) -> Any:
        """``GET /telemetry/metrics/kpis`` (``…/kpi`` in 0.24.0 to 0.24.1): headline figures."""
        await self._since(_TELEMETRY_VERSION, "telemetry")
        version = await self.version()
        old = version is not None and version < _REPORTS_VERSION
        return await self._get("telemetry/metrics/kpi" if old else "telemetry/metrics/kpis")

    async def _report(self, route: str, params: Params | None = None) -> Any:
        await self._since(_REPORTS_VERSION, "transfer reports")
        return await self._get(f"telemetry/reports/transfers/{route}", params)

    async def telemetry_transfer_summary(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        direction: str | None = None,
        username: str | None = None,
    ) -> Any:
        """``GET /telemetry/reports/transfers/summary``: counts and bytes per direction and final state."""
        params = _params(start=start, end=end, direction=direction, username=username)
        return await self._report("summary", params)

    async def telemetry_transfer_histogram(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        interval: int | None = None,
        buckets: int | None = None,
        direction: str | None = None,
        username: str | None = None,
    ) -> Any:
        """``GET /telemetry/reports/transfers/histogram`` (give ``interval`` minutes or ``buckets``, not both)."""
        if interval is not None and buckets is not None:
            raise PeerdeckInputError("give either an interval or a number of buckets, not both")
        params = _params(
            start=start, end=end, interval=interval, buckets=buckets, direction=direction, username=username
        )
        return await self._report("histogram", params)

    async def telemetry_transfer_leaderboard(
        self,
        direction: str,
        *,
        start: str | None = None,
        end: str | None = None,
        sort_by: str = "Count",
        sort_order: str = "DESC",
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/leaderboard``: top users by count, bytes or speed."""
        params = _params(
            direction=direction, start=start, end=end, sortBy=sort_by, sortOrder=sort_order, limit=limit, offset=offset
        )
        return await self._report("leaderboard", params)

    async def telemetry_user_transfers(self, username: str, *, start: str | None = None, end: str | None = None) -> Any:
        """``GET /telemetry/reports/transfers/users/{username}``."""
        return await self._report(f"users/{encode_segment(username)}", _params(start=start, end=end))

    async def telemetry_transfer_exceptions(
        self,
        direction: str,
        *,
        start: str | None = None,
        end: str | None = None,
        username: str | None = None,
        sort_order: str = "DESC",
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/exceptions``."""
        params = _params(
            direction=direction,
            start=start,
            end=end,
            username=username,
            sortOrder=sort_order,
            limit=limit,
            offset=offset,
        )
        return await self._report("exceptions", params)

    async def telemetry_transfer_exceptions_pareto(
        self,
        direction: str,
        *,
        start: str | None = None,
        end: str | None = None,
        username: str | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/exceptions/pareto``: the most frequent failure messages."""
        params = _params(direction=direction, start=start, end=end, username=username, limit=limit, offset=offset)
        return await self._report("exceptions/pareto", params)

    async def telemetry_transfer_directories(
        self,
        *,
        start: str | None = None,
        end: str | None = None,
        username: str | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> Any:
        """``GET /telemetry/reports/transfers/directories``: the most downloaded directories."""
        params = _params(start=start, end=end, username=username, limit=limit, offset=offset)
        return await self._report("directories", params)

    # ------------------------------------------------------------------ relay

    async def relay_connect(self) -> None:
        """``PUT /relay/agent``: connect this agent to its controller (JWT and Administrator only)."""
        await self._api("PUT", "relay/agent", decode="none")

    async def relay_disconnect(self) -> None:
        """``DELETE /relay/agent``."""
        await self._api("DELETE", "relay/agent", decode="none")

    async def relay_download_file(self, token: str, filename: str, *, agent: str, credential: str) -> bytes:
        """``GET /relay/controller/downloads/{token}``: a controller file a relay agent was asked to fetch."""
        headers = {
            **_relay_headers(agent, credential),
            "X-Relay-Filename-Base64": base64.b64encode(filename.encode()).decode(),
        }
        reply = await self._api(
            "GET", f"relay/controller/downloads/{encode_segment(token)}", headers=headers, decode="bytes"
        )
        return bytes(reply.data)

    async def relay_upload_file(
        self, token: str, filename: str, content: bytes, *, agent: str, credential: str
    ) -> None:
        """``POST /relay/controller/files/{token}``: an agent streams a requested file to its controller."""
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type="application/octet-stream")
        await self._api(
            "POST",
            f"relay/controller/files/{encode_segment(token)}",
            data=form,
            headers=_relay_headers(agent, credential),
            decode="none",
        )

    async def relay_upload_shares(self, token: str, shares: bytes, *, agent: str, credential: str) -> None:
        """``POST /relay/controller/shares/{token}``: an agent sends its share database to its controller."""
        form = aiohttp.FormData()
        form.add_field("shares", shares, filename="shares", content_type="application/octet-stream")
        await self._api(
            "POST",
            f"relay/controller/shares/{encode_segment(token)}",
            data=form,
            headers=_relay_headers(agent, credential),
            decode="none",
        )


def _plain(reply: Reply) -> str:
    """A string answer: slskd sends ``text/plain``, but a JSON string (quoted) is read as well."""
    text = str(reply.data or "").strip()
    if text.startswith('"'):
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return str(decoded)
    return text


def _relay_headers(agent: str, credential: str) -> dict[str, str]:
    return {"X-Relay-Agent": agent, "X-Relay-Credential": credential}


def _route_missing(err: PeerdeckResponseError) -> bool:
    """A 405, or a 404 without a message, means the route itself does not exist."""
    if err.status == 405:
        return True
    return isinstance(err, PeerdeckNotFoundError) and str(err).rstrip().endswith("answered 404")


def _file_list(files: Sequence[tuple[str, int]]) -> list[JsonObject]:
    if not files:
        raise PeerdeckInputError("no files to enqueue")
    out: list[JsonObject] = []
    for filename, size in files:
        if not filename or size < 0:
            raise PeerdeckInputError(f"cannot enqueue {filename!r} of size {size}")
        out.append({"filename": filename, "size": int(size)})
    return out


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _params(**values: str | int | None) -> dict[str, str | int | float]:
    return {k: v for k, v in values.items() if v is not None}


def _opt_str(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


def _object(data: Any, what: str) -> JsonObject:
    if not isinstance(data, dict):
        raise PeerdeckInvalidResponseError(f"slskd sent a {what} that is not a JSON object")
    return data


def _objects(data: Any, what: str) -> list[JsonObject]:
    if not isinstance(data, list):
        raise PeerdeckInvalidResponseError(f"slskd sent {what} that are not a JSON list")
    return [item for item in data if isinstance(item, dict)]
