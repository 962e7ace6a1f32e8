"""Error paths of the slskd client, with the transport mocked by aioresponses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckConnectionError,
    PeerdeckForbiddenError,
    PeerdeckInvalidResponseError,
    PeerdeckNotFoundError,
    PeerdeckRateLimitedError,
    PeerdeckServerError,
    PeerdeckTimeoutError,
)
from peerdeck.slskd import SlskdClient

BASE = "http://127.0.0.1:5030"
KEY = "unit-test-api-key-0123"
SERVER = re.compile(r"^http://127\.0\.0\.1:5030/api/v0/server")


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[SlskdClient]:
    async with SlskdClient(BASE, api_key=KEY, request_timeout=0.5, rate_limit_retries=1, rate_limit_backoff=0.01) as c:
        yield c


async def test_timeout(client: SlskdClient, mocked: aioresponses) -> None:
    mocked.get(SERVER, exception=TimeoutError())
    with pytest.raises(PeerdeckTimeoutError):
        await client.server_state()


async def test_refused(client: SlskdClient, mocked: aioresponses) -> None:
    mocked.get(SERVER, exception=aiohttp.ClientConnectionError("refused"))
    with pytest.raises(PeerdeckConnectionError):
        await client.server_state()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, PeerdeckAuthenticationError),
        (403, PeerdeckForbiddenError),
        (404, PeerdeckNotFoundError),
        (500, PeerdeckServerError),
        (503, PeerdeckServerError),
    ],
)
async def test_http_errors(client: SlskdClient, mocked: aioresponses, status: int, error: type[Exception]) -> None:
    mocked.get(SERVER, status=status, body="")
    with pytest.raises(error) as err:
        await client.server_state()
    assert KEY not in str(err.value)


async def test_json_string_error_body_is_unquoted(client: SlskdClient, mocked: aioresponses) -> None:
    mocked.get(SERVER, status=500, body='"Soulseek client is not connected"', content_type="application/json")
    with pytest.raises(PeerdeckServerError, match=r"\(Soulseek client is not connected\)"):
        await client.server_state()


async def test_429_after_bounded_retries(client: SlskdClient, mocked: aioresponses) -> None:
    route = re.compile(r"^http://127\.0\.0\.1:5030/api/v0/searches$")
    mocked.post(route, status=429, body="Only one concurrent operation is permitted.", headers={"Retry-After": "0"})
    mocked.post(route, status=429, body="Only one concurrent operation is permitted.", headers={"Retry-After": "0"})
    with pytest.raises(PeerdeckRateLimitedError) as err:
        await client.searches_create("blue")
    assert err.value.retry_after == 0


async def test_bad_json(client: SlskdClient, mocked: aioresponses) -> None:
    mocked.get(SERVER, status=200, body="{not json", content_type="application/json")
    with pytest.raises(PeerdeckInvalidResponseError):
        await client.server_state()


async def test_wrong_shape(client: SlskdClient, mocked: aioresponses) -> None:
    mocked.get(SERVER, status=200, payload=["not", "an", "object"])
    with pytest.raises(PeerdeckInvalidResponseError, match="not a JSON object"):
        await client.server_state()


async def test_login_without_token(mocked: aioresponses) -> None:
    mocked.post(f"{BASE}/api/v0/session", payload={"tokenType": "Bearer"})
    async with SlskdClient(BASE, username="u", password="p") as client:
        with pytest.raises(PeerdeckInvalidResponseError, match="without a token"):
            await client.server_state()


async def test_unknown_version_falls_back_from_missing_batches_route(mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/api/v0/application/version", body="canary", content_type="text/plain")
    mocked.post(f"{BASE}/api/v0/transfers/downloads/batches", status=404, body="")
    mocked.post(f"{BASE}/api/v0/transfers/downloads/alice", status=201, payload={"enqueued": [], "failed": []})
    mocked.post(f"{BASE}/api/v0/transfers/downloads/alice", status=201, payload={"enqueued": [], "failed": []})
    async with SlskdClient(BASE, api_key=KEY) as client:
        first = await client.transfers_enqueue("alice", [("a.mp3", 1)])
        second = await client.transfers_enqueue("alice", [("b.mp3", 1)])
    assert not first.via_batches
    assert not second.via_batches
    posts = [key for key in mocked.requests if key[0] == "POST"]
    assert [str(url).rsplit("/", 1)[-1] for _, url in posts] == ["batches", "alice"]
    assert len(mocked.requests[posts[1]]) == 2


async def test_batches_404_with_message_is_an_offline_user(mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/api/v0/application/version", body="dev", content_type="text/plain")
    mocked.post(f"{BASE}/api/v0/transfers/downloads/batches", status=404, body="User alice appears to be offline")
    async with SlskdClient(BASE, api_key=KEY) as client:
        with pytest.raises(PeerdeckNotFoundError, match="offline"):
            await client.transfers_enqueue("alice", [("a.mp3", 1)])
