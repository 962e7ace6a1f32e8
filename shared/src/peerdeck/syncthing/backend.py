"""Syncthing behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

Transfers are sync jobs: ``folder:<id>`` is this device's side of a shared folder (progress
= local completion), ``device:<id>`` is a peer (progress = how much of our shared folders it
has). Their state is kept current by the event stream, not by polling: after one snapshot
(system status, config, connections, scan times, ``db/status`` per folder — sizes, file counts
and error count — and ``db/completion`` per folder and peer), events move it —
``StateChanged``, ``FolderSummary`` (which carries what ``db/status`` would), ``FolderCompletion``,
``FolderErrors``, ``LocalIndexUpdated``/``RemoteIndexUpdated``, device and folder
pause/connection events and ``ConfigSaved``. The only extra requests in steady state are one
``db/status`` of a folder the events say changed — when it finishes a sync, to confirm it needs
nothing more, or when its index changed (a scan found changes, or a peer announced some) and it
is neither scanning nor syncing — so a change shows at once, not one or two seconds later with
Syncthing's next ``FolderSummary``; and one ``folder/errors`` when a summary counts errors no
event described. (``db/status`` reads counters Syncthing keeps, as ``db/completion`` does; it is
only never polled.) An idle daemon therefore costs one long poll per ``event_timeout`` s and the
stream's check of the newest event id after it (a restart between two polls), plus one
``system/status`` every five minutes (discovery and relay status, which no event reports; a new
start time there is a restart too).

Completion is announced once per sync cycle: when a job goes from active to done, or when
it is done with content it was not done with before (a new ``sequence``), which also covers
syncs that happened while the stream was down — those are caught by the resync after it
reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
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
    TransferEventKind,
    TransferSelector,
    TransferState,
    Update,
)
from .client import JsonObject, SyncthingClient, normalize_device_id, parse_version
from .events import EventBatch, EventStream, SyncthingEvent, parse_time

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

ACTIVE_STATES = frozenset({"syncing", "sync-preparing"})
QUEUED_STATES = frozenset({"sync-waiting"})
FAILED_STATES = frozenset({"error"})
BUSY_STATES = ACTIVE_STATES | {"scanning", "scan-waiting"}
"""States a folder leaves with a ``StateChanged``: an index change seen in them is read after that."""

FOLDER_PREFIX = "folder:"
DEVICE_PREFIX = "device:"
FILE_PREFIX = "file:"

_RATE_MIN_INTERVAL = 5.0
_SYSTEM_MAX_AGE = 300.0
"""Seconds a ``system/status`` reading (discovery, relays) is kept: no event reports discovery failures."""
MULTIPLE_CONNECTIONS = (1, 25)
"""From this version a peer may have several connections, each announced by its own ``DeviceConnected``."""
_MAX_PENDING = 10_000
_SNAPSHOT_CONCURRENCY = 4


class InvalidSyncthingIdError(PeerdeckInputError):
    """A transfer or search-hit id that does not name a Syncthing folder, device or file."""


def parse_transfer_id(value: str) -> tuple[str, str]:
    """Split ``folder:<id>`` / ``device:<id>`` into kind and id (device ids normalised)."""
    if not isinstance(value, str):
        raise InvalidSyncthingIdError(f"{value!r} is not a Syncthing transfer id")
    if value.startswith(FOLDER_PREFIX) and len(value) > len(FOLDER_PREFIX):
        return "folder", value[len(FOLDER_PREFIX) :]
    if value.startswith(DEVICE_PREFIX):
        try:
            return "device", normalize_device_id(value[len(DEVICE_PREFIX) :])
        except PeerdeckInputError as err:
            raise InvalidSyncthingIdError(str(err)) from err
    shown = value if len(value) <= 80 else value[:79] + "…"
    raise InvalidSyncthingIdError(
        f"{shown!r} is not a Syncthing transfer id; expected 'folder:<folder id>' or 'device:<device id>'"
    )


def file_id(folder: str, path: str) -> str:
    """The id of one file of a folder, as used by search hits and file events."""
    return f"{FILE_PREFIX}{folder}:{path}"


def parse_file_id(value: str) -> tuple[str, str]:
    """Split ``file:<folder>:<path>`` (a folder id holds no ``:`` in this form; paths may)."""
    folder, sep, path = value[len(FILE_PREFIX) :].partition(":")
    if not value.startswith(FILE_PREFIX) or not sep or not folder or not path:
        shown = value if len(value) <= 80 else value[:79] + "…"
        raise InvalidSyncthingIdError(f"{shown!r} is not a Syncthing file id; expected 'file:<folder id>:<path>'")
    return folder, path


@dataclass
class _Folder:
    """What we know of one folder, kept current by events."""

    id: str
    label: str = ""
    path: str = ""
    type: str = "sendreceive"
    paused: bool = False
    devices: tuple[str, ...] = ()
    state: str = "unknown"
    error: str | None = None
    global_bytes: int = 0
    global_items: int = 0
    global_files: int = 0
    local_bytes: int = 0
    local_files: int = 0
    need_bytes: int = 0
    need_items: int = 0
    errors: int = 0
    """Scan and pull errors (files that could not be read or written)."""
    file_error: str | None = None
    """The first of those errors, as ``path: error``."""
    errors_unread: bool = False
    """Set when the error count changed without an event carrying the errors' text."""
    last_scan: datetime | None = None
    completion: float = 100.0
    sequence: int = 0
    changed_at: datetime | None = None
    synced: bool = False
    """Set when a sync (pull) ran since completion was last judged: the next "done" is a completion."""
    index_changed: bool = False
    """Set by an index update (ours or a peer's) until the folder's completion is read again."""
    peers: dict[str, JsonObject] = field(default_factory=dict)
    """Device id → that device's completion of this folder (``FolderCompletion`` data)."""


