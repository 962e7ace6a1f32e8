"""A small, faithful in-memory backend implementing the Peerdeck ``Backend`` protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Any

from peerdeck import (
    ALL,
    BackendInfo,
    BackendKind,
    Capabilities,
    EnqueueOptions,
    EnqueueTarget,
    PeerdeckNotFoundError,
    SearchHit,
    SearchKind,
    Status,
    Transfer,
    TransferEvent,
    TransferSelector,
    TransferState,
    TransferTracker,
    Update,
)
from peerdeck.backend import poll_events


class FakeBackend:
    """Keeps transfers in memory; a real ``TransferTracker`` turns snapshots into events."""

    def __init__(
        self,
        kind: BackendKind = BackendKind.QBITTORRENT,
        capabilities: Capabilities | None = None,
        info: BackendInfo | None = None,
    ) -> None:
        self.kind = kind
        self.capabilities = capabilities or Capabilities(search=SearchKind.PLUGIN, free_space=True)
        self.backend_info = info or BackendInfo(kind=kind, version="4.5.2", api_version="2.8.19", name="qBittorrent")
        self.tracker = TransferTracker()
        self.items: dict[str, Transfer] = {}
        self.download_rate = 1_500_000
        self.upload_rate = 250_000
        self.free_space: int | None = 50 * 1024**3
        self.connected = True
        self.extra: dict[str, Any] = {}
        self.hits: list[SearchHit] = []
        self.error: Exception | None = None
        """Raised by every call while set (the daemon is down, rejects us …)."""
        self.info_error: Exception | None = None
        self.action_error: Exception | None = None
        """Raised by the acting verbs only."""
        self.calls: list[tuple[str, Any, ...]] = []
        self.closed = False
        self.restarted = False
        """Told by the next update (the daemon restarted since the last)."""

    def add(self, transfer_id: str, name: str, state: TransferState = TransferState.ACTIVE, **fields: Any) -> None:
        """Let the daemon hold a transfer."""
        self.items[transfer_id] = Transfer(id=transfer_id, name=name, state=state, **fields)

    def set_state(self, transfer_id: str, state: TransferState, progress: float | None = None) -> None:
        """Move a transfer to another state."""
        transfer = self.items[transfer_id]
        self.items[transfer_id] = replace(
            transfer, state=state, progress=transfer.progress if progress is None else progress
        )

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def _act(self, *call: Any) -> None:
        self._check()
        if self.action_error is not None:
            raise self.action_error
        self.calls.append(call)

    async def info(self) -> BackendInfo:
        self._check()
        if self.info_error is not None:
            raise self.info_error
        return self.backend_info

    def _status(self) -> Status:
        counts = dict.fromkeys(TransferState, 0)
        for transfer in self.items.values():
            counts[transfer.state] += 1
        return Status(
            connected=self.connected,
            download_rate=self.download_rate,
            upload_rate=self.upload_rate,
            counts=counts,
            free_space=self.free_space,
            extra=dict(self.extra),
        )

    async def status(self) -> Status:
        self._check()
        return self._status()

    async def transfers(self) -> list[Transfer]:
        self._check()
        return list(self.items.values())

    async def update(self) -> Update:
        self._check()
        snapshot = dict(self.items)
        events = tuple(self.tracker.observe(snapshot))
        restarted, self.restarted = self.restarted, False
        return Update(status=self._status(), transfers=snapshot, events=events, restarted=restarted)

    def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        return poll_events(self, interval)

    async def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        self._act("search", query, timeout, limit)
        for index, hit in enumerate(self.hits):
            if limit is not None and index >= limit:
                return
            yield hit

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        self._act("enqueue", target, options)
        return ["new-transfer"]

    def _selected(self, ids: TransferSelector) -> list[str]:
        if ids is ALL:
            return list(self.items)
        missing = [i for i in ids if i not in self.items]
        if missing:
            raise PeerdeckNotFoundError(f"no transfer {missing[0]}", 404)
        return list(ids)

    async def pause(self, ids: TransferSelector) -> None:
        self._act("pause", ids)
        for transfer_id in self._selected(ids):
            self.set_state(transfer_id, TransferState.PAUSED)

    async def resume(self, ids: TransferSelector) -> None:
        self._act("resume", ids)
        for transfer_id in self._selected(ids):
            self.set_state(transfer_id, TransferState.ACTIVE)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        self._act("remove", ids, delete_data)
        for transfer_id in self._selected(ids):
            del self.items[transfer_id]

    def export_state(self) -> dict[str, Any]:
        return dict(self.tracker.export_state())

    def restore_state(self, data: Mapping[str, Any]) -> None:
        self.tracker.restore_state(data)

    async def close(self) -> None:
        self.closed = True
