"""How often users may do things, and how many searches a daemon runs at once: no daemon is hammered."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from .errors import UserFacingError
from .text import plural

HOUR = 3600.0


class Cooldown:
    """Per-key rate limit: one use per ``seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, key: int) -> float | None:
        """Seconds to wait, or None after recording this use."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[key] = now
        return None

    def refund(self, key: int) -> None:
        """Forget the last use: it failed, so it should not hold the user back."""
        self._last.pop(key, None)


class HourlyQuota:
    """Per-user number of uses in the last hour; 0 means no limit."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_hour = per_hour
        self._clock = clock
        self._uses: dict[int, deque[float]] = {}

    def take(self, user_id: int, count: int) -> None:
        """Record ``count`` uses, or raise :class:`UserFacingError` saying when the next one is possible."""
        if not self.per_hour:
            return
        now = self._clock()
        uses = self._uses.setdefault(user_id, deque())
        while uses and now - uses[0] >= HOUR:
            uses.popleft()
        if len(uses) + count > self.per_hour:
            free_at = uses[len(uses) + count - self.per_hour - 1] + HOUR if uses else now
            minutes = max(1, round((free_at - now) / 60))
            raise UserFacingError(
                f"You can queue {plural(self.per_hour, 'download')} per hour here and have used {len(uses)}; "
                f"try again in about {minutes} min."
            )
        uses.extend([now] * count)

    def give_back(self, user_id: int, count: int) -> None:
        """Return uses that did not start a download."""
        uses = self._uses.get(user_id, deque())
        for _ in range(min(count, len(uses))):
            uses.pop()


class SearchGate:
    """At most ``size`` searches at once on one daemon; the others wait their turn, first come, first served.

    slskd runs a few searches at a time and rejects more; a server of friends can start fifty at once.
    """

    def __init__(self, size: int) -> None:
        self._free = asyncio.Semaphore(size)
        self.waiting = 0

    @property
    def full(self) -> bool:
        """Whether a new search would have to wait."""
        return self._free.locked() or self.waiting > 0

    @contextlib.asynccontextmanager
    async def turn(self, patience: float) -> AsyncIterator[None]:
        """Hold one slot for the body; :class:`TimeoutError` when none came free within ``patience`` s."""
        self.waiting += 1
        try:
            async with asyncio.timeout(patience):
                await self._free.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._free.release()
