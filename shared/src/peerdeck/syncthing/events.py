"""Syncthing's event long poll as a resilient stream of batches.

The stream keeps one ``since`` cursor and asks for a server-side wait of ``timeout`` s, so an
idle daemon costs one request per ``timeout`` s. It survives outages: connection failures
are retried with capped, jittered backoff, and whenever events may have been lost the next
batch carries ``resync=True`` so the consumer re-reads state:

* after a failure (the daemon may have changed, or restarted, while we could not ask);
* when ids jump (more events than the daemon's 1000-event buffer happened between polls);
* when ids went backwards (a restarted daemon numbers from 1 again: the cursor is reset,
  otherwise the long poll would wait for ids the new process reaches much later). A restart
  the stream did not see fail (the daemon came back between two polls) shows as a poll that
  waited in vain: after each empty poll the newest id is read (one small request), and one
  below the cursor is a restart too.

A mask (``events=``) is its own subscription, created by the first request that uses it, so
:meth:`EventStream.subscribe` should run before reading the state the events will update.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..exceptions import PeerdeckConnectionError, PeerdeckInvalidResponseError, PeerdeckServerError
from .client import DEFAULT_EVENT_TIMEOUT, SyncthingClient

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncthingEvent:
    """One event: ``id`` is per subscription, ``global_id`` across all of them."""

    id: int
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    time: datetime | None = None
    global_id: int | None = None

    @classmethod
    def from_json(cls, record: Any) -> SyncthingEvent:
        """Read an event object; ``data`` may be null and ``globalID`` absent on old versions."""
        if not isinstance(record, dict) or not isinstance(record.get("id"), int):
            raise PeerdeckInvalidResponseError(f"Syncthing sent an event without an id: {str(record)[:100]}")
        data = record.get("data")
        global_id = record.get("globalID")
        return cls(
            id=record["id"],
            type=str(record.get("type", "")),
            data=data if isinstance(data, dict) else {},
            time=parse_time(record.get("time")),
            global_id=global_id if isinstance(global_id, int) else None,
        )


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events from one poll; ``resync`` says state must be re-read before applying them."""

    events: tuple[SyncthingEvent, ...]
    resync: bool = False
    reason: str = ""


class EventStream:
    """Long-poll ``/rest/events`` for ever, yielding :class:`EventBatch` es."""

    def __init__(
        self,
        client: SyncthingClient,
        *,
        events: Sequence[str] = (),
        since: int = 0,
        limit: int | None = None,
        timeout: int = DEFAULT_EVENT_TIMEOUT,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.client = client
        self.mask = tuple(events)
        self.since = since
        self.limit = limit
        self.timeout = timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connected = False
        self.failures = 0
        """Consecutive failed polls (0 while healthy)."""
        self.gaps = 0
        self.restarts = 0
        self.reconnects = 0

    async def subscribe(self) -> int:
        """Create the mask's subscription without waiting and move the cursor to its newest event."""
        newest = await self._newest_id()
        self.since = newest
        self.connected = True
        return newest

    async def _newest_id(self) -> int:
        events = await self.client.events(since=0, limit=1, timeout=0, events=self.mask)
        return max((int(e.get("id", 0)) for e in events if isinstance(e, dict)), default=0)

    def __aiter__(self) -> AsyncIterator[EventBatch]:
        return self.batches()

    async def batches(self) -> AsyncIterator[EventBatch]:
        """Poll for ever; connection errors are retried, other errors (a rejected key) end the stream."""
        recovering = False
        while True:
            try:
                if recovering:
                    newest = await self._newest_id()
                    reason = "reconnect"
                    if newest < self.since:
                        self.restarts += 1
                        reason = "restart"
                        self.since = newest
                    recovering = False
                    self.failures = 0
                    self.connected = True
                    self.reconnects += 1
                    yield EventBatch((), resync=True, reason=reason)
                raw = await self.client.events(
                    since=self.since, limit=self.limit, timeout=self.timeout, events=self.mask
                )
                probed = None if raw else await self._restart_probe()
            except (PeerdeckConnectionError, PeerdeckServerError) as err:
                self.connected = False
                self.failures += 1
                recovering = True
                delay = self._delay()
                _LOGGER.debug("Syncthing event poll failed (%s); retrying in %.1f s", err, delay)
                await asyncio.sleep(delay)
                continue
            self.connected = True
            self.failures = 0
            batch = self._batch(raw) if raw else probed
            if batch is not None:
                yield batch

    async def _restart_probe(self) -> EventBatch | None:
        """After an empty poll: a resync when the daemon's newest id is below the cursor.

        A daemon restarted between two polls answers a cursor above its newest id by waiting for
        ids it reaches much later (Syncthing's ``BufferedSubscription.Since``): without this
        probe, every change until then would be missed.
        """
        if self.since <= 0:
            return None
        newest = await self._newest_id()
        if newest >= self.since:
            return None
        self.restarts += 1
        self.since = newest
        return EventBatch((), resync=True, reason="restart")

    def _batch(self, raw: list[Any]) -> EventBatch | None:
        events = sorted((SyncthingEvent.from_json(r) for r in raw), key=lambda e: e.id)
        if not events:
            return None
        first, last = events[0].id, events[-1].id
        if last <= self.since:
            # Only old ids: the daemon restarted and numbers from 1 again.
            self.restarts += 1
            self.since = last
            return EventBatch(tuple(events), resync=True, reason="restart")
        gap = self.since > 0 and first > self.since + 1
        fresh = tuple(e for e in events if e.id > self.since)
        self.since = last
        if gap:
            self.gaps += 1
            return EventBatch(fresh, resync=True, reason="gap")
        return EventBatch(fresh)

    def _delay(self) -> float:
        """Exponential backoff with jitter, so many clients do not hammer a daemon coming back."""
        base = min(self.backoff_max, self.backoff_initial * 2 ** min(self.failures - 1, 16))
        return float(base * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not security


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time from Syncthing (nanoseconds trimmed); Go's zero time means "never"."""
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
