"""SoulSync's behaviour: auth, bootstrap, envelope errors, HTML 404, the 60/min limit of each route."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from peerdeck.exceptions import (
    PeerdeckAuthenticationError,
    PeerdeckForbiddenError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
)
from peerdeck.soulsync import RateLimiter, SoulSyncAuthenticationError, SoulSyncClient, SoulSyncForbiddenError

from .conftest import FakeClock, limiter
from .server import SoulSyncServer

RATE_LIMITED_BODY = {
    "success": False,
    "data": None,
    "error": {"code": "RATE_LIMITED", "message": "Too many requests. Please slow down."},
    "pagination": None,
}


async def test_no_key_is_auth_required(server: SoulSyncServer, clock: FakeClock) -> None:
    server.add_key()
    async with SoulSyncClient(str(server.url), rate_limiter=limiter(clock)) as client:
        with pytest.raises(SoulSyncAuthenticationError) as err:
            await client.system_status()
    assert (err.value.status, err.value.code) == (401, "AUTH_REQUIRED")
    assert "bootstrap_api_key" in str(err.value)


async def test_wrong_key_is_invalid_key(server: SoulSyncServer, clock: FakeClock) -> None:
    server.add_key()
    async with SoulSyncClient(str(server.url), api_key="sk_wrong", rate_limiter=limiter(clock)) as client:
        with pytest.raises(PeerdeckAuthenticationError) as err:
            await client.system_stats()
    assert isinstance(err.value, SoulSyncAuthenticationError)
    assert (err.value.status, err.value.code) == (403, "INVALID_KEY")
    assert "sk_wrong" not in str(err.value)


async def test_key_in_query(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    async with SoulSyncClient(
        str(server.url), api_key=api_key, key_in_query=True, rate_limiter=limiter(clock)
    ) as client:
        await client.system_status()
    _, _, query, headers = server.log[-1]
    assert query["api_key"] == api_key
    assert "Authorization" not in headers


async def test_bootstrap_then_forbidden(server: SoulSyncServer, clock: FakeClock) -> None:
    async with SoulSyncClient(str(server.url), rate_limiter=limiter(clock)) as client:
        first = await client.bootstrap_api_key("My First Key")
        assert first.key.startswith("sk_")
        assert first.label == "My First Key"
        assert client.api_key == first.key
        assert "Authorization" not in server.log[-1][3]
        assert (await client.system_status()).uptime_seconds == 8130
        with pytest.raises(SoulSyncForbiddenError) as err:
            await client.bootstrap_api_key()
    assert (err.value.status, err.value.code) == (403, "FORBIDDEN")
    assert "already has an API key" in str(err.value)
    assert isinstance(err.value, PeerdeckForbiddenError)
    assert len(server.keys) == 1


async def test_bootstrap_can_leave_the_client_key_alone(server: SoulSyncServer, clock: FakeClock) -> None:
    async with SoulSyncClient(str(server.url), rate_limiter=limiter(clock)) as client:
        key = await client.bootstrap_api_key(use_it=False)
        assert client.api_key is None
    assert key.key_prefix == key.key[:11]


async def test_envelope_error_keeps_code_and_message(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    task = server.add_task("downloading", username="alice")
    with pytest.raises(PeerdeckServerError) as err:
        await client.cancel_download(task.id, "alice")
    assert (err.value.status, err.value.code) == (500, "CANCEL_FAILED")
    assert "Failed to cancel download." in str(err.value)
    server.slskd_configured = False
    with pytest.raises(PeerdeckServerError) as unavailable:
        await client.cancel_all_downloads()
    assert (unavailable.value.status, unavailable.value.code) == (503, "NOT_AVAILABLE")


async def test_unknown_route_is_html_404(client: SoulSyncClient, server: SoulSyncServer) -> None:
    with pytest.raises(PeerdeckNotSupportedError) as err:
        await client.call("GET", "no/such/route")
    assert "HTML 404" in str(err.value)
    assert "<" not in str(err.value)
    with pytest.raises(PeerdeckNotSupportedError):
        await client.call("GET", "profiles/abc")  # Flask's <int:> converter does not match either


async def test_wrong_method_is_html_405(client: SoulSyncClient) -> None:
    with pytest.raises(PeerdeckResponseError) as err:
        await client.call("PUT", "system/status")
    assert err.value.status == 405


async def test_server_429_has_the_exact_body_and_no_retry_after(server: SoulSyncServer, api_key: str) -> None:
    server.rate_limit = 1
    headers = {"Authorization": f"Bearer {api_key}"}
    async with aiohttp.ClientSession() as session:
        await (await session.get(server.url / "api/v1/system/status", headers=headers)).read()
        response = await session.get(server.url / "api/v1/system/status", headers=headers)
        assert response.status == 429
        assert await response.json() == RATE_LIMITED_BODY
        assert "Retry-After" not in response.headers
        assert not any(h.startswith("X-RateLimit") for h in response.headers)


async def test_the_server_counts_each_route_on_its_own(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    """60 calls to /system/status: the 61st gets 429 while other routes still answer, for a minute."""
    async with SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=RateLimiter(10_000)) as client:
        for _ in range(60):
            await client.system_status()
            clock.now += 0.5
        with pytest.raises(PeerdeckRateLimitedError):
            await client.system_status()
        await client.downloads()
        await client.search_tracks("Daft Punk")
        await client.library_artist(3)
        await client.library_artist(2)  # one route, whatever the id
        with pytest.raises(SoulSyncForbiddenError):
            await client.bootstrap_api_key()
        clock.now = 59.9  # the window opened with the first call at 0 s
        with pytest.raises(PeerdeckRateLimitedError):
            await client.system_status()
        clock.now = 60.0
        await client.system_status()
    routes = {route for route, _ in server.hits}
    assert "GET /api/v1/library/artists/{artist_id}" in routes
    assert sum(1 for route, _ in server.hits if route.endswith("{artist_id}")) == 2


async def test_unknown_routes_are_not_limited(client: SoulSyncClient, server: SoulSyncServer) -> None:
    server.rate_limit = 0
    with pytest.raises(PeerdeckNotSupportedError, match="HTML 404"):
        await client.call("GET", "no/such/route")
    with pytest.raises(PeerdeckRateLimitedError):
        await client.system_status()


async def test_429_becomes_rate_limited_with_a_minute_to_wait(server: SoulSyncServer, api_key: str) -> None:
    unlimited = RateLimiter(10_000)
    async with SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=unlimited) as client:
        for _ in range(60):
            await client.system_status()
        with pytest.raises(PeerdeckRateLimitedError) as err:
            await client.system_status()
    assert err.value.retry_after == 60.0
    assert "RATE_LIMITED" in str(err.value)


async def test_unauthenticated_requests_count_too(server: SoulSyncServer, clock: FakeClock) -> None:
    server.rate_limit = 2
    async with SoulSyncClient(str(server.url), api_key="sk_wrong", rate_limiter=RateLimiter(100)) as client:
        for _ in range(2):
            with pytest.raises(SoulSyncAuthenticationError):
                await client.system_status()
        with pytest.raises(PeerdeckRateLimitedError):
            await client.system_status()


def busiest_minute(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 60.0) for start in times)


async def test_limiter_keeps_a_busy_client_under_every_route_limit(
    server: SoulSyncServer, api_key: str, clock: FakeClock
) -> None:
    """150 rounds of three routes through the default limiter, on the server's clock: never a 429."""
    async with SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=limiter(clock)) as client:
        for _ in range(150):
            await client.system_status()
            await client.system_stats()
            await client.library_artist(3)
    assert len(server.hits) == 450
    assert clock.now >= 120.0  # 150 calls a route at 55 a minute need two full waits
    for route in {route for route, _ in server.hits}:
        assert busiest_minute([t for r, t in server.hits if r == route]) <= 55


