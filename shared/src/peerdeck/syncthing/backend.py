"""Syncthing behind Peerdeck's unified :class:`~peerdeck.backend.Backend`: the verbs, and what they read.

Folders and peers are sync jobs (``folder:<id>``, ``device:<id>``) of a model
(:mod:`peerdeck.syncthing.model`) kept current by the event stream, not by polling: after one
snapshot (system status, config, connections, scan times, ``db/status`` per folder — sizes, file
counts and error count — and ``db/completion`` per folder and peer), events move it. The only
extra requests in steady state are one ``db/status`` of a folder the events say changed — when it
finishes a sync, to confirm it needs nothing more, or when its index changed (a scan found
changes, or a peer announced some) and it is neither scanning nor syncing — so a change shows at
once, not one or two seconds later with Syncthing's next ``FolderSummary``; and one
``folder/errors`` when a summary counts errors no event described. (``db/status`` reads counters
Syncthing keeps, as ``db/completion`` does; it is only never polled.) An idle daemon therefore
costs one long poll per ``event_timeout`` s and the stream's check of the newest event id after
it (a restart between two polls), plus one ``system/status`` every five minutes (discovery and
relay status, which no event reports; a new start time there is a restart too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import aiohttp

from ..backend import count_states
from ..client import DEFAULT_TIMEOUT
from ..exceptions import PeerdeckError, PeerdeckInputError, PeerdeckNotSupportedError
from ..models import (
    ALL,
    BackendInfo,
    BackendKind,
    Capabilities,
    Credentials,
    EnqueueOptions,
    EnqueueTarget,
    RemoteFiles,
    SearchHit,
    SearchKind,
    Status,
    Transfer,
    TransferEvent,
    TransferSelector,
    TransferState,
    Update,
)
from .client import SyncthingClient
from .events import EventBatch, EventStream, parse_time
from .ids import file_id, parse_file_id, parse_transfer_ids
from .model import BUSY_STATES, Folder, SyncthingModel, as_int, file_event

_LOGGER = logging.getLogger(__name__)

EVENT_MASK = (
    "StateChanged",
    "FolderSummary",
    "FolderCompletion",
    "FolderErrors",
    "ItemFinished",
    "LocalIndexUpdated",
    "RemoteIndexUpdated",
    "DeviceConnected",
    "DeviceDisconnected",
    "DevicePaused",
    "DeviceResumed",
    "FolderPaused",
    "FolderResumed",
    "ConfigSaved",
    "ListenAddressesChanged",
)
"""The events the backend listens to (one server-side subscription)."""

_RATE_MIN_INTERVAL = 5.0
_SYSTEM_MAX_AGE = 300.0
"""Seconds a ``system/status`` reading (discovery, relays) is kept: no event reports discovery failures."""
_MAX_PENDING = 10_000
_SNAPSHOT_CONCURRENCY = 4


class SyncthingBackend:
    """Syncthing through the unified verbs, driven by its event stream."""

    kind = BackendKind.SYNCTHING
    capabilities = Capabilities(
        search=SearchKind.FILENAME,
        enqueue=True,
        pause=True,
        resume=True,
        remove=True,
        delete_data=False,
        events_pushed=True,
    )

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        event_timeout: int = 60,
        use_bearer: bool = False,
        search_levels: int = 16,
        search_max_entries: int = 200_000,
        file_events: bool = False,
    ) -> None:
        if credentials.api_key is None:
            raise PeerdeckInputError("Syncthing needs its API key (Actions → Settings → GUI → API Key)")
        self.file_events = file_events
        """Also announce every synced file (``file:<folder>:<path>``); off by default, since a large
        sync would flood event consumers — folder completions are announced either way."""
        self.client = SyncthingClient(
            url,
            api_key=credentials.api_key,
            use_bearer=use_bearer,
            session=session,
            verify_ssl=verify_ssl,
            request_timeout=request_timeout,
        )
        self.stream = EventStream(self.client, events=EVENT_MASK, timeout=event_timeout)
        self.search_levels = search_levels
        self.search_max_entries = search_max_entries
        self.model = SyncthingModel()
        self._pending: deque[TransferEvent] = deque(maxlen=_MAX_PENDING)
        self._listeners: set[asyncio.Queue[TransferEvent | PeerdeckError]] = set()
        self._change_listeners: set[Callable[[], None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._failure: PeerdeckError | None = None
        self._start_lock = asyncio.Lock()
        self._resync_needed = False
        self._totals: tuple[float, int, int] | None = None
        self._rates = (0, 0)
        self._system_read_at = -_SYSTEM_MAX_AGE
        self._followed_afresh = 0
        self._restarts_reported = 0
        self.resyncs = 0

    # ------------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        """Stop following events and close the client's session if it owns one."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.client.close()

    async def _ensure_started(self) -> None:
        """Subscribe, take the first snapshot, then follow events in the background."""
        if self._failure is not None:
            raise self._failure
        if self._watcher is not None and not self._watcher.done():
            return
        async with self._start_lock:
            if self._watcher is not None and not self._watcher.done():
                return
            await self.stream.subscribe()
            await self._snapshot()
            self._watcher = asyncio.create_task(self._watch(), name="peerdeck-syncthing-events")

    async def _follow_afresh(self) -> None:
        """After a restart the stream did not notice: stop following, subscribe again (the cursor
        moves to the new process's newest id) and take a snapshot, which announces what changed."""
        _LOGGER.info("Syncthing restarted (new start time); reading its state again")
        self.model.restarted = False
        self._followed_afresh += 1
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._ensure_started()

    async def _watch(self) -> None:
        try:
            async for batch in self.stream:
                await self._handle(batch)
        except PeerdeckError as err:
            _LOGGER.warning("Syncthing event stream stopped: %s", err)
            self._failure = err
            for queue in self._listeners:
                queue.put_nowait(err)

    async def _handle(self, batch: EventBatch) -> None:
        refresh: set[str] = set()
        revision = self.model.revision
        if batch.resync:
            self._resync_needed = True
        if self._resync_needed:
            try:
                await self._snapshot()
            except PeerdeckError as err:
                # The next poll fails too and brings another resync; keep what we have meanwhile.
                _LOGGER.debug("Syncthing resync failed: %s", err)
                return
        for event in batch.events:
            refresh |= self.model.apply(event)
            if self.file_events and event.type == "ItemFinished" and event.data.get("type", "file") == "file":
                self._publish([file_event(event.data, event.time)])
        refresh |= {f.id for f in self.model.folders.values() if f.index_changed and f.state not in BUSY_STATES}
        await self._refresh_folders(refresh)
        await self._read_errors([f for f in self.model.folders.values() if f.errors_unread and not f.paused])
        if self.model.system_stale:
            try:
                await self._read_system()
            except PeerdeckError as err:
                _LOGGER.debug("Syncthing status read failed: %s", err)
        self._publish(self.model.diff())
        if self.model.revision != revision:
            for listener in list(self._change_listeners):
                listener()

    # ------------------------------------------------------------------ snapshot

    async def _snapshot(self) -> None:
        """Read everything: system, config, connections, scan times, folder status and errors, peers' completion."""
        model = self.model
        status = await self.client.system_status()
        model.my_id = str(status.get("myID", "")) or model.my_id
        self._set_system(status, str((await self.client.system_version()).get("version", "")))
        config = await self.client.config()
        model.load_config(config)
        connections = (await self.client.system_connections()).get("connections") or {}
        for device_id, device in model.devices.items():
            record = connections.get(device_id) or {}
            device.connected = bool(record.get("connected"))
            device.paused = bool(record.get("paused", device.paused))
            device.address = str(record.get("address") or "")
            device.client_version = str(record.get("clientVersion") or "")
            device.connection_type = str(record.get("type") or "") if device.connected else ""
        scans = await self.client.stats_folder()
        for folder_id, folder in model.folders.items():
            record = scans.get(folder_id)
            folder.last_scan = parse_time(record.get("lastScan")) if isinstance(record, Mapping) else None
        semaphore = asyncio.Semaphore(_SNAPSHOT_CONCURRENCY)

        async def local(folder: Folder) -> None:
            async with semaphore:
                await self._read_status(folder)

        async def remote(folder: Folder, device_id: str) -> None:
            async with semaphore:
                folder.peers[device_id] = await self.client.db_completion(folder.id, device_id)

        jobs = []
        for folder in model.folders.values():
            if folder.paused:
                continue
            jobs.append(local(folder))
            jobs.extend(remote(folder, d) for d in folder.devices if d in model.devices)
        await asyncio.gather(*jobs)
        await self._read_errors([f for f in model.folders.values() if f.errors_unread and not f.paused])
        self._resync_needed = model.restarted = False
        model.seen_stale = True
        self.resyncs += 1
        self._publish(model.diff(resync=True))

    def _set_system(self, status: Mapping[str, Any], version: str | None = None) -> None:
        """Hand a ``system/status`` reading to the model, and note when it was read (re-read every five minutes)."""
        self.model.set_system(status, version)
        self._system_read_at = time.monotonic()

    async def _read_system(self) -> None:
        self._set_system(await self.client.system_status())

    async def _read_errors(self, folders: Iterable[Folder]) -> None:
        for folder in folders:
            try:
                folder.set_errors((await self.client.folder_errors(folder.id)).get("errors"))
            except PeerdeckError as err:
                _LOGGER.debug("Syncthing errors of %s could not be read: %s", folder.id, err)

    async def _read_status(self, folder: Folder) -> None:
        folder.apply_summary(await self.client.db_status(folder.id))
        folder.index_changed = False

    async def _refresh_folders(self, folder_ids: Iterable[str]) -> None:
        for folder_id in folder_ids:
            folder = self.model.folders.get(folder_id)
            if folder is None or folder.paused:
                continue
            try:
                await self._read_status(folder)
            except PeerdeckError as err:
                _LOGGER.debug("Syncthing status of %s failed: %s", folder_id, err)

    # ------------------------------------------------------------------ announcing

    def _publish(self, events: Sequence[TransferEvent]) -> None:
        """Hand events to the open ``events()`` iterators, or else keep them for ``update()``."""
        for event in events:
            if not self._listeners:
                self._pending.append(event)
            for queue in self._listeners:
                queue.put_nowait(event)

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        """Each job's last published state and each folder's last judged sequence (see the model's ``export_state``)."""
        return self.model.export_state()

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Resume from :meth:`export_state` (call it before the first refresh)."""
        self.model.restore_state(data)

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """Version, and this device's id as the identity."""
        version = await self.client.system_version()
        status = await self.client.system_status()
        self.model.my_id = str(status.get("myID", "")) or self.model.my_id
        name = next(
            (str(d.get("name")) for d in await self.client.config_devices() if d.get("deviceID") == self.model.my_id),
            None,
        )
        return BackendInfo(
            kind=self.kind,
            version=str(version.get("version", "")).removeprefix("v"),
            identity=self.model.my_id,
            name=name or "Syncthing",
        )

    async def status(self) -> Status:
        """Counts of jobs by state, folders by Syncthing state, peers by connection; rates measured now."""
        await self._ensure_started()
        await self._measure_rates(force=True)
        return self._status(self.model.published)

    async def transfers(self) -> list[Transfer]:
        """Every folder and peer as a sync job (from the event-driven model: no request)."""
        await self._ensure_started()
        return list(self.model.transfers().values())

    async def update(self) -> Update:
        """The current model and the events since the last call.

        Rates are measured only while something syncs, and ``system/status`` (discovery and
        relays, which no event reports) is re-read at most every five minutes.
        """
        await self._ensure_started()
        if time.monotonic() - self._system_read_at >= _SYSTEM_MAX_AGE:
            await self._read_system()
        if self.model.restarted:
            await self._follow_afresh()
        restarts = self.stream.restarts + self._followed_afresh
        restarted, self._restarts_reported = restarts != self._restarts_reported, restarts
        if any(t.state is TransferState.ACTIVE for t in self.model.published.values()):
            await self._measure_rates(force=False)
        else:
            self._rates = (0, 0)
            self._totals = None
            for device in self.model.devices.values():
                device.rates, device.byte_totals = (0, 0), None
        # Read after the last await: transfers, folder states and events from one moment.
        transfers = {tid: self.model.with_rates(transfer) for tid, transfer in self.model.published.items()}
        events = tuple(self._pending)
        self._pending.clear()
        return Update(status=self._status(transfers), transfers=transfers, events=events, restarted=restarted)

    async def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        """Transfer events pushed from Syncthing's event stream (``interval`` is not used)."""
        await self._ensure_started()
        queue: asyncio.Queue[TransferEvent | PeerdeckError] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, PeerdeckError):
                    raise item
                yield item
        finally:
            self._listeners.discard(queue)
            # What this iterator received but did not yield is not lost: the next update() has it.
            while not queue.empty():
                left = queue.get_nowait()
                if not isinstance(left, PeerdeckError):
                    self._publish([left])

    def listen_changes(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever events changed what :meth:`update` returns — a folder's state,
        counts or errors, a peer's connection — also when no transfer event says so; returns what stops it."""
        self._change_listeners.add(listener)
        return lambda: self._change_listeners.discard(listener)

    def folder_states(self) -> dict[str, str]:
        """Syncthing's own state of each folder by id (``idle``, ``scanning``, ``syncing``, ``error`` …,
        or ``paused``), as the event stream keeps it: no request.

        They match the transfers :meth:`update` returns: a batch of events being applied (a
        folder gone idle whose completion is still being read) shows in both at once.
        """
        return dict(self.model.published_folder_states)

    async def peer_last_seen(self) -> dict[str, datetime | None]:
        """When each peer (by device id) last connected or disconnected; None if never seen.

        ``stats/device`` is read once after each snapshot or configuration change; connection
        events keep the times current in between, so steady state costs no request.
        """
        await self._ensure_started()
        if self.model.seen_stale:
            stats = await self.client.stats_device()
            for device_id, device in self.model.devices.items():
                record = stats.get(device_id)
                if isinstance(record, Mapping):
                    seen = parse_time(record.get("lastSeen"))
                    # Syncthing reports the Unix epoch for a peer it never saw.
                    device.last_seen = seen if seen is not None and seen.year > 1970 else device.last_seen
            self.model.seen_stale = False
        return {d.id: d.last_seen for d in self.model.devices.values()}

    async def _measure_rates(self, *, force: bool) -> None:
        """Bytes per second, in total and per peer, from two readings of ``system/connections``."""
        now = time.monotonic()
        if not force and self._totals is not None and now - self._totals[0] < _RATE_MIN_INTERVAL:
            return
        answer = await self.client.system_connections()
        total = answer.get("total") or {}
        reading = (now, as_int(total.get("inBytesTotal")), as_int(total.get("outBytesTotal")))
        elapsed = reading[0] - self._totals[0] if self._totals is not None else 0.0
        if self._totals is not None and elapsed > 0:
            self._rates = _rates(self._totals[1:], reading[1:], elapsed)
        self._totals = reading
        connections = answer.get("connections") or {}
        for device in self.model.devices.values():
            record = connections.get(device.id)
            totals = None
            if isinstance(record, Mapping) and record.get("connected"):
                # Both 1.19 and 2.x sum a peer's connections here (1.25+ may have several).
                totals = (as_int(record.get("inBytesTotal")), as_int(record.get("outBytesTotal")))
            if totals is not None and device.byte_totals is not None and elapsed > 0:
                device.rates = _rates(device.byte_totals, totals, elapsed)
            elif totals is None:
                device.rates = (0, 0)
            device.byte_totals = totals

    def _status(self, transfers: Mapping[str, Transfer]) -> Status:
        counts = count_states(transfers.values())
        folder_states: dict[str, int] = {}
        for name in self.model.published_folder_states.values():
            folder_states[name] = folder_states.get(name, 0) + 1
        peers = {"connected": 0, "disconnected": 0, "paused": 0}
        for device in self.model.devices.values():
            peers["paused" if device.paused else "connected" if device.connected else "disconnected"] += 1
        return Status(
            connected=self.stream.connected,
            download_rate=self._rates[0],
            upload_rate=self._rates[1],
            counts=counts,
            extra={
                "device_id": self.model.my_id,
                "folders": folder_states,
                "peers": peers,
                "event_stream_failures": self.stream.failures,
                "reconnects": self.stream.reconnects,
                "resyncs": self.resyncs,
                **self.model.system,
            },
        )

    # ------------------------------------------------------------------ acting

    async def pause(self, ids: TransferSelector) -> None:
        """Pause folders (config PATCH) and devices (``system/pause``); ``ALL`` pauses every one."""
        await self._set_paused(ids, paused=True)

    async def resume(self, ids: TransferSelector) -> None:
        """Resume folders and devices; a resumed peer reconnects within Syncthing's reconnection interval."""
        await self._set_paused(ids, paused=False)

    async def _set_paused(self, ids: TransferSelector, *, paused: bool) -> None:
        if ids is ALL:
            await self._ensure_started()
            await (self.client.system_pause() if paused else self.client.system_resume())
            for folder_id in list(self.model.folders):
                await self.client.config_folder_patch(folder_id, {"paused": paused})
            return
        targets = parse_transfer_ids(ids)
        for kind, target in targets:
            if kind == "folder":
                await self.client.config_folder_patch(target, {"paused": paused})
            elif paused:
                await self.client.system_pause(target)
            else:
                await self.client.system_resume(target)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Stop sharing folders or forget devices (files stay on disk: Syncthing never deletes them here)."""
        if delete_data:
            raise PeerdeckNotSupportedError(
                "Syncthing does not delete a folder's files when it stops sharing it; delete them on disk"
            )
        if ids is ALL:
            raise PeerdeckInputError("removing every folder and device at once is refused; name them")
        for kind, target in parse_transfer_ids(ids):
            if kind == "folder":
                await self.client.config_folder_delete(target)
            else:
                await self.client.config_device_delete(target)

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        """Move needed files to the front of their folder's pull queue (``db/prio``).

        Takes a search hit, or :class:`RemoteFiles` whose ``source`` is a folder id. Returns the
        ids of the files the folder actually still needs (the others are already in sync).
        """
        wanted: list[tuple[str, str]]
        if isinstance(target, SearchHit):
            wanted = [parse_file_id(target.id)]
        elif isinstance(target, RemoteFiles):
            if not target.source or not target.files:
                raise PeerdeckInputError("give a folder id as the source and at least one file path")
            wanted = [(target.source, path) for path, _size in target.files]
        else:
            raise PeerdeckNotSupportedError(
                f"Syncthing cannot enqueue a {type(target).__name__}; it only syncs shared folders. "
                "Give a search hit to move that file to the front of the queue"
            )
        queued: list[str] = []
        for folder, path in wanted:
            need = await self.client.db_prio(folder, path)
            names = {str(item.get("name")) for key in ("progress", "queued", "rest") for item in need.get(key) or []}
            if path in names:
                queued.append(file_id(folder, path))
        return queued

    # ------------------------------------------------------------------ search

    async def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        """File names containing ``query`` (case-insensitive) in the folders' global index (``db/browse``).

        Bounded: at most ``search_levels`` directory levels and ``search_max_entries`` entries are
        looked at, within ``timeout`` s, and at most ``limit`` hits are returned.
        """
        needle = query.strip().casefold()
        if not needle:
            raise PeerdeckInputError("the search text is empty")
        deadline = time.monotonic() + timeout
        folders = [f for f in await self.client.config_folders() if not f.get("paused")]
        sent = 0
        seen = 0
        for folder in folders:
            folder_id = str(folder.get("id", ""))
            remaining = deadline - time.monotonic()
            if remaining <= 0 or seen >= self.search_max_entries:
                return
            try:
                async with asyncio.timeout(remaining):
                    tree = await self.client.db_browse(folder_id, levels=self.search_levels)
            except TimeoutError:
                return
            for path, entry in _walk(tree):
                seen += 1
                if seen > self.search_max_entries:
                    return
                if needle in path.rsplit("/", 1)[-1].casefold():
                    yield SearchHit(
                        id=file_id(folder_id, path),
                        title=path,
                        size=as_int(entry.get("size")),
                        source=str(folder.get("label") or folder_id),
                        raw={"folder": folder_id, **entry},
                    )
                    sent += 1
                    if limit is not None and sent >= limit:
                        return


def _walk(tree: Any, prefix: str = "") -> Iterable[tuple[str, dict[str, Any]]]:
    """Files of a ``db/browse`` tree (list form since 1.9; the older dict form is read too)."""
    if isinstance(tree, list):
        for entry in tree:
            if not isinstance(entry, dict):
                continue
            path = f"{prefix}{entry.get('name', '')}"
            if entry.get("type") == "FILE_INFO_TYPE_DIRECTORY" or "children" in entry:
                yield from _walk(entry.get("children") or [], f"{path}/")
            else:
                yield path, entry
    elif isinstance(tree, dict):
        for name, value in tree.items():
            if isinstance(value, dict):
                yield from _walk(value, f"{prefix}{name}/")
            elif isinstance(value, list) and len(value) >= 2:
                yield f"{prefix}{name}", {"name": name, "modTime": value[0], "size": value[1]}


def _rates(before: Sequence[int], after: Sequence[int], elapsed: float) -> tuple[int, int]:
    """Bytes per second received and sent between two byte-count readings."""
    return max(0, int((after[0] - before[0]) / elapsed)), max(0, int((after[1] - before[1]) / elapsed))


__all__ = [
    "EVENT_MASK",
    "SyncthingBackend",
]
