"""The contract every daemon backend fulfils, so front-ends need no daemon-specific code."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Generic, Protocol, Self, TypeVar, runtime_checkable

from .client import HttpClient
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
    TransferState,
    Update,
)
from .tracker import TransferTracker

_LOGGER = logging.getLogger(__name__)


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
        """Start a download; returns the ids of the new transfers where the daemon tells them.

        An :class:`~peerdeck.models.Enqueued` result also carries a ``notice`` where they cannot
        be followed (SoulSync: a request handed straight to the Soulseek daemon is ``untracked``).
        """
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


class SupportsUpdate(Protocol):
    """Anything with the :meth:`Backend.update` coroutine."""

    async def update(self) -> Update:
        """See :meth:`Backend.update`."""
        ...


async def poll_events(backend: SupportsUpdate, interval: float) -> AsyncIterator[TransferEvent]:
    """Events for daemons without a push channel: refresh, yield what changed, wait, repeat."""
    while True:
        update = await backend.update()
        for event in update.events:
            yield event
        await asyncio.sleep(interval)


def count_states(transfers: Iterable[Transfer]) -> dict[TransferState, int]:
    """How many transfers are in each state (every state present, zeros included)."""
    counts = dict.fromkeys(TransferState, 0)
    for transfer in transfers:
        counts[transfer.state] += 1
    return counts


ClientT = TypeVar("ClientT", bound=HttpClient)


class TrackedBackend(ABC, Generic[ClientT]):
    """What backends that diff snapshots with a :class:`TransferTracker` share.

    Subclasses implement :meth:`_refresh` (read the daemon, feed the tracker); reads are
    serialised, and events wait in a queue until :meth:`update` hands them out, so a
    ``status()`` or ``transfers()`` call in between never swallows one.
    """

    def __init__(self, client: ClientT) -> None:
        self.client = client
        self._tracker = TransferTracker()
        self._pending: list[TransferEvent] = []
        self._lock = asyncio.Lock()
        self.reconcile_due = False
        """Set by :meth:`daemon_restarted`: the next :meth:`_refresh` must read the full picture, not the
        changes since a cursor into the old process (it clears this once it has)."""
        self._restart_unreported = False
        self._version_seen: str | None = None

    def daemon_restarted(self, reason: str) -> None:
        """Call when the daemon shows it restarted — a new session, a cursor above its newest id, a new
        start time or version: every cursor into the old process is void. The next refresh reconciles
        (:attr:`reconcile_due`), and the :class:`Update` after it says ``restarted``."""
        _LOGGER.info("%s restarted (%s); reading its whole state again", type(self).__name__, reason)
        self.reconcile_due = True
        self._restart_unreported = True

    def note_daemon_version(self, version: str | None) -> None:
        """Compare the version a refresh read with the last one: another one is a restart (an upgrade or
        a rollback), told to :meth:`daemon_restarted`."""
        if version:
            if self._version_seen not in (None, version):
                self.daemon_restarted(f"version {self._version_seen} → {version}")
            self._version_seen = version

    @property
    def tracker(self) -> TransferTracker:
        """The event tracker (exported and restored by callers that persist it)."""
        return self._tracker

    def export_state(self) -> dict[str, Any]:
        """What the event tracker has seen (see :meth:`Backend.export_state`)."""
        return self._tracker.export_state()  # already a copy

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Resume the event tracker from :meth:`export_state`."""
        self._tracker.restore_state(data)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client's session if it owns one."""
        await self.client.close()

    async def status(self) -> Status:
        """The daemon's status, refreshed."""
        status, _ = await self._locked_refresh()
        return status

    async def transfers(self) -> list[Transfer]:
        """Every transfer, refreshed."""
        _, transfers = await self._locked_refresh()
        return list(transfers.values())

    async def update(self) -> Update:
        """Status, transfers and the events since the last call (none are dropped)."""
        status, transfers = await self._locked_refresh()
        events, self._pending = tuple(self._pending), []
        restarted, self._restart_unreported = self._restart_unreported, False
        return Update(status=status, transfers=transfers, events=events, restarted=restarted)

    def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        """Events from polling :meth:`update` every ``interval`` s."""
        return poll_events(self, interval)

    def _announce(self, events: Iterable[TransferEvent]) -> None:
        """Queue events for the next :meth:`update`."""
        self._pending.extend(events)

    async def _locked_refresh(self) -> tuple[Status, dict[str, Transfer]]:
        async with self._lock:
            return await self._refresh()

    @abstractmethod
    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        """Read the daemon, queue what changed with :meth:`_announce`; return status and transfers."""
