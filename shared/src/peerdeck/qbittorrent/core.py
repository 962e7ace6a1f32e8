"""qBittorrent client plumbing: the login, the request wrapper, error mapping and the WebAPI version.

Logins are precious: qBittorrent bans an address after five failures. The client logs
in lazily, re-logs in at most once when a session expires (a 403), and after the
daemon rejects the credentials it refuses to try again until ``reset_login`` is called.
API keys (Bearer, qBittorrent 5.2+) need no login at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

from ..client import DEFAULT_TIMEOUT, Decode, HttpClient, Reply
from ..exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckForbiddenError,
    PeerdeckHostRejectedError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotSupportedError,
    PeerdeckResponseError,
)
from .wire import STOP_START_API, form_fields, parse_api_version, query_params, session_cookie


class QBittorrentCore(HttpClient):
    """Credentials, sessions, logged-in calls and the WebAPI version; the routes build on it."""

    daemon_name = "qBittorrent"

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(url, session=session, verify_ssl=verify_ssl, request_timeout=request_timeout)
        self._username = username or ""
        self._password = password or ""
        self._api_key = api_key
        self._logged_in = False
        self._login_rejected = False
        self._login_lock = asyncio.Lock()
        self._api_version: tuple[int, ...] | None = None
        self._sid: str | None = None
        self.logins = 0
        """Sessions opened so far: a new one after the first may mean the daemon restarted (it forgets
        every session), so whoever keeps state across calls can check."""

    # ------------------------------------------------------------------ plumbing

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key:
            return {"Authorization": f"Bearer {self._api_key}"}
        if self._sid is not None:
            # Sent explicitly, so an injected session whose cookie jar drops cookies of
            # bare-IP hosts (Home Assistant's shared one) still carries the session.
            return {"Cookie": self._sid}
        return {}

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        if status == 403 and what.endswith("/auth/login"):
            raise PeerdeckBannedError(
                "qBittorrent has banned this address after too many failed logins; "
                "wait for the ban to expire (1 hour by default) or restart qBittorrent"
            )
        if status == 404 and b"Endpoint does not exist" in body:
            raise PeerdeckNotSupportedError(f"{what}: this qBittorrent version has no such endpoint")
        if status == 405:
            raise PeerdeckResponseError(f"{what}: qBittorrent wants another HTTP method (405)", status)
        if status == 415:
            raise PeerdeckInputError(f"{what}: qBittorrent could not read the torrent file (415)")
        super()._raise_for_status(what, status, headers, body)

    async def login(self) -> None:
        """Open a cookie session. A rejection is final for this client (no login loops)."""
        if self._api_key:
            return
        async with self._login_lock:
            if self._logged_in:
                return
            if self._login_rejected:
                raise PeerdeckAuthenticationError(
                    "qBittorrent rejected these credentials before; not retrying, to avoid an IP ban"
                )
            self._sid = None
            reply = await self._request(
                "POST",
                "api/v2/auth/login",
                data={"username": self._username, "password": self._password},
                decode="text",
                ok_statuses=(401,),
            )
            text = (reply.data or "").strip()
            if reply.status == 401 and await self._host_rejected():
                raise PeerdeckHostRejectedError(
                    "qBittorrent refused the Host header (its log: 'Invalid Host header'): behind a reverse "
                    "proxy on another port, have the proxy send qBittorrent's own host and port, or turn off "
                    "'Enable Host header validation' in qBittorrent's Web UI options"
                )
            if reply.status == 401 or text == "Fails.":
                self._login_rejected = True
                raise PeerdeckAuthenticationError("qBittorrent rejected the username or password")
            if reply.status not in (200, 204) or (reply.status == 200 and text not in ("Ok.", "")):
                raise PeerdeckInvalidResponseError(f"qBittorrent answered the login with {reply.status}")
            self._sid = session_cookie(reply)
            self._logged_in = True
            self.logins += 1

    async def _host_rejected(self) -> bool:
        """After a 401 on login: whether qBittorrent's Host header check answered it, not the password.

        The check runs before anything else and answers 401 to every request, where an unauthenticated
        ``app/version`` otherwise gets 403 (qBittorrent 4.5 and 5.3 alike; a wrong password gets 200
        ``Fails.`` on 4.x and 401 on 5.x). This probe is no login: it cannot count towards a ban.
        """
        reply = await self._request("GET", "api/v2/app/version", decode="text", ok_statuses=(401, 403))
        return reply.status == 401

    def reset_login(self) -> None:
        """Allow a new login attempt (after the user fixed the credentials)."""
        self._login_rejected = False
        self._logged_in = False
        self._sid = None

    def forget_session(self) -> None:
        """Drop the session cookie, as if it had expired (the next call logs in again)."""
        self._logged_in = False
        self._sid = None

    async def _api(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        data: Any = None,
        decode: Decode = "auto",
        timeout: float | None = None,
    ) -> Reply:
        """Call ``/api/v2/<route>`` logged in, re-logging in once if the session expired."""
        if not self._api_key and not self._logged_in:
            await self.login()

        async def call() -> Reply:
            return await self._request(
                method, f"api/v2/{route}", params=params, data=data, decode=decode, timeout=timeout
            )

        session = self.logins
        try:
            return await call()
        except PeerdeckForbiddenError:
            if self._api_key:
                raise PeerdeckAuthenticationError("qBittorrent refused the API key (403)") from None
            if self.logins == session:
                # Calls sent together all meet the expired session: the first to get here logs in again,
                # the others find its new session (one login, not one per call).
                self.forget_session()
            await self.login()
            try:
                return await call()
            except PeerdeckForbiddenError as err:
                raise PeerdeckAuthenticationError("qBittorrent refused the request even after a fresh login") from err

    async def _get_json(self, route: str, **params: str | int | float | None) -> Any:
        reply = await self._api("GET", route, params=query_params(params), decode="json")
        return reply.data

    async def _post(self, route: str, **fields: str | int | float | bool | None) -> Reply:
        return await self._api("POST", route, data=form_fields(fields), decode="text")

    async def api_version(self) -> tuple[int, ...]:
        """The WebAPI version as a tuple, fetched once and cached."""
        if self._api_version is None:
            reply = await self._api("GET", "app/webapiVersion", decode="text")
            self._api_version = parse_api_version(str(reply.data))
        return self._api_version

    def forget_version(self) -> None:
        """Read the WebAPI version again at its next use (the daemon restarted, maybe upgraded)."""
        self._api_version = None

    async def _uses_stop_start(self) -> bool:
        return await self.api_version() >= STOP_START_API

    # ------------------------------------------------------------------ auth

    async def logout(self) -> None:
        """End the cookie session."""
        if self._logged_in and not self._api_key:
            await self._post("auth/logout")
        self.forget_session()