@dataclass
class _Device:
    """What we know of one peer."""

    id: str
    name: str = ""
    paused: bool = False
    connected: bool = False
    address: str = ""
    client_version: str = ""
    connection_type: str = ""
    """Syncthing's name of the connection (``tcp-client``, ``relay-server``, ``quic-client`` …)."""
    last_seen: datetime | None = None
    byte_totals: tuple[int, int] | None = None
    """Bytes received from and sent to the peer at the last rate reading."""
    rates: tuple[int, int] = (0, 0)
    synced: bool = False
    """Set when the peer was seen needing data since completion was last judged."""


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
        self._my_id: str | None = None
        self._folders: dict[str, _Folder] = {}
        self._devices: dict[str, _Device] = {}
        self._last: dict[str, Transfer] = {}
        self._last_folder_states: dict[str, str] = {}
        """Folder states as of ``_last``: what readers see together, never half an event batch."""
        self._announced: dict[str, int] = {}
        self._pending: deque[TransferEvent] = deque(maxlen=_MAX_PENDING)
        self._listeners: set[asyncio.Queue[TransferEvent | PeerdeckError]] = set()
        self._change_listeners: set[Callable[[], None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._failure: PeerdeckError | None = None
        self._start_lock = asyncio.Lock()
        self._primed = False
        self._resync_needed = False
        self._totals: tuple[float, int, int] | None = None
        self._rates = (0, 0)
        self._seen_stale = True
        self._system: dict[str, Any] = {}
        """Version, start time, discovery and relay status (``Status.extra``)."""
        self._system_read_at = -_SYSTEM_MAX_AGE
        self._system_stale = False
        self._multiple_connections = False
        self._restarted = False
        """Set when ``system/status`` shows a new start time: the next :meth:`update` follows afresh."""
        self._followed_afresh = 0
        self._restarts_reported = 0
        self._revision = 0
        """Bumped whenever what :meth:`update` returns changed."""
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
        self._restarted = False
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
        revision = self._revision
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
            refresh |= self._apply(event)
        refresh |= {f.id for f in self._folders.values() if f.index_changed and f.state not in BUSY_STATES}
        await self._refresh_folders(refresh)
        await self._read_errors([f for f in self._folders.values() if f.errors_unread and not f.paused])
        if self._system_stale:
            try:
                await self._read_system()
            except PeerdeckError as err:
                _LOGGER.debug("Syncthing status read failed: %s", err)
        self._publish(self._diff())
        if self._revision != revision:
            for listener in list(self._change_listeners):
                listener()

    # ------------------------------------------------------------------ snapshot

    async def _snapshot(self) -> None:
        """Read everything: system, config, connections, scan times, folder status and errors, peers' completion."""
        status = await self.client.system_status()
        self._my_id = str(status.get("myID", "")) or self._my_id
        self._set_system(status, str((await self.client.system_version()).get("version", "")))
        config = await self.client.config()
        self._load_config(config)
        connections = (await self.client.system_connections()).get("connections") or {}
        for device_id, device in self._devices.items():
            record = connections.get(device_id) or {}
            device.connected = bool(record.get("connected"))
            device.paused = bool(record.get("paused", device.paused))
            device.address = str(record.get("address") or "")
            device.client_version = str(record.get("clientVersion") or "")
            device.connection_type = str(record.get("type") or "") if device.connected else ""
        scans = await self.client.stats_folder()
        for folder_id, folder in self._folders.items():
            record = scans.get(folder_id)
            folder.last_scan = parse_time(record.get("lastScan")) if isinstance(record, Mapping) else None
        semaphore = asyncio.Semaphore(_SNAPSHOT_CONCURRENCY)

        async def local(folder: _Folder) -> None:
            async with semaphore:
                await self._read_status(folder)

        async def remote(folder: _Folder, device_id: str) -> None:
            async with semaphore:
                folder.peers[device_id] = await self.client.db_completion(folder.id, device_id)

        jobs = []
        for folder in self._folders.values():
            if folder.paused:
                continue
            jobs.append(local(folder))
            jobs.extend(remote(folder, d) for d in folder.devices if d in self._devices)
        await asyncio.gather(*jobs)
        await self._read_errors([f for f in self._folders.values() if f.errors_unread and not f.paused])
        self._resync_needed = self._restarted = False
        self._seen_stale = True
        self.resyncs += 1
        self._publish(self._diff(resync=True))

    def _load_config(self, config: Mapping[str, Any]) -> None:
        """Folders and devices from a config object (``GET /rest/config`` or ``ConfigSaved``)."""
        folders: dict[str, _Folder] = {}
        for record in config.get("folders") or []:
            folder_id = str(record.get("id", ""))
            if not folder_id:
                continue
            folder = self._folders.get(folder_id) or _Folder(folder_id)
            folder.label = str(record.get("label") or folder_id)
            folder.path = str(record.get("path") or "")
            folder.type = str(record.get("type") or "sendreceive")
            folder.paused = bool(record.get("paused", False))
            folder.devices = tuple(
                str(d.get("deviceID")) for d in record.get("devices") or [] if d.get("deviceID") != self._my_id
            )
            folders[folder_id] = folder
        devices: dict[str, _Device] = {}
        for record in config.get("devices") or []:
            device_id = str(record.get("deviceID", ""))
            if not device_id or device_id == self._my_id:
                continue
            device = self._devices.get(device_id) or _Device(device_id)
            device.name = str(record.get("name") or device_id[:7])
            device.paused = bool(record.get("paused", False))
            devices[device_id] = device
        self._folders = folders
        self._devices = devices

    def _set_system(self, status: Mapping[str, Any], version: str | None = None) -> None:
        """Start time, discovery and relay status from ``system/status``; the version when it was read too."""
        system = dict(self._system)
        if version is not None:
            system["version"] = version.removeprefix("v")
            self._multiple_connections = parse_version(version) >= MULTIPLE_CONNECTIONS
        system["start_time"] = parse_time(status.get("startTime"))
        known = self._system.get("start_time")
        if known is not None and system["start_time"] not in (None, known):
            # A restarted daemon, seen by the periodic read: the event stream may be waiting above
            # the new process's ids, and what changed meanwhile was never sent.
            self._restarted = True
        system["discovery"] = _discovery_status(status)
        system["relays"] = _relay_status(status)
        if system != self._system:
            self._system = system
            self._revision += 1
        self._system_read_at = time.monotonic()
        self._system_stale = False

    async def _read_system(self) -> None:
        self._set_system(await self.client.system_status())

    @staticmethod
    def _set_errors(folder: _Folder, errors: Any) -> None:
        """A folder's errors from ``folder/errors`` or ``FolderErrors`` (a list of ``{path, error}``)."""
        records = [e for e in errors or [] if isinstance(e, Mapping)]
        folder.errors = len(records)
        folder.file_error = _error_text(records[0]) if records else None
        folder.errors_unread = False

    async def _read_errors(self, folders: Iterable[_Folder]) -> None:
        for folder in folders:
            try:
                self._set_errors(folder, (await self.client.folder_errors(folder.id)).get("errors"))
            except PeerdeckError as err:
                _LOGGER.debug("Syncthing errors of %s could not be read: %s", folder.id, err)

    async def _read_status(self, folder: _Folder) -> None:
        self._apply_summary(folder, await self.client.db_status(folder.id))
        folder.index_changed = False

    async def _refresh_folders(self, folder_ids: Iterable[str]) -> None:
        for folder_id in folder_ids:
            folder = self._folders.get(folder_id)
            if folder is None or folder.paused:
                continue
            try:
                await self._read_status(folder)
            except PeerdeckError as err:
                _LOGGER.debug("Syncthing status of %s failed: %s", folder_id, err)

    # ------------------------------------------------------------------ events

    def _apply(self, event: SyncthingEvent) -> set[str]:
        """Fold one event into the model; returns folders whose completion must be re-read."""
        data = event.data
        kind = event.type
        if kind == "StateChanged":
            folder = self._folders.get(str(data.get("folder")))
            if folder is not None:
                before, folder.state = folder.state, str(data.get("to") or folder.state)
                folder.changed_at = event.time
                if data.get("from") == "scanning":
                    folder.last_scan = event.time or folder.last_scan
                folder.synced = folder.synced or folder.state in ACTIVE_STATES
                if folder.state == "error":  # the event says why (a missing folder marker, a full disk …)
                    folder.error = str(data.get("error") or folder.error or "") or None
                else:
                    folder.error = None
                if folder.state == "idle" and before in ACTIVE_STATES | QUEUED_STATES:
                    return {folder.id}
        elif kind == "FolderSummary":
            folder = self._folders.get(str(data.get("folder")))
            summary = data.get("summary")
            if folder is not None and isinstance(summary, dict):
                self._apply_summary(folder, summary)
        elif kind in ("LocalIndexUpdated", "RemoteIndexUpdated"):
            folder = self._folders.get(str(data.get("folder")))
            if folder is not None:
                folder.index_changed = True
                if kind == "LocalIndexUpdated":
                    folder.sequence = max(folder.sequence, _int(data.get("sequence")))
        elif kind == "FolderCompletion":
            folder = self._folders.get(str(data.get("folder")))
            peer = str(data.get("device", ""))
            if folder is not None and peer in self._devices:
                folder.peers[peer] = dict(data)
                if _int(data.get("needItems")) + _int(data.get("needDeletes")) + _int(data.get("needBytes")) > 0:
                    self._devices[peer].synced = True
        elif kind == "FolderErrors":
            folder = self._folders.get(str(data.get("folder")))
            if folder is not None:
                self._set_errors(folder, data.get("errors"))
        elif kind == "ItemFinished":
            folder = self._folders.get(str(data.get("folder")))
            if folder is not None:
                folder.synced = True
            if self.file_events and data.get("type", "file") == "file":
                self._publish([_file_event(data, event.time)])
        elif kind == "DeviceConnected":
            device = self._devices.get(str(data.get("id")))
            if device is not None:
                device.last_seen = event.time or device.last_seen
                # From 1.25 a peer's extra connections are announced too; the first one stays its primary.
                if not (self._multiple_connections and device.connected):
                    device.address = str(data.get("addr") or device.address)
                    device.connection_type = str(data.get("type") or "")
                    device.client_version = str(data.get("clientVersion") or device.client_version)
                device.connected = True
        elif kind == "DeviceDisconnected":
            device = self._devices.get(str(data.get("id")))
            if device is not None:
                device.connected = False
                device.last_seen = event.time or device.last_seen
                device.connection_type = ""
                device.rates, device.byte_totals = (0, 0), None
        elif kind in ("DevicePaused", "DeviceResumed"):
            device = self._devices.get(str(data.get("device")))
            if device is not None:
                device.paused = kind == "DevicePaused"
                device.connected = device.connected and not device.paused
        elif kind in ("FolderPaused", "FolderResumed"):
            folder = self._folders.get(str(data.get("id")))
            if folder is not None:
                folder.paused = kind == "FolderPaused"
                if not folder.paused:
                    return {folder.id}
        elif kind == "ListenAddressesChanged":
            self._system_stale = True  # a relay connected or dropped: read its status
        elif kind == "ConfigSaved" and "folders" in data and "devices" in data:
            known = set(self._folders)
            self._load_config(data)
            self._seen_stale = True
            return set(self._folders) - known
        return set()

    @staticmethod
    def _apply_summary(folder: _Folder, summary: Mapping[str, Any]) -> None:
        """Read a ``FolderSummary`` event's summary or a ``db/status`` answer (the same object)."""
        folder.global_bytes = _int(summary.get("globalBytes"))
        folder.global_items = _int(summary.get("globalTotalItems", summary.get("globalFiles")))
        folder.global_files = _int(summary.get("globalFiles"))
        folder.local_bytes = _int(summary.get("localBytes"))
        folder.local_files = _int(summary.get("localFiles"))
        errors = _int(summary.get("errors"))
        if errors == 0:
            folder.errors, folder.file_error = 0, None
        elif errors != folder.errors or folder.file_error is None:
            folder.errors_unread = True
        folder.need_bytes = _int(summary.get("needBytes"))
        folder.need_items = _int(summary.get("needTotalItems", summary.get("needFiles")))
        folder.sequence = _int(summary.get("sequence")) or folder.sequence
        state = summary.get("state")
        if isinstance(state, str) and state:
            folder.state = state
        folder.error = str(summary.get("error") or summary.get("invalid") or "") or None
        total = folder.global_bytes
        folder.completion = 100.0 if total <= 0 else 100.0 * (total - min(folder.need_bytes, total)) / total

    # ------------------------------------------------------------------ transfers and diffs

    def _transfers(self) -> dict[str, Transfer]:
        transfers = {f"{FOLDER_PREFIX}{f.id}": self._folder_transfer(f) for f in self._folders.values()}
        transfers.update({f"{DEVICE_PREFIX}{d.id}": self._device_transfer(d) for d in self._devices.values()})
        return transfers

    @staticmethod
    def _folder_transfer(folder: _Folder) -> Transfer:
        if folder.paused:
            state = TransferState.PAUSED
        elif folder.state in FAILED_STATES:
            state = TransferState.FAILED
        elif folder.state in ACTIVE_STATES:
            state = TransferState.ACTIVE
        elif folder.state in QUEUED_STATES or folder.need_items > 0 or folder.need_bytes > 0:
            state = TransferState.QUEUED
        else:
            state = TransferState.COMPLETED
        done = max(0, folder.global_bytes - folder.need_bytes)
        return Transfer(
            id=f"{FOLDER_PREFIX}{folder.id}",
            name=folder.label or folder.id,
            state=state,
            progress=max(0.0, min(1.0, folder.completion / 100.0)),
            size=folder.global_bytes,
            done_bytes=done,
            save_path=folder.path or None,
            category="folder",
            tags=tuple(f"{DEVICE_PREFIX}{d}" for d in folder.devices),
            raw={
                "kind": "folder",
                "folder": folder.id,
                "state": folder.state,
                "type": folder.type,
                "error": folder.error,
                "need_items": folder.need_items,
                "need_bytes": folder.need_bytes,
                "global_items": folder.global_items,
                "global_bytes": folder.global_bytes,
                "global_files": folder.global_files,
                "local_bytes": folder.local_bytes,
                "local_files": folder.local_files,
                "errors": folder.errors,
                "last_error": folder.error or folder.file_error,
                "last_scan": folder.last_scan,
                "sequence": folder.sequence,
                "state_changed": folder.changed_at.isoformat() if folder.changed_at else None,
            },
        )

    def _device_transfer(self, device: _Device) -> Transfer:
        """A peer's progress over every unpaused folder shared with it, weighted by bytes."""
        global_bytes = need_bytes = need_items = 0
        folders: list[str] = []
        for folder in self._folders.values():
            record = folder.peers.get(device.id)
            if folder.paused or device.id not in folder.devices or record is None:
                continue
            folders.append(folder.id)
            global_bytes += _int(record.get("globalBytes"))
            need_bytes += _int(record.get("needBytes"))
            need_items += _int(record.get("needItems")) + _int(record.get("needDeletes"))
        progress = 1.0 if global_bytes <= 0 else (global_bytes - min(need_bytes, global_bytes)) / global_bytes
        if need_items > 0 and progress >= 1.0:
            progress = 0.999
        if device.paused:
            state = TransferState.PAUSED
        elif not device.connected:
            state = TransferState.QUEUED
        elif need_items > 0 or need_bytes > 0:
            state = TransferState.ACTIVE
        else:
            state = TransferState.COMPLETED
        return Transfer(
            id=f"{DEVICE_PREFIX}{device.id}",
            name=device.name or device.id[:7],
            state=state,
            progress=progress,
            size=global_bytes,
            done_bytes=global_bytes - min(need_bytes, global_bytes),
            download_rate=device.rates[0],
            upload_rate=device.rates[1],
            category="device",
            tags=tuple(f"{FOLDER_PREFIX}{f}" for f in folders),
            raw={
                "kind": "device",
                "device": device.id,
                "connected": device.connected,
                "paused": device.paused,
                "address": device.address,
                "client_version": device.client_version,
                "connection_type": device.connection_type,
                "need_items": need_items,
                "need_bytes": need_bytes,
            },
        )

    def _with_rates(self, transfer: Transfer) -> Transfer:
        """A peer's job with the rates last measured (measured apart from the events that build jobs)."""
        device = self._devices.get(transfer.id.removeprefix(DEVICE_PREFIX))
        if not transfer.id.startswith(DEVICE_PREFIX) or device is None:
            return transfer
        return replace(transfer, download_rate=device.rates[0], upload_rate=device.rates[1])

    def _diff(self, *, resync: bool = False) -> list[TransferEvent]:
        """Events between the last published transfers and the current ones.

        A folder is announced complete when it is done after pulling (or, on a resync, when
        its content changed while we were not watching); a peer when it is done after it was
        seen needing data.
        """
        current = self._transfers()
        states = {f.id: "paused" if f.paused else f.state for f in self._folders.values()}
        if states != self._last_folder_states or _changed(self._last, current):
            self._revision += 1
        self._last_folder_states = states
        now = datetime.now(UTC)
        if not self._primed:
            self._primed = True
            self._last = current
            self._announced = {f.id: f.sequence for f in self._folders.values()}
            return []
        events: list[TransferEvent] = []
        for tid, transfer in current.items():
            before = self._last.get(tid)
            previous = before.state if before is not None else None
            if before is None:
                events.append(TransferEvent(TransferEventKind.ADDED, transfer, None, now))
            if transfer.state is TransferState.COMPLETED and self._completes(tid, previous, resync=resync):
                events.append(TransferEvent(TransferEventKind.COMPLETED, transfer, previous, now))
            elif previous is not None and previous != transfer.state:
                kind = TransferEventKind.FAILED if transfer.state is TransferState.FAILED else None
                events.append(TransferEvent(kind or TransferEventKind.STATE_CHANGED, transfer, previous, now))
        for tid, transfer in self._last.items():
            if tid not in current:
                self._announced.pop(tid.removeprefix(FOLDER_PREFIX), None)
                events.append(TransferEvent(TransferEventKind.REMOVED, transfer, transfer.state, now))
        self._last = current
        return events

    def _completes(self, transfer_id: str, previous: TransferState | None, *, resync: bool) -> bool:
        """Whether a job now done is a new completion (each sync cycle once); resets the cycle."""
        if transfer_id.startswith(DEVICE_PREFIX):
            device = self._devices[transfer_id[len(DEVICE_PREFIX) :]]
            synced, device.synced = device.synced, False
            return synced or previous is TransferState.ACTIVE
        folder = self._folders[transfer_id[len(FOLDER_PREFIX) :]]
        changed = folder.sequence != self._announced.get(folder.id)
        self._announced[folder.id] = folder.sequence
        synced, folder.synced = folder.synced, False
        return synced or previous is TransferState.ACTIVE or (changed and (resync or previous is None))

    def _publish(self, events: Sequence[TransferEvent]) -> None:
        """Hand events to the open ``events()`` iterators, or else keep them for ``update()``."""
        for event in events:
            if not self._listeners:
                self._pending.append(event)
            for queue in self._listeners:
                queue.put_nowait(event)

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        """Each job's last published name and state, and the sequence each folder was last judged at.

        Restored, the first snapshot announces once what finished while the caller was away: a
        folder whose content changed (a new sequence) or a job that was active and is done.
        """
        if not self._primed:
            return {}
        return {
            "jobs": {tid: {"name": t.name, "state": t.state.value} for tid, t in self._last.items()},
            "sequences": dict(self._announced),
        }

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Resume from :meth:`export_state` (call it before the first refresh)."""
        jobs = data.get("jobs")
        if not isinstance(jobs, Mapping):
            return
        last: dict[str, Transfer] = {}
        for tid, item in jobs.items():
            try:
                state = TransferState(item["state"])
            except (TypeError, KeyError, ValueError):
                continue
            last[str(tid)] = Transfer(id=str(tid), name=str(item.get("name", tid)), state=state)
        sequences = data.get("sequences")
        self._announced = (
            {str(k): v for k, v in sequences.items() if isinstance(v, int)} if isinstance(sequences, Mapping) else {}
        )
        self._last = last
        self._primed = True

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """Version, and this device's id as the identity."""
        version = await self.client.system_version()
        status = await self.client.system_status()
        self._my_id = str(status.get("myID", "")) or self._my_id
        name = next(
            (str(d.get("name")) for d in await self.client.config_devices() if d.get("deviceID") == self._my_id),
            None,
        )
        return BackendInfo(
            kind=self.kind,
            version=str(version.get("version", "")).removeprefix("v"),
            identity=self._my_id,
            name=name or "Syncthing",
        )

    async def status(self) -> Status:
        """Counts of jobs by state, folders by Syncthing state, peers by connection; rates measured now."""
        await self._ensure_started()
        await self._measure_rates(force=True)
        return self._status(self._last)

    async def transfers(self) -> list[Transfer]:
        """Every folder and peer as a sync job (from the event-driven model: no request)."""
        await self._ensure_started()
        return list(self._transfers().values())

    async def update(self) -> Update:
        """The current model and the events since the last call.

        Rates are measured only while something syncs, and ``system/status`` (discovery and
        relays, which no event reports) is re-read at most every five minutes.
        """
        await self._ensure_started()
        if time.monotonic() - self._system_read_at >= _SYSTEM_MAX_AGE:
            await self._read_system()
        if self._restarted:
            await self._follow_afresh()
        restarts = self.stream.restarts + self._followed_afresh
        restarted, self._restarts_reported = restarts != self._restarts_reported, restarts
        if any(t.state is TransferState.ACTIVE for t in self._last.values()):
            await self._measure_rates(force=False)
        else:
            self._rates = (0, 0)
            self._totals = None
            for device in self._devices.values():
                device.rates, device.byte_totals = (0, 0), None
        # Read after the last await: transfers, folder states and events from one moment.
        transfers = {tid: self._with_rates(transfer) for tid, transfer in self._last.items()}
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
        return dict(self._last_folder_states)

    async def peer_last_seen(self) -> dict[str, datetime | None]:
        """When each peer (by device id) last connected or disconnected; None if never seen.

        ``stats/device`` is read once after each snapshot or configuration change; connection
        events keep the times current in between, so steady state costs no request.
        """
        await self._ensure_started()
        if self._seen_stale:
            stats = await self.client.stats_device()
            for device_id, device in self._devices.items():
                record = stats.get(device_id)
                if isinstance(record, Mapping):
                    seen = parse_time(record.get("lastSeen"))
                    # Syncthing reports the Unix epoch for a peer it never saw.
                    device.last_seen = seen if seen is not None and seen.year > 1970 else device.last_seen
            self._seen_stale = False
        return {d.id: d.last_seen for d in self._devices.values()}

    async def _measure_rates(self, *, force: bool) -> None:
        """Bytes per second, in total and per peer, from two readings of ``system/connections``."""
        now = time.monotonic()
        if not force and self._totals is not None and now - self._totals[0] < _RATE_MIN_INTERVAL:
            return
        answer = await self.client.system_connections()
        total = answer.get("total") or {}
        reading = (now, _int(total.get("inBytesTotal")), _int(total.get("outBytesTotal")))
        elapsed = reading[0] - self._totals[0] if self._totals is not None else 0.0
        if self._totals is not None and elapsed > 0:
            self._rates = _rates(self._totals[1:], reading[1:], elapsed)
        self._totals = reading
        connections = answer.get("connections") or {}
        for device in self._devices.values():
            record = connections.get(device.id)
            totals = None
            if isinstance(record, Mapping) and record.get("connected"):
                # Both 1.19 and 2.x sum a peer's connections here (1.25+ may have several).
                totals = (_int(record.get("inBytesTotal")), _int(record.get("outBytesTotal")))
            if totals is not None and device.byte_totals is not None and elapsed > 0:
                device.rates = _rates(device.byte_totals, totals, elapsed)
            elif totals is None:
                device.rates = (0, 0)
            device.byte_totals = totals

    def _status(self, transfers: Mapping[str, Transfer]) -> Status:
        counts = count_states(transfers.values())
        folder_states: dict[str, int] = {}
        for name in self._last_folder_states.values():
            folder_states[name] = folder_states.get(name, 0) + 1
        peers = {"connected": 0, "disconnected": 0, "paused": 0}
        for device in self._devices.values():
            peers["paused" if device.paused else "connected" if device.connected else "disconnected"] += 1
        return Status(
            connected=self.stream.connected,
            download_rate=self._rates[0],
            upload_rate=self._rates[1],
            counts=counts,
            extra={
                "device_id": self._my_id,
                "folders": folder_states,
                "peers": peers,
                "event_stream_failures": self.stream.failures,
                "reconnects": self.stream.reconnects,
                "resyncs": self.resyncs,
                **self._system,
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
            for folder_id in list(self._folders):
                await self.client.config_folder_patch(folder_id, {"paused": paused})
            return
        targets = _parse_ids(ids)
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
        for kind, target in _parse_ids(ids):
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
                        size=_int(entry.get("size")),
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


def _parse_ids(ids: Sequence[str]) -> list[tuple[str, str]]:
    if isinstance(ids, str):
        raise InvalidSyncthingIdError("give a list of ids (or ALL), not a single string")
    parsed = [parse_transfer_id(i) for i in ids]
    if not parsed:
        raise PeerdeckInputError("no folders or devices given")
    return parsed


def _file_event(data: Mapping[str, Any], at: datetime | None) -> TransferEvent:
    """An ``ItemFinished`` as an event on the file (``file:<folder>:<path>``)."""
    folder = str(data.get("folder", ""))
    item = str(data.get("item", ""))
    error = data.get("error")
    if error:
        state, kind = TransferState.FAILED, TransferEventKind.FAILED
    elif data.get("action") == "delete":
        state, kind = TransferState.COMPLETED, TransferEventKind.REMOVED
    else:
        state, kind = TransferState.COMPLETED, TransferEventKind.COMPLETED
    transfer = Transfer(
        id=file_id(folder, item),
        name=item,
        state=state,
        progress=0.0 if error else 1.0,
        category="file",
        tags=(f"{FOLDER_PREFIX}{folder}",),
        completed_at=None if error else at,
        raw=dict(data),
    )
    return TransferEvent(kind, transfer, TransferState.ACTIVE, at)


def _rates(before: Sequence[int], after: Sequence[int], elapsed: float) -> tuple[int, int]:
    """Bytes per second received and sent between two byte-count readings."""
    return max(0, int((after[0] - before[0]) / elapsed)), max(0, int((after[1] - before[1]) / elapsed))


def _changed(before: Mapping[str, Transfer], after: Mapping[str, Transfer]) -> bool:
    """Whether any job differs, its details (``raw``, which equality skips) included."""
    return before.keys() != after.keys() or any(
        after[tid] != before[tid] or after[tid].raw != before[tid].raw for tid in after
    )


def _error_text(record: Mapping[str, Any]) -> str:
    path, error = str(record.get("path") or ""), str(record.get("error") or "")
    return f"{path}: {error}" if path else error


def _discovery_status(status: Mapping[str, Any]) -> str:
    """``ok``, ``partial`` or ``failed`` from the discovery methods' errors; ``disabled`` without any."""
    methods = status.get("discoveryStatus")
    if not isinstance(methods, Mapping) or not methods:
        return "disabled"
    failing = sum(1 for m in methods.values() if not isinstance(m, Mapping) or m.get("error"))
    return "ok" if failing == 0 else "failed" if failing == len(methods) else "partial"


def _relay_status(status: Mapping[str, Any]) -> str:
    """``connected`` when a relay listener holds a relay address, ``disconnected`` if none does, else
    ``disabled`` (no relay listener)."""
    listeners = status.get("connectionServiceStatus")
    relays = [
        record
        for address, record in (listeners.items() if isinstance(listeners, Mapping) else ())
        if address.startswith(("relay://", "dynamic+http")) and isinstance(record, Mapping)
    ]
    if not relays:
        return "disabled"
    return (
        "connected"
        if any(
            not record.get("error") and any(str(a).startswith("relay://") for a in record.get("wanAddresses") or [])
            for record in relays
        )
        else "disconnected"
    )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


__all__ = [
    "EVENT_MASK",
    "InvalidSyncthingIdError",
    "SyncthingBackend",
    "file_id",
    "parse_file_id",
    "parse_time",
    "parse_transfer_id",
]
