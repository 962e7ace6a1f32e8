"""slskd client plumbing: authentication (API key or JWT), the request helper, 429 serialising,
the version and the routes it decides; plus the session and application routes.

* authentication is an API key (``X-API-Key``) or a JWT from ``POST /session``, renewed
  before it expires and once more when a call answers 401 (every JWT dies when slskd
  restarts, since its signing key is random per start);
* usernames are percent-encoded with ``safe=""``, so a ``/`` in a name stays inside its path
  segment (slskd reads it so from 0.24.2);
* slskd answers 429 when a second search, or a third enqueue, is in flight, so those
  calls are serialised behind locks and retried a few times with backoff;
* the version is read once, and read again when slskd is seen to have restarted as another.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
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
BATCHES_VERSION = (0, 26, 0)
ENQUEUE_RESULT_VERSION = (0, 24, 0)
"""From here the per-user enqueue answers at once with ``{enqueued, failed}``; before, it answers
only once the peer has queued every file, one after another, and 500 if any was refused."""
URL_ENCODED_NAMES = (0, 24, 2)
"""slskd URL-decodes usernames in routes from here (``[UrlEncoded]``); before, ``%2F`` stays as is."""
OPTIONS_PATCH_VERSION = (0, 24, 4)
"""``PATCH /options`` and ``PUT /options/yaml`` from here; ``POST /options/yaml`` before."""
TELEMETRY_VERSION = (0, 24, 0)
REPORTS_VERSION = (0, 24, 2)
"""Telemetry reports, and ``metrics/kpis`` (``metrics/kpi`` before), from here."""
SLOW_ENQUEUE = 120.0
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


def check_destination(path: str) -> None:
    """slskd 0.26 takes a batch destination relative to its downloads directory, without ``..``."""
    text = path.replace("\\", "/")
    if not text.strip() or text.startswith("/") or (len(text) > 1 and text[1] == ":") or ".." in text.split("/"):
        raise PeerdeckInputError(
            f"slskd saves downloads under its own downloads directory; give a relative folder such as 'Albums', "
            f"not {path!r}"
        )


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


class SlskdCore(HttpClient):
    """Authentication, requests and version handling that every slskd route uses."""

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
            await self._since(URL_ENCODED_NAMES, f"route for the user {username!r} (a name with '/')")
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
        return json_object(reply.data, "session")

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
        return json_object(await self._get("application"), "application state")

    async def application_version(self) -> str:
        """``GET /application/version``: the running version string."""
        return plain_text(await self._api("GET", "application/version", decode="text"))

    async def application_check_updates(self, *, force_check: bool = False) -> JsonObject:
        """``GET /application/version/latest``: ``{full, current, latest, isUpdateAvailable, …}``."""
        return json_object(await self._get("application/version/latest", {"forceCheck": flag(force_check)}), "version")

    async def application_restart(self) -> None:
        """``PUT /application`` (JWT and Administrator only)."""
        await self._api("PUT", "application", decode="none")

    async def application_shutdown(self) -> None:
        """``DELETE /application`` (JWT and Administrator only)."""
        await self._api("DELETE", "application", decode="none")

    async def application_gc(self) -> None:
        """``POST /application/gc``: force a garbage collection."""
        await self._api("POST", "application/gc", decode="none")


def plain_text(reply: Reply) -> str:
    """A string answer: slskd sends ``text/plain``, but a JSON string (quoted) is read as well."""
    text = str(reply.data or "").strip()
    if text.startswith('"'):
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return str(decoded)
    return text


def relay_headers(agent: str, credential: str) -> dict[str, str]:
    return {"X-Relay-Agent": agent, "X-Relay-Credential": credential}


def route_missing(err: PeerdeckResponseError) -> bool:
    """A 405, or a 404 without a message, means the route itself does not exist."""
    if err.status == 405:
        return True
    return isinstance(err, PeerdeckNotFoundError) and str(err).rstrip().endswith("answered 404")


def file_list(files: Sequence[tuple[str, int]]) -> list[JsonObject]:
    if not files:
        raise PeerdeckInputError("no files to enqueue")
    out: list[JsonObject] = []
    for filename, size in files:
        if not filename or size < 0:
            raise PeerdeckInputError(f"cannot enqueue {filename!r} of size {size}")
        out.append({"filename": filename, "size": int(size)})
    return out


def flag(value: bool) -> str:
    return "true" if value else "false"


def query_params(**values: str | int | None) -> dict[str, str | int | float]:
    return {k: v for k, v in values.items() if v is not None}


def opt_str(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


def json_object(data: Any, what: str) -> JsonObject:
    if not isinstance(data, dict):
        raise PeerdeckInvalidResponseError(f"slskd sent a {what} that is not a JSON object")
    return data


def json_objects(data: Any, what: str) -> list[JsonObject]:
    if not isinstance(data, list):
        raise PeerdeckInvalidResponseError(f"slskd sent {what} that are not a JSON list")
    return [item for item in data if isinstance(item, dict)]
