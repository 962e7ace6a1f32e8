"""Reading slskd's event log (0.22+) since the last look, robust to its order and to restarts.

``GET /events`` pages are sorted by ``timestamp``, newest first. A ``DownloadFileComplete`` is
stamped with the transfer's ``endedAt`` but recorded only after the file was moved, so it can
sort *below* an event already read; a cursor "newest id seen" would skip it. So each look reads
back over a window of time (:data:`LATE_WINDOW`) and keeps the ids it has seen in that window.

Where the last look stopped is part of the backend's persisted state (:meth:`EventLog.position`),
so a caller that restarts (Home Assistant) finds a completion slskd logged meanwhile, also for a
download already cleared from slskd's list.

A slskd started with ``--volatile`` keeps its log in memory, and a restart empties it; a log
that shrank (``X-Total-Count`` below the last one) is such a restart, and everything in the new
log is new. A version change (an upgrade or downgrade is a restart) is noted by the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from ..exceptions import PeerdeckNotFoundError
from .client import JsonObject, SlskdClient

PAGE = 50
PAGES = 10
"""At most this many pages per look (500 events)."""
LATE_WINDOW = timedelta(minutes=10)
"""How far below the newest event a late-recorded one is still looked for."""

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def is_real_transfer(record: Any) -> TypeGuard[dict[str, Any]]:
    """False for the empty ``Transfer`` of a webhook test event (``POST /events/…``) or any record
    without a transfer id, a user and a file."""
    if not isinstance(record, dict):
        return False
    transfer_id = record.get("id")
    return (
        isinstance(transfer_id, str)
        and bool(transfer_id.strip("0-"))
        and transfer_id != EMPTY_GUID
        and bool(record.get("username"))
        and bool(record.get("filename"))
        and record.get("state") not in (None, "None")
    )


class EventLog:
    """The events slskd logged since the last :meth:`read`."""

    def __init__(
        self,
        client: SlskdClient,
        parse_time: Callable[[Any], datetime | None],
        *,
        on_restart: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._parse_time = parse_time
        self._on_restart = on_restart
        """Told when the log shows slskd restarted (``TrackedBackend.daemon_restarted``)."""
        self.supported = True
        self._seen: dict[str, datetime | None] = {}
        self._newest: datetime | None = None
        self._total: int | None = None
        self._primed = False

    async def read(self) -> list[JsonObject] | None:
        """New events, newest first; None before the log was first read (that read only marks) or
        when this slskd has no event log."""
        if not self.supported:
            return None
        try:
            events, total = await self._window()
        except PeerdeckNotFoundError:
            self.supported = False  # slskd before 0.22 has no event log
            return None
        if self._total is not None and total is not None and total < self._total:
            # The log shrank: slskd restarted with an in-memory log. Every event in it is new.
            if self._on_restart is not None:
                self._on_restart("its in-memory event log started again")
            self._seen.clear()
            self._newest = None
            events, total = await self._window()
        self._total = total
        floor = self._newest - LATE_WINDOW if self._newest is not None else None
        fresh = [e for e in events if str(e.get("id")) not in self._seen and not self._older(e, floor)]
        for event in events:
            stamp = self._parse_time(event.get("timestamp"))
            self._seen[str(event.get("id"))] = stamp
            if stamp is not None and (self._newest is None or stamp > self._newest):
                self._newest = stamp
        self._forget_old()
        primed, self._primed = self._primed, True
        return fresh if primed else None

    def position(self) -> dict[str, Any] | None:
        """Where the last look stopped, as JSON-ready data (None before the log was first read)."""
        if not self._primed:
            return None
        return {key: stamp.isoformat() if stamp is not None else None for key, stamp in self._seen.items()}

    def resume(self, position: Any) -> None:
        """Continue from :meth:`position` of an earlier process: the first read then returns what came since.

        A malformed position is ignored (the first read then only marks, as without one).
        """
        if not isinstance(position, dict):
            return
        seen = {str(key): self._parse_time(stamp) for key, stamp in position.items()}
        self._seen = seen
        self._newest = max((stamp for stamp in seen.values() if stamp is not None), default=None)
        self._primed = True

    async def _window(self) -> tuple[list[JsonObject], int | None]:
        """Pages from the newest back to :data:`LATE_WINDOW` below the newest event seen so far."""
        floor = self._newest - LATE_WINDOW if self._newest is not None else None
        events: list[JsonObject] = []
        total: int | None = None
        for page in range(PAGES):
            batch = await self._client.events(offset=page * PAGE, limit=PAGE)
            if page == 0:
                total = batch.total
            events.extend(batch.events)
            if len(batch.events) < PAGE:
                break
            oldest = self._parse_time(batch.events[-1].get("timestamp"))
            if floor is not None and oldest is not None and oldest < floor:
                break
        return events, total

    def _older(self, event: JsonObject, floor: datetime | None) -> bool:
        stamp = self._parse_time(event.get("timestamp"))
        return floor is not None and stamp is not None and stamp < floor

    def _forget_old(self) -> None:
        """Events below the window are never new again, so their ids need not be kept."""
        if self._newest is None:
            return
        floor = self._newest - LATE_WINDOW
        self._seen = {key: stamp for key, stamp in self._seen.items() if stamp is None or stamp >= floor}
