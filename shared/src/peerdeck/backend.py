"""The contract every daemon backend fulfils, so front-ends need no daemon-specific code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol, runtime_checkable

from .models import (
    BackendInfo,
    BackendKind,
    Capabilities,
    EnqueueOptions,
    EnqueueTarget,
    SearchHit,
    Status,
    Transfer,
    TransferEvent,
    TransferSelector,
    Update,
)


@runtime_checkable
class Backend(Protocol):
    """A daemon seen through Peerdeck's unified verbs.

    Operations a daemon lacks raise :class:`~peerdeck.exceptions.PeerdeckNotSupportedError`
    with a message that says what to do instead; :attr:`capabilities` tells in advance.
    """

    kind: BackendKind
    capabilities: Capabilities

    async def info(self) -> BackendInfo:
        """Version and identity of the daemon (also a cheap connection test)."""
        ...

    async def status(self) -> Status:
        """Connection, rates, counts per state and free space."""
        ...

    async def transfers(self) -> list[Transfer]:
        """Every transfer the daemon knows."""
        ...

    def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        """Stream hits as the daemon finds them; stops at ``timeout`` s or ``limit`` hits."""
        ...

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        """Start a download; returns the ids of the new transfers where the daemon tells them."""
        ...

    async def pause(self, ids: TransferSelector) -> None:
        """Pause the given transfers, or every one with ``ALL``."""
        ...

    async def resume(self, ids: TransferSelector) -> None:
        """Resume the given transfers, or every one with ``ALL``."""
        ...

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Remove transfers, and their downloaded data when asked."""
        ...

    async def update(self) -> Update:
        """One refresh by the cheapest correct path: status, transfers and events since the last.

        Each event is delivered once, by ``update`` or by an open :meth:`events` iterator, never
        both: a caller using both announces what each gives.
        """
        ...

    def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        """Transfer events, pushed by the daemon where it can, else from ``update`` every ``interval`` s."""
        ...

    def export_state(self) -> dict[str, Any]:
        """What the backend has announced, as JSON-ready data to persist after handling its events.

        Restored with :meth:`restore_state`, it lets a later process announce what changed while
        the caller was away (a completion exactly once) and nothing it announced before again.
        """
        ...

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Resume from :meth:`export_state` before the first refresh (invalid items are skipped)."""
        ...

    async def close(self) -> None:
        """Release the connection (the HTTP session only if the backend created it)."""
        ...


async def poll_events(backend: Backend, interval: float) -> AsyncIterator[TransferEvent]:
    """Events for daemons without a push channel: refresh, yield what changed, wait, repeat."""
    while True:
        update = await backend.update()
        for event in update.events:
            yield event
        await asyncio.sleep(interval)
