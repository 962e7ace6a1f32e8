"""The torrents the cheap update path knows, indexed by what decides their cost.

Records come from ``sync/maindata`` (reconciliation) and ``torrents/info`` (cheap ticks). The
index keeps, as records change, the sets the update path reads every tick without scanning
every torrent: queued downloads and the downloads holding the queue's slots, torrents waiting
for (or in) their hash check, torrents still fetching their metadata (their name changes when
it arrives), and the hashes behind each name, since qBittorrent's log names torrents, not hashes.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

JsonObject = dict[str, Any]

CHECKING_STATES = frozenset({"checkingDL", "checkingUP"})
RESUME_DATA_STATE = "checkingResumeData"
SLOT_STATES = frozenset({"downloading", "stalledDL", "metaDL"})
"""Downloads the queue manages that hold a slot (forced ones bypass the queue)."""
METADATA_STATES = frozenset({"metaDL", "forcedMetaDL"})
INCOMPLETE_STATES = frozenset(
    {
        "downloading",
        "stalledDL",
        "metaDL",
        "forcedMetaDL",
        "forcedDL",
        "queuedDL",
        "pausedDL",
        "stoppedDL",
        "checkingDL",
    }
)
"""What qBittorrent's ``downloading`` list holds: its cost follows how many there are."""


class TorrentIndex:
    """Torrent records by hash, with their queued and checking sets and a name index."""

    def __init__(self, records: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.records: dict[str, JsonObject] = {}
        self.queued: set[str] = set()
        """Downloads waiting for a slot (``queuedDL``): they cannot move until qBittorrent starts them."""
        self.holding_slots: set[str] = set()
        """Downloads in a slot: with downloads queued, one can be sent back to the queue (a setting or
        queue order changed elsewhere)."""
        self.checking: set[str] = set()
        """Torrents waiting for (or in) their hash check, which qBittorrent runs one by one in queue order."""
        self.resuming: set[str] = set()
        """Torrents reading their resume data (just added, or the daemon starting): not a queue, each leaves
        that state on its own within seconds — silently (a torrent added stopped turns paused, logging nothing)."""
        self.fetching_metadata: set[str] = set()
        self.incomplete: set[str] = set()
        self.by_name: dict[str, set[str]] = {}
        self.category_sizes: Counter[str] = Counter()
        """Torrents per category: what a ``category=`` list would cost."""
        self._queue_front = QueueFront(self.queued, self._queue_order)
        self._check_front = QueueFront(self.checking, self._queue_order)
        for torrent_hash, record in (records or {}).items():
            self.put({**record, "hash": torrent_hash})

    def put(self, record: Mapping[str, Any]) -> str:
        """Store a complete record (it carries its ``hash``); returns the hash."""
        torrent_hash = str(record["hash"])
        before = self.records.get(torrent_hash)
        if before is not None and before.get("name") != record.get("name"):
            self._unname(torrent_hash, before)
        if before is not None:
            self.category_sizes[str(before.get("category") or "")] -= 1
        self.category_sizes[str(record.get("category") or "")] += 1
        self.records[torrent_hash] = dict(record)
        self.by_name.setdefault(str(record.get("name", "")), set()).add(torrent_hash)
        state = record.get("state")
        reordered = before is None or _order_fields(before) != _order_fields(record)
        self._queue_front.mark(torrent_hash, state == "queuedDL", reordered=reordered)
        _mark(self.holding_slots, torrent_hash, state in SLOT_STATES)
        self._check_front.mark(torrent_hash, state in CHECKING_STATES, reordered=reordered)
        _mark(self.resuming, torrent_hash, state == RESUME_DATA_STATE)
        _mark(self.fetching_metadata, torrent_hash, state in METADATA_STATES)
        _mark(self.incomplete, torrent_hash, state in INCOMPLETE_STATES)
        return torrent_hash

    def drop(self, torrent_hash: str) -> bool:
        """Forget a torrent; True if it was known."""
        record = self.records.pop(torrent_hash, None)
        for front in (self._queue_front, self._check_front):
            front.mark(torrent_hash, False, reordered=False)
        for members in (self.holding_slots, self.resuming, self.fetching_metadata, self.incomplete):
            members.discard(torrent_hash)
        if record is None:
            return False
        self.category_sizes[str(record.get("category") or "")] -= 1
        self._unname(torrent_hash, record)
        return True

    def named(self, names: Iterable[str]) -> tuple[set[str], set[str]]:
        """The hashes of torrents with these names, and the names no known torrent has."""
        hashes: set[str] = set()
        unknown: set[str] = set()
        for name in names:
            if known := self.by_name.get(name):
                hashes |= known
            else:
                unknown.add(name)
        return hashes, unknown

    def checking_front(self, count: int) -> list[str]:
        """The ``count`` torrents next in qBittorrent's check queue (it checks in queue order)."""
        return self._check_front.read(count)

    def queue_front(self, count: int) -> list[str]:
        """The ``count`` queued downloads qBittorrent starts next (it starts them in queue order)."""
        return self._queue_front.read(count)

    def _queue_order(self, torrent_hash: str) -> tuple[float, float, str]:
        record = self.records[torrent_hash]
        position = record.get("priority")
        added = record.get("added_on")
        return (
            float(position) if isinstance(position, int | float) and position > 0 else math.inf,
            float(added) if isinstance(added, int | float) else math.inf,
            torrent_hash,
        )

    def _unname(self, torrent_hash: str, record: Mapping[str, Any]) -> None:
        name = str(record.get("name", ""))
        hashes = self.by_name.get(name)
        if hashes is not None:
            hashes.discard(torrent_hash)
            if not hashes:
                del self.by_name[name]


class QueueFront:
    """The members of one of qBittorrent's queues in its order, read from the front.

    Sorted once, at the first read after a full read, and kept sorted: a torrent joining the
    queue, or one whose position moved, is put in its place (the front's positions move each
    time the queue's head leaves it — qBittorrent numbers them anew — and a full sort each tick
    showed in profiles of the hash-check queue); one leaving is taken out. So reading the front
    costs what it returns, and a tick's change costs a binary search, not the queue's length.
    """

    def __init__(self, members: set[str], order: Callable[[str], tuple[float, float, str]]) -> None:
        self.members = members
        self._order = order
        self._sorted: list[str] | None = None

    def mark(self, torrent_hash: str, member: bool, *, reordered: bool) -> None:
        """Record whether a torrent is in the queue now (``reordered``: its position fields changed)."""
        known = torrent_hash in self.members
        if member and known and not reordered:
            return
        if known and self._sorted is not None:
            self._sorted.remove(torrent_hash)
        if member:
            self.members.add(torrent_hash)
            if self._sorted is not None:
                bisect.insort(self._sorted, torrent_hash, key=self._order)
        else:
            self.members.discard(torrent_hash)

    def read(self, count: int) -> list[str]:
        """The first ``count`` members in queue order."""
        if self._sorted is None:
            self._sorted = sorted(self.members, key=self._order)
        return self._sorted[:count]


def _order_fields(record: Mapping[str, Any]) -> tuple[Any, Any]:
    return record.get("priority"), record.get("added_on")


def _mark(members: set[str], torrent_hash: str, member: bool) -> None:
    if member:
        members.add(torrent_hash)
    else:
        members.discard(torrent_hash)
