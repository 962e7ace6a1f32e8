"""Fixtures: a SoulSync conformance server on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from peerdeck.models import Credentials
from peerdeck.soulsync import RateLimiter, SoulSyncBackend, SoulSyncClient

from .server import SoulSyncServer


class FakeClock:
    """Time that moves only when something sleeps on it, shared by client and server."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[SoulSyncServer]:
    """A fresh SoulSync without keys (bootstrap still open); its rate-limit clock is ``clock``."""
    srv = SoulSyncServer(clock=clock)
    await srv.start()
    yield srv
    await srv.close()


@pytest.fixture
def api_key(server: SoulSyncServer) -> str:
    return server.add_key("tests")


def limiter(clock: FakeClock) -> RateLimiter:
    """The default limit on the shared fake clock: waits cost no wall time."""
    return RateLimiter(clock=clock, sleep=clock.sleep)


@pytest.fixture
async def client(server: SoulSyncServer, api_key: str, clock: FakeClock) -> AsyncIterator[SoulSyncClient]:
    async with SoulSyncClient(str(server.url), api_key=api_key, rate_limiter=limiter(clock)) as c:
        yield c


@pytest.fixture
async def backend(server: SoulSyncServer, api_key: str, clock: FakeClock) -> AsyncIterator[SoulSyncBackend]:
    b = SoulSyncBackend(
        str(server.url),
        Credentials(api_key=api_key),
        rate_limiter=limiter(clock),
        clock=clock,
        sleep=clock.sleep,
    )
    yield b
    await b.close()
