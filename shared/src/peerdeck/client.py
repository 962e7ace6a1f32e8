"""The HTTP core every daemon client builds on.

One private helper, :meth:`HttpClient._request`, owns the session, timeouts, TLS choice and
the mapping of every failure onto the exception tree, so daemon clients only describe
routes and shapes. A session passed in by the caller (Home Assistant's shared one, say) is
used as is and never closed here; a session this class creates is closed by :meth:`close`.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, Self

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from .exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckConflictError,
    PeerdeckConnectionError,
    PeerdeckForbiddenError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
    PeerdeckTimeoutError,
)
from .validation import validate_http_url

DEFAULT_TIMEOUT = 10.0

Decode = Literal["json", "text", "bytes", "auto", "none"]


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: status, headers and the decoded body."""

    status: int
    headers: CIMultiDictProxy[str]
    data: Any


class HttpClient:
    """Base class of the daemon clients: base URL, session ownership, requests, errors."""

    #: Shown in error messages ("qBittorrent answered 404 ...").
    daemon_name = "daemon"

    def __init__(
        self,
        url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        parsed = validate_http_url(url)
        # Credentials never live in the URL we keep (they would end up in logs).
        self._base = parsed.with_user(None).with_password(None).with_query(None).with_fragment(None)
        self._session = session
        self._owns_session = session is None
        self._verify_ssl = verify_ssl
        self.request_timeout = request_timeout

    @property
    def base_url(self) -> URL:
        """The daemon's base URL, path prefix included, without credentials."""
        return self._base

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise PeerdeckConnectionError("the HTTP session given to the client is closed")
            # unsafe=True keeps cookies for bare-IP hosts (qBittorrent's session cookie).
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        return self._session

    def _url(self, path: str) -> URL:
        """Join an already percent-encoded route onto the base URL, keeping its path prefix."""
        prefix = self._base.raw_path.rstrip("/")
        return self._base.with_path(prefix + "/" + path.lstrip("/"), encoded=True)

    def _auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request; subclasses override."""
        return {}

    def _describe(self, method: str, path: str) -> str:
        """Name a request in messages without its query string (which may hold a key)."""
        return f"{method} {self._url(path).path}"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        decode: Decode = "auto",
        ok_statuses: tuple[int, ...] = (),
    ) -> Reply:
        """Send one request and return its decoded answer, or raise a PeerdeckError."""
        session = self._get_session()
        request_headers = {**self._auth_headers(), **(headers or {})}
        what = self._describe(method, path)
        try:
            async with asyncio.timeout(timeout if timeout is not None else self.request_timeout):
                async with session.request(
                    method,
                    self._url(path),
                    params=params,
                    json=json_body,
                    data=data,
                    headers=request_headers,
                    ssl=self._verify_ssl,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
                    if response.status >= 400 and response.status not in ok_statuses:
                        self._raise_for_status(what, response.status, response.headers, body)
                    if 300 <= response.status < 400 and response.status not in ok_statuses:
                        raise PeerdeckInvalidResponseError(
                            f"{what}: {self.daemon_name} redirected ({response.status}); "
                            "check the URL and its path prefix"
                        )
                    decoded = self._decode(what, response, body, decode)
                    return Reply(response.status, response.headers, decoded)
        except TimeoutError as err:
            raise PeerdeckTimeoutError(f"{what}: {self.daemon_name} did not answer in time") from err
        except aiohttp.ClientError as err:
            raise self._connection_error(what, err) from err

    @asynccontextmanager
    async def _stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float] | None = None,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open a long-lived response (server-sent events, long polls) with the same error mapping.

        ``connect_timeout`` bounds getting the headers; ``read_timeout`` bounds each wait
        for more data, so a silent stream is detected without limiting its total length.
        """
        session = self._get_session()
        what = self._describe(method, path)
        try:
            async with asyncio.timeout(connect_timeout if connect_timeout is not None else self.request_timeout):
                response = await session.request(
                    method,
                    self._url(path),
                    params=params,
                    headers={**self._auth_headers(), **(headers or {})},
                    ssl=self._verify_ssl,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=None, sock_read=read_timeout),
                )
                if response.status >= 400:
                    body = await response.read()
                    response.release()
                    self._raise_for_status(what, response.status, response.headers, body)
        except TimeoutError as err:
            raise PeerdeckTimeoutError(f"{what}: {self.daemon_name} did not answer in time") from err
        except aiohttp.ClientError as err:
            raise self._connection_error(what, err) from err
        try:
            yield response
        except TimeoutError as err:
            raise PeerdeckTimeoutError(f"{what}: the stream from {self.daemon_name} went silent") from err
        except aiohttp.ClientError as err:
            raise self._connection_error(what, err) from err
        finally:
            response.release()

    def _connection_error(self, what: str, err: aiohttp.ClientError) -> PeerdeckConnectionError:
        """Say why the daemon could not be reached, in words a user can act on."""
        if isinstance(err, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
            reason = "its TLS certificate was rejected (turn off certificate verification for self-signed ones)"
        elif isinstance(err, aiohttp.ClientConnectorError) and isinstance(err.os_error, socket.gaierror):
            reason = f"the host name {self._base.host!r} could not be resolved"
        elif isinstance(err, aiohttp.ClientConnectorError):
            reason = (
                f"the connection to {self._base.host}:{self._base.port} failed ({err.os_error.strerror or 'refused'})"
            )
        elif isinstance(err, aiohttp.ServerDisconnectedError):
            reason = "it closed the connection"
        elif isinstance(err, aiohttp.ClientPayloadError):
            reason = "its answer was cut short"
        else:
            reason = f"of a network error ({type(err).__name__})"
        return PeerdeckConnectionError(f"{what}: cannot reach {self.daemon_name} because {reason}")

    def _raise_for_status(self, what: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """Map an HTTP error status onto the exception tree; subclasses refine per daemon."""
        detail = _short_text(body)
        message = f"{what}: {self.daemon_name} answered {status}" + (f" ({detail})" if detail else "")
        if status == 401:
            raise PeerdeckAuthenticationError(f"{what}: {self.daemon_name} rejected the credentials (401)")
        if status == 403:
            raise PeerdeckForbiddenError(message)
        if status == 404:
            raise PeerdeckNotFoundError(message, status)
        if status == 409:
            raise PeerdeckConflictError(message, status)
        if status == 429:
            raise PeerdeckRateLimitedError(message, parse_retry_after(headers.get("Retry-After")))
        if status >= 500:
            raise PeerdeckServerError(message, status)
        raise PeerdeckResponseError(message, status)

    def _decode(self, what: str, response: aiohttp.ClientResponse, body: bytes, decode: Decode) -> Any:
        if decode == "none" or (decode == "auto" and not body):
            return None
        if decode == "bytes":
            return body
        is_json = decode == "json" or (decode == "auto" and response.content_type == "application/json")
        if not is_json:
            return body.decode(response.charset or "utf-8", errors="replace")
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise PeerdeckInvalidResponseError(f"{what}: {self.daemon_name} sent invalid JSON") from err


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (dates are rare from daemons)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _short_text(body: bytes, limit: int = 200) -> str:
    """First line of an error body, trimmed, for messages (HTML pages are dropped)."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text or text.lstrip().startswith("<"):
        return ""
    line = text.splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
