"""The client-side limiter on an injected clock: it waits, never fails, and never exceeds its budget."""

from __future__ import annotations

import asyncio

import pytest

from peerdeck.soulsync import RateLimiter
from peerdeck.soulsync.ratelimit import route_key

from .conftest import FakeClock


def make(clock: FakeClock, max_calls: int = 60, period: float = 60.0) -> RateLimiter:
    return RateLimiter(max_calls, period, clock=clock, sleep=clock.sleep)


def busiest_window(times: list[float], period: float = 60.0) -> int:
    return max(sum(1 for t in times if start <= t < start + period) for start in times)


async def test_free_slots_do_not_wait(clock: FakeClock) -> None:
    limiter = make(clock)
    for _ in range(60):
        await limiter.acquire()
    assert clock.slept == []
    assert limiter.delay() == 61.0  # the minute, and one spacing (60 s / 60) for SoulSync's later clock


async def test_the_next_call_waits_for_the_oldest_to_leave_the_window(clock: FakeClock) -> None:
    limiter = make(clock, max_calls=3)
    sent: list[float] = []
    for step in (0.0, 10.0, 20.0, 0.0, 0.0, 0.0):
        clock.now += step
        await limiter.acquire()
        sent.append(clock.now)
    # Each slot frees one spacing (60 s / 3) after it left the minute.
    assert sent == [0.0, 10.0, 30.0, 80.0, 90.0, 110.0]
    assert clock.slept == [50.0, 10.0, 20.0]


async def test_a_slot_frees_one_spacing_after_the_minute(clock: FakeClock) -> None:
    """SoulSync's fixed window opens when the first call arrives, later than it left here."""
    limiter = make(clock, max_calls=4, period=60.0)
    sent: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        sent.append(clock.now)

    await asyncio.gather(*(call() for _ in range(8)))
    assert limiter.spacing == 15.0
    assert sent == [0.0] * 4 + [75.0] * 4


async def test_rolling_window_never_holds_more_than_the_budget(clock: FakeClock) -> None:
    limiter = make(clock)
    sent: list[float] = []
    for index in range(400):
        clock.now += 0.25 if index % 7 else 3.0
        await limiter.acquire()
        sent.append(clock.now)
    assert busiest_window(sent) == 60


async def test_concurrent_callers_are_served_in_order(clock: FakeClock) -> None:
    limiter = make(clock, max_calls=2, period=10.0)
    order: list[tuple[int, float]] = []

    async def call(n: int) -> None:
        await limiter.acquire()
        order.append((n, clock.now))

    await asyncio.gather(*(call(n) for n in range(5)))
    assert order == [(0, 0.0), (1, 0.0), (2, 15.0), (3, 15.0), (4, 30.0)]


async def test_each_key_has_its_own_budget(clock: FakeClock) -> None:
    limiter = make(clock, max_calls=2, period=10.0)
    for key in ("GET system/status", "GET system/status", "GET downloads", "GET downloads", ""):
        await limiter.acquire(key)
    assert clock.slept == []
    assert limiter.delay("GET system/status") == 15.0
    assert limiter.delay("POST request") == 0.0


async def test_a_waiting_key_does_not_block_another(clock: FakeClock) -> None:
    released = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await released.wait()
        clock.now += seconds

    limiter = RateLimiter(1, 10.0, clock=clock, sleep=sleep)
    await limiter.acquire("a")
    waiting = asyncio.create_task(limiter.acquire("a"))
    await asyncio.sleep(0)  # the second "a" now waits for its window, holding the lock of "a"
    await asyncio.wait_for(limiter.acquire("b"), 5.0)  # "b" is not held up (the bound only guards a hang)
    assert not waiting.done()
    released.set()
    await waiting
    assert clock.now == 20.0  # its window, and one spacing (10 s / 1)


@pytest.mark.parametrize(
    ("method", "route", "key"),
    [
        ("get", "system/status", "GET system/status"),
        ("GET", "/library/artists/12", "GET library/artists/*"),
        ("GET", "library/artists/12/albums", "GET library/artists/*/albums"),
        ("POST", "wishlist/process", "POST wishlist/process"),
        ("DELETE", "wishlist/3135556", "DELETE wishlist/*"),
        ("POST", "watchlist/scan", "POST watchlist/scan"),
        ("PATCH", "watchlist/27", "PATCH watchlist/*"),
        ("POST", "downloads/cancel-all", "POST downloads/cancel-all"),
        ("POST", "downloads/abc/cancel", "POST downloads/*/cancel"),
        ("GET", "discover/pool/metadata", "GET discover/pool/metadata"),
        ("GET", "discover/bubbles/artist_bubbles", "GET discover/bubbles/*"),
        ("PATCH", "settings", "PATCH settings"),
        ("GET", "no/such/route", "GET no/such/route"),
    ],
)
def test_requests_count_on_the_route_soulsync_counts(method: str, route: str, key: str) -> None:
    assert route_key(method, route) == key


def test_default_leaves_headroom_below_soulsync_limit() -> None:
    limiter = RateLimiter()
    assert limiter.max_calls < 60
    assert limiter.period == 60.0


@pytest.mark.parametrize(("max_calls", "period"), [(0, 60.0), (10, 0.0)])
def test_nonsense_limits_are_refused(max_calls: int, period: float) -> None:
    with pytest.raises(ValueError, match="max_calls"):
        RateLimiter(max_calls, period)
