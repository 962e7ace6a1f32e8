"""A client-side limiter for SoulSync's "60 per minute" API limit.

SoulSync (Flask-Limiter, keyed by remote IP) answers the 61st request of a minute with a
429 that carries no Retry-After, and every client on the same host shares that budget.
Waiting a little before sending is far cheaper than a failed call, so every request
first takes a slot here: at most ``max_calls`` slots in any rolling ``period``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

DEFAULT_MAX_CALLS = 55
"""Below SoulSync's 60: headroom for latency jitter and for other clients on the same host."""
DEFAULT_PERIOD = 60.0


class RateLimiter:
    """Sliding-window limiter: waits (never fails) until a request may be sent.

    ``clock`` and ``sleep`` are injectable so tests can drive time without waiting.
    Waiters are served in order, because the lock is held while one of them waits.
    """

    def __init__(
        self,
        max_calls: int = DEFAULT_MAX_CALLS,
        period: float = DEFAULT_PERIOD,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("the rate limit needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()

    def delay(self) -> float:
        """Seconds a request made now would wait (0 when a slot is free)."""
        now = self._clock()
        self._forget_old(now)
        if len(self._sent) < self.max_calls:
            return 0.0
        return self._sent[0] + self.period - now

    async def acquire(self) -> None:
        """Take a slot, waiting for the oldest one in the window to expire if needed."""
        async with self._lock:
            while (wait := self.delay()) > 0:
                await self._sleep(wait)
            self._sent.append(self._clock())
