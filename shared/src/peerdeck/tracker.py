"""Turns successive snapshots of a daemon's transfers into transfer events.

Backends that poll use one tracker each. It remembers the last state of every transfer
and which ones it has already announced as complete, so a transfer that finishes yields
exactly one COMPLETED event — whether its state changes to ``completed`` or its progress
reaches 1.0 while the daemon still calls it something else (qBittorrent's "pause on
completion") — however often it is observed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from .models import Transfer, TransferEvent, TransferEventKind, TransferState


def is_done(transfer: Transfer) -> bool:
    """True when the transfer's data is complete."""
    if transfer.state is TransferState.FAILED or transfer.state is TransferState.CANCELLED:
        return False
    return transfer.state is TransferState.COMPLETED or transfer.progress >= 1.0


class TransferTracker:
    """Diff engine from transfer snapshots to :class:`TransferEvent` s."""

    def __init__(self) -> None:
        self._known: dict[str, Transfer] | None = None
        self._announced: set[str] = set()
        self._exported: dict[str, dict[str, str | bool]] = {}
        """What :meth:`export_state` gives, kept in step with each change: a refresh that changed a few of
        thousands of transfers is persisted each time, and rebuilding every item each time showed in profiles."""

    @property
    def primed(self) -> bool:
        """True once a first snapshot has been seen."""
        return self._known is not None

    def last(self, transfer_id: str) -> Transfer | None:
        """The transfer as last observed (or restored), if the tracker knows it."""
        return (self._known or {}).get(transfer_id)

    def observe(self, transfers: Mapping[str, Transfer] | Iterable[Transfer]) -> list[TransferEvent]:
        """Record a full snapshot and return what changed since the previous one.

        The first snapshot only primes the tracker: what already exists when we start
        watching is not "added". A transfer that appears already finished gets ADDED and
        then COMPLETED (or FAILED), since it finished while we were not looking.
        """
        current = dict(transfers) if isinstance(transfers, Mapping) else {t.id: t for t in transfers}
        previous = self._known
        self._known = current
        if previous is None:
            self._announced = {tid for tid, t in current.items() if is_done(t)}
            self._export_all()
            return []
        now = datetime.now(UTC)
        events: list[TransferEvent] = []
        for transfer_id, transfer in current.items():
            before = previous.get(transfer_id)
            if before is None:
                events.append(TransferEvent(TransferEventKind.ADDED, transfer, None, now))
            events.extend(self._changes(before, transfer, now))
        for transfer_id, transfer in previous.items():
            if transfer_id not in current:
                self._announced.discard(transfer_id)
                events.append(TransferEvent(TransferEventKind.REMOVED, transfer, transfer.state, now))
        self._export_all()
        return events

    def observe_changes(self, changed: Iterable[Transfer], removed: Iterable[str] = ()) -> list[TransferEvent]:
        """Record only what changed (and what vanished) since the last look, in O(changes).

        For backends whose cheap update path knows which transfers it refreshed; the others
        keep their previous state.
        """
        if self._known is None:
            raise RuntimeError("observe a full snapshot first")
        now = datetime.now(UTC)
        events: list[TransferEvent] = []
        for transfer in changed:
            before = self._known.get(transfer.id)
            self._known[transfer.id] = transfer
            if before is None:
                events.append(TransferEvent(TransferEventKind.ADDED, transfer, None, now))
            events.extend(self._changes(before, transfer, now))
            self._exported[transfer.id] = self._export(transfer)
        for transfer_id in removed:
            gone = self._known.pop(transfer_id, None)
            if gone is not None:
                self._announced.discard(transfer_id)
                del self._exported[transfer_id]
                events.append(TransferEvent(TransferEventKind.REMOVED, gone, gone.state, now))
        return events

    def _changes(self, before: Transfer | None, transfer: Transfer, now: datetime) -> list[TransferEvent]:
        previous_state = before.state if before is not None else None
        if is_done(transfer) and transfer.id not in self._announced:
            self._announced.add(transfer.id)
            return [TransferEvent(TransferEventKind.COMPLETED, transfer, previous_state, now)]
        if previous_state == transfer.state:
            return []
        if transfer.state is TransferState.FAILED:
            return [TransferEvent(TransferEventKind.FAILED, transfer, previous_state, now)]
        if before is None:
            return []
        return [TransferEvent(TransferEventKind.STATE_CHANGED, transfer, previous_state, now)]

    def export_state(self) -> dict[str, dict[str, str | bool]]:
        """What the tracker has seen, as JSON-ready data, to persist across restarts (its items are never
        changed afterwards: a change replaces them)."""
        return dict(self._exported)

    def _export(self, transfer: Transfer) -> dict[str, str | bool]:
        return {"name": transfer.name, "state": transfer.state.value, "done": transfer.id in self._announced}

    def _export_all(self) -> None:
        self._exported = {tid: self._export(t) for tid, t in (self._known or {}).items()}

    def restore_state(self, data: Mapping[str, Mapping[str, object]]) -> None:
        """Resume from :meth:`export_state`, so what changed while we were away is reported once."""
        known: dict[str, Transfer] = {}
        announced: set[str] = set()
        for tid, item in data.items():
            try:
                state = TransferState(str(item.get("state")))
            except ValueError:
                continue
            known[tid] = Transfer(id=tid, name=str(item.get("name", tid)), state=state)
            if item.get("done"):
                announced.add(tid)
        self._known = known
        self._announced = announced
        self._export_all()