async def test_a_busy_route_does_not_hold_up_the_others(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    async with SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=limiter(clock)) as client:
        for _ in range(55):
            await client.system_status()
        await client.downloads()
        await client.system_stats()
        assert clock.slept == []
        await client.system_status()
    assert clock.slept == [60.0 + 60.0 / 55]


async def test_one_limiter_shared_by_two_clients(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    shared = RateLimiter(10, clock=clock, sleep=clock.sleep)
    async with (
        SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=shared) as first,
        SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=shared) as second,
    ):
        for _ in range(10):
            await first.system_status()
            await second.system_status()
    assert clock.slept == [66.0]
    assert [t for _, t in server.hits].count(0.0) == 10


async def test_a_burst_freed_by_the_window_never_meets_a_fixed_window_429(
    server: SoulSyncServer, api_key: str, clock: FakeClock
) -> None:
    """SoulSync's window opens when the first request *arrives* (here 0.5 s after it was sent);
    a burst freed all at once by the client's window would land in the old, full one (issue 24)."""
    server.clock = lambda: clock.now + (0.5 if not server.hits else 0.0)
    async with SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=limiter(clock)) as client:
        await asyncio.gather(*(client.system_status() for _ in range(55)))  # the minute's budget, at once
        await asyncio.gather(*(client.system_status() for _ in range(55)))  # freed together by the window
    times = [t for _, t in server.hits]
    assert len(times) == 110  # every call answered, none refused
    opened = times[0]
    assert sum(1 for t in times if opened <= t < opened + 60.0) <= server.rate_limit
