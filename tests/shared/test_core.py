"""The HTTP core: URL joining, session ownership, and the mapping of every failure."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from aioresponses import aioresponses

from peerdeck import (
    Credentials,
    InvalidHashError,
    InvalidMagnetError,
    InvalidURLError,
    PeerdeckAuthenticationError,
    PeerdeckConflictError,
    PeerdeckConnectionError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
    PeerdeckTimeoutError,
    Status,
    Transfer,
    create_backend,
)
from peerdeck.backend import TrackedBackend
from peerdeck.client import HttpClient, parse_retry_after
from peerdeck.validation import validate_http_url, validate_info_hash, validate_magnet

BASE = "http://daemon.test:8080/prefix/"


class KeyClient(HttpClient):
    daemon_name = "TestDaemon"

    def _auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": "super-secret-key"}


async def test_path_prefix_is_kept_and_query_dropped() -> None:
    client = KeyClient("http://user:pw@daemon.test:8080/prefix/?key=abc")
    assert str(client.base_url) == "http://daemon.test:8080/prefix/"
    assert str(client._url("api/v0/users/a%2Fb")) == "http://daemon.test:8080/prefix/api/v0/users/a%2Fb"
    assert str(KeyClient("http://h:1")._url("/rest/x")) == "http://h:1/rest/x"


@pytest.mark.parametrize("url", ["ftp://x/", "not a url", "http://", "/relative"])
def test_bad_base_url_is_an_input_error(url: str) -> None:
    with pytest.raises(InvalidURLError):
        KeyClient(url)


async def test_json_and_auth_headers() -> None:
    async with KeyClient(BASE) as client:
        with aioresponses() as mocked:
            mocked.get(f"{BASE}api/thing?a=1", payload={"ok": True})
            reply = await client._request("GET", "api/thing", params={"a": 1})
            assert reply.data == {"ok": True}
            call = next(iter(mocked.requests.values()))[0]
            assert call.kwargs["headers"]["X-Api-Key"] == "super-secret-key"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, PeerdeckAuthenticationError),
        (403, PeerdeckForbiddenError),
        (404, PeerdeckNotFoundError),
        (405, PeerdeckResponseError),
        (409, PeerdeckConflictError),
        (415, PeerdeckResponseError),
        (429, PeerdeckRateLimitedError),
        (500, PeerdeckServerError),
        (503, PeerdeckServerError),
    ],
)
async def test_http_errors_map_to_the_tree(status: int, error: type[Exception]) -> None:
    async with KeyClient(BASE) as client:
        with aioresponses() as mocked:
            mocked.get(f"{BASE}api/thing?key=super-secret-key", status=status, body="nope")
            with pytest.raises(error) as caught:
                await client._request("GET", "api/thing", params={"key": "super-secret-key"})
    assert "super-secret-key" not in str(caught.value)
    assert "/prefix/api/thing" in str(caught.value)


async def test_rate_limit_carries_retry_after() -> None:
    async with KeyClient(BASE) as client:
        with aioresponses() as mocked:
            mocked.get(f"{BASE}x", status=429, headers={"Retry-After": "7"})
            with pytest.raises(PeerdeckRateLimitedError) as caught:
                await client._request("GET", "x")
    assert caught.value.retry_after == 7.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_bad_json_is_invalid_response() -> None:
    async with KeyClient(BASE) as client:
        with aioresponses() as mocked:
            mocked.get(f"{BASE}x", body="{not json", content_type="application/json")
            with pytest.raises(PeerdeckInvalidResponseError):
                await client._request("GET", "x")


async def test_redirect_is_reported() -> None:
    async with KeyClient(BASE) as client:
        with aioresponses() as mocked:
            mocked.get(f"{BASE}x", status=302, headers={"Location": "http://elsewhere/"})
            with pytest.raises(PeerdeckInvalidResponseError, match="redirected"):
                await client._request("GET", "x")


async def test_timeout_is_typed() -> None:
    async with KeyClient(BASE, request_timeout=0.05) as client:
        with aioresponses() as mocked:

            async def slow(*_args: object, **_kwargs: object) -> None:
                await asyncio.sleep(1)

            mocked.get(f"{BASE}x", callback=slow)
            with pytest.raises(PeerdeckTimeoutError):
                await client._request("GET", "x")


async def test_refused_connection_is_typed() -> None:
    # A real refused connection: nothing listens on this loopback port.
    async with KeyClient("http://127.0.0.1:9/") as client:
        with pytest.raises(PeerdeckConnectionError, match="cannot reach TestDaemon"):
            await client._request("GET", "x")


async def test_dns_failure_is_typed() -> None:
    async with KeyClient(BASE) as client:
        with aioresponses() as mocked:
            mocked.get(
                f"{BASE}x",
                exception=aiohttp.ClientConnectorError(
                    aiohttp.client_reqrep.ConnectionKey("daemon.test", 8080, False, None, None, None, None),
                    __import__("socket").gaierror(-2, "Name or service not known"),
                ),
            )
            with pytest.raises(PeerdeckConnectionError, match="could not be resolved"):
                await client._request("GET", "x")


async def test_injected_session_is_not_closed() -> None:
    async with aiohttp.ClientSession() as session:
        client = KeyClient(BASE, session=session)
        await client.close()
        assert not session.closed


async def test_owned_session_is_closed() -> None:
    client = KeyClient(BASE)
    session = client._get_session()
    await client.close()
    assert session.closed


def test_validators() -> None:
    good = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
    assert validate_info_hash(good.upper()) == good
    assert validate_magnet(f"magnet:?xt=urn:btih:{good}&dn=x").startswith("magnet:")
    assert validate_magnet("magnet:?xt=urn:btih:" + "A" * 32)
    assert validate_http_url("https://example.org/a.torrent").host == "example.org"
    with pytest.raises(InvalidHashError):
        validate_info_hash("xyz")
    with pytest.raises(InvalidMagnetError):
        validate_magnet("http://example.org")
    with pytest.raises(InvalidMagnetError):
        validate_magnet("magnet:?dn=nohash")
    with pytest.raises(InvalidURLError):
        validate_http_url("javascript:alert(1)")
    with pytest.raises(InvalidHashError) as caught:
        validate_info_hash("x" * 500)
    assert len(str(caught.value)) < 200


def test_factory_rejects_unknown_kind() -> None:
    with pytest.raises(PeerdeckInputError, match=re.escape("unknown daemon kind 'rtorrent'")):
        create_backend("rtorrent", BASE, Credentials())


def test_credentials_repr_hides_secrets() -> None:
    text = repr(Credentials(username="me", password="hunter2", api_key="k3y"))
    assert "hunter2" not in text
    assert "k3y" not in text


class _CursorBackend(TrackedBackend[HttpClient]):
    """Follows its daemon by a cursor; reads everything only when a reconciliation is due."""

    def __init__(self) -> None:
        super().__init__(HttpClient("http://127.0.0.1:1"))
        self.full_reads = 0

    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        if self.reconcile_due:
            self.full_reads += 1
            self.reconcile_due = False
        return Status(connected=True), {}


async def test_a_restarted_daemon_is_reconciled_and_told_once() -> None:
    backend = _CursorBackend()
    assert not (await backend.update()).restarted
    backend.daemon_restarted("a cursor above the daemon's newest id")
    assert (await backend.update()).restarted
    assert backend.full_reads == 1
    assert not (await backend.update()).restarted
    assert backend.full_reads == 1
    await backend.close()
