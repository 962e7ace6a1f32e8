"""A client-side limiter for SoulSync's "60 per minute" API limit, counted per route.

SoulSync 3.1.9 puts Flask-Limiter's ``60 per minute`` on its API blueprint, which counts
each route (each Flask endpoint: one method on one URL rule) on its own, keyed by the
remote IP. The counter starts with the minute's first request, before the key is
checked; the 61st request to that route gets a 429 without Retry-After, while the other
routes still answer. Every client on the same host shares those counters. Waiting a
little before sending is far cheaper than a failed call, so every request first takes a
slot of its route here: at most ``max_calls`` in any rolling ``period``.

SoulSync's window is fixed and opens when the first request *arrives*, a moment after it
was sent here. A window counted on send times alone would free its slots a moment before
SoulSync's closes, and calls it freed together would still land in the old, full one (issue
24: a burst released together met a 429). So a slot is freed ``spacing`` (``period /
max_calls``, 1.1 s) after it left SoulSync's minute: any fixed window of SoulSync's then holds
at most ``max_calls`` calls, as long as arrival times vary by less than that.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

DEFAULT_MAX_CALLS = 55
"""Below SoulSync's 60: headroom for latency jitter and for other clients on the same host."""
DEFAULT_PERIOD = 60.0

ROUTE_RULES: tuple[tuple[str, str], ...] = (
    ("GET", "system/status"),
    ("GET", "system/activity"),
    ("GET", "system/stats"),
    ("POST", "search/tracks"),
    ("POST", "search/albums"),
    ("POST", "search/artists"),
    ("GET", "downloads"),
    ("POST", "downloads/cancel-all"),
    ("POST", "downloads/*/cancel"),
    ("POST", "request"),
    ("GET", "request/*"),
    ("GET", "wishlist"),
    ("POST", "wishlist"),
    ("POST", "wishlist/process"),
    ("DELETE", "wishlist/*"),
    ("GET", "watchlist"),
    ("POST", "watchlist"),
    ("POST", "watchlist/scan"),
    ("DELETE", "watchlist/*"),
    ("PATCH", "watchlist/*"),
    ("GET", "library/artists"),
    ("GET", "library/artists/*"),
    ("GET", "library/artists/*/albums"),
    ("GET", "library/albums"),
    ("GET", "library/albums/*"),
    ("GET", "library/albums/*/tracks"),
    ("GET", "library/tracks"),
    ("GET", "library/tracks/*"),
    ("GET", "library/genres"),
    ("GET", "library/recently-added"),
    ("GET", "library/lookup"),
    ("GET", "library/stats"),
    ("GET", "playlists"),
    ("GET", "playlists/*"),
    ("POST", "playlists/*/sync"),
    ("GET", "settings"),
    ("PATCH", "settings"),
    ("GET", "api-keys"),
    ("POST", "api-keys"),
    ("POST", "api-keys/bootstrap"),
    ("DELETE", "api-keys/*"),
    ("GET", "discover/pool"),
    ("GET", "discover/pool/metadata"),
    ("GET", "discover/similar-artists"),
    ("GET", "discover/recent-releases"),
    ("GET", "discover/bubbles"),
    ("GET", "discover/bubbles/*"),
    ("GET", "profiles"),
    ("POST", "profiles"),
    ("GET", "profiles/*"),
    ("PUT", "profiles/*"),
    ("DELETE", "profiles/*"),
    ("GET", "retag/groups"),
    ("DELETE", "retag/groups"),
    ("GET", "retag/groups/*"),
    ("DELETE", "retag/groups/*"),
    ("GET", "retag/stats"),
    ("GET", "listenbrainz/playlists"),
    ("GET", "listenbrainz/playlists/*"),
    ("GET", "cache/musicbrainz"),
    ("GET", "cache/musicbrainz/stats"),
    ("GET", "cache/discovery-matches"),
    ("GET", "cache/discovery-matches/stats"),
)
"""SoulSync 3.1.9's API routes (``*`` is one path segment): each has its own counter."""


def route_key(method: str, route: str) -> str:
    """The counter a request to ``route`` (below ``/api/v1/``, no query) is counted on.

    The most literal matching rule wins (``wishlist/process`` over ``wishlist/*``); a route
    SoulSync does not have keeps its own key (the server answers it unlimited, with a 404).
    """
    verb = method.upper()
    segments = route.strip("/").split("/")
    best: tuple[int, str] | None = None
    for rule_method, rule in ROUTE_RULES:
        parts = rule.split("/")
        if rule_method != verb or len(parts) != len(segments):
            continue
        if all(part in ("*", segment) for part, segment in zip(parts, segments, strict=True)):
            literal = sum(part != "*" for part in parts)
            if best is None or literal > best[0]:
                best = (literal, rule)
    return f"{verb} {best[1] if best is not None else route.strip('/')}"


class RateLimiter:
    """Sliding-window limiter per key (route): waits (never fails) until a request may be sent.

    ``clock`` and ``sleep`` are injectable so tests can drive time without waiting.
    Waiters on one key are served in order, because its lock is held while one of them
    waits; a full route never holds up the others. A slot is freed ``spacing`` after it
    left the rolling ``period`` (see the module notes).
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
        self.spacing = period / max_calls
        """How long after leaving the ``period`` a slot is freed: room for SoulSync's later clock."""
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _window(self, key: str, now: float) -> deque[float]:
        sent = self._sent.setdefault(key, deque())
        while sent and sent[0] <= now - self.period - self.spacing:
            sent.popleft()
        return sent

    def delay(self, key: str = "") -> float:
        """Seconds a request on ``key`` made now would wait (0 when a slot is free)."""
        now = self._clock()
        sent = self._window(key, now)
        if len(sent) < self.max_calls:
            return 0.0
        return sent[0] + self.period + self.spacing - now

    async def acquire(self, key: str = "") -> None:
        """Take a slot of ``key``, waiting for its oldest one in the window to expire if needed."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            while (wait := self.delay(key)) > 0:
                await self._sleep(wait)
            self._sent[key].append(self._clock())
