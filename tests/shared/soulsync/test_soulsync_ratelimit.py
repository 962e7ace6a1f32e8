"""The client-side limiter on an injected clock: it waits, never fails, and never exceeds its budget."""

from __future__ import annotations

import asyncio

import pytest

from peerdeck.soulsync import RateLimiter

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
    assert limiter.delay() == 60.0


async def test_the_next_call_waits_for_the_oldest_to_leave_the_window(clock: FakeClock) -> None:
    limiter = make(clock, max_calls=3)
    sent: list[float] = []
    for step in (0.0, 10.0, 20.0, 0.0, 0.0, 0.0):
        clock.now += step
        await limiter.acquire()
        sent.append(clock.now)
    assert sent == [0.0, 10.0, 30.0, 60.0, 70.0, 90.0]
    assert clock.slept == [30.0, 10.0, 20.0]


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
    assert order == [(0, 0.0), (1, 0.0), (2, 10.0), (3, 10.0), (4, 20.0)]


def test_default_leaves_headroom_below_soulsync_limit() -> None:
    limiter = RateLimiter()
    assert limiter.max_calls < 60
    assert limiter.period == 60.0


@pytest.mark.parametrize(("max_calls", "period"), [(0, 60.0), (10, 0.0)])
def test_nonsense_limits_are_refused(max_calls: int, period: float) -> None:
    with pytest.raises(ValueError, match="max_calls"):
        RateLimiter(max_calls, period)
