"""Key handling, the start-up 404, Tribler 7.x and other answers that need more than a status code."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckConnectionError,
    PeerdeckInvalidResponseError,
    PeerdeckNotSupportedError,
)
from peerdeck.tribler import TriblerClient, TriblerNotReadyError

from .conftest import FAST, Core
from .server import API_KEY, legacy_app, serve


@pytest.fixture
async def legacy_url() -> AsyncIterator[str]:
    async for url in serve(legacy_app()):
        yield url


@pytest.mark.parametrize(
    ("headers", "params", "cookies"),
    [({"X-Api-Key": API_KEY}, {}, {}), ({}, {"key": API_KEY}, {}), ({}, {}, {"api_key": API_KEY})],
    ids=["header", "query", "cookie"],
)
async def test_core_accepts_the_key_three_ways(
    core: Core, headers: dict[str, str], params: dict[str, str], cookies: dict[str, str]
) -> None:
    async with (
        aiohttp.ClientSession(cookies=cookies) as session,
        session.get(f"{core.url}/api/settings", headers=headers, params=params) as response,
    ):
        assert response.status == 200


async def test_core_rejects_a_missing_key_with_tribler_body(core: Core) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{core.url}/api/downloads") as response:
        assert response.status == 401
        assert await response.json() == {"error": {"handled": True, "message": "Unauthorized access"}}


async def test_wrong_key_is_an_authentication_error_without_the_key(core: Core) -> None:
    async with TriblerClient(core.url, api_key="not-the-key") as client:
        with pytest.raises(PeerdeckAuthenticationError, match="API key") as caught:
            await client.downloads()
    assert "not-the-key" not in str(caught.value)


async def test_startup_404_is_retried_until_ready(core: Core, client: TriblerClient) -> None:
    core.server.starting_requests = 3
    data = await client.local_search("anything")
    assert data["results"] == []
    assert core.server.requests.count(("GET", "/api/metadata/search/local")) == 4


async def test_startup_that_never_ends_is_a_clear_error(core: Core) -> None:
    core.server.starting_requests = 10_000
    async with TriblerClient(core.url, api_key=API_KEY, startup_wait=0.05, startup_retry_interval=0.01) as client:
        with pytest.raises(TriblerNotReadyError, match=r"still starting .* try again in a moment"):
            await client.remote_search("ubuntu")
    attempts = core.server.requests.count(("PUT", "/api/search/remote"))
    assert 1 < attempts < 10_000


async def test_not_ready_is_a_connection_error_so_callers_retry_later(core: Core) -> None:
    core.server.starting_requests = 10_000
    async with TriblerClient(core.url, api_key=API_KEY, startup_wait=0) as client:
        with pytest.raises(PeerdeckConnectionError):
            await client.completions("ub")
    # One try, and one look at whether the core has finished starting (it has not).
    assert core.server.requests == [("GET", "/api/metadata/search/completions"), ("GET", "/api/ipv8/overlays")]


async def test_tribler_7_is_named(legacy_url: str) -> None:
    async with TriblerClient(legacy_url, api_key=API_KEY) as client:
        with pytest.raises(PeerdeckNotSupportedError, match=r"Tribler 7\.x.*Tribler 8"):
            await client.downloads()
        with pytest.raises(PeerdeckNotSupportedError, match=r"Tribler 7\.x"):
            await anext(client.events(backoff=FAST))
        with pytest.raises(PeerdeckNotSupportedError, match=r"Tribler 7\.x"):
            await anext(client.stream("a" * 40, 0))
        assert await client.is_legacy() is True


async def test_tribler_7_with_a_wrong_key_is_still_an_authentication_error(legacy_url: str) -> None:
    async with TriblerClient(legacy_url, api_key="wrong") as client:
        with pytest.raises(PeerdeckAuthenticationError):
            await client.events_info()


async def test_missing_route_on_tribler_8_is_not_supported(core: Core, client: TriblerClient) -> None:
    with pytest.raises(PeerdeckNotSupportedError, match="no such route"):
        await client._json("GET", "api/versioning/check")
    assert await client.is_legacy() is False
    assert ("GET", "/settings") in core.server.requests


async def test_redirect_outside_api_is_reported(core: Core) -> None:
    async with TriblerClient(core.url + "/tribler", api_key=API_KEY) as client:
        with pytest.raises(PeerdeckInvalidResponseError, match="redirected"):
            await client.settings()
