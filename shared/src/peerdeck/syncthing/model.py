"""What Syncthing's folders and peers look like as events leave them, seen as sync jobs.

Transfers are sync jobs: ``folder:<id>`` is this device's side of a shared folder (progress
= local completion), ``device:<id>`` is a peer (progress = how much of our shared folders it
has). The backend reads one snapshot into this model; from then on events move it —
``StateChanged``, ``FolderSummary`` (which carries what ``db/status`` would), ``FolderCompletion``,
``FolderErrors``, ``LocalIndexUpdated``/``RemoteIndexUpdated``, device and folder
pause/connection events and ``ConfigSaved``. Nothing here sends a request: applying an event says
which folders must be read again, and the backend reads them.

Completion is announced once per sync cycle: when a job goes from active to done, or when
it is done with content it was not done with before (a new ``sequence``), which also covers
syncs that happened while the stream was down — those are caught by the resync after it
reconnects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..models import Transfer, TransferEvent, TransferEventKind, TransferState
from .client import JsonObject, parse_version
from .events import SyncthingEvent, parse_time
from .ids import DEVICE_PREFIX, FOLDER_PREFIX, file_id

ACTIVE_STATES = frozenset({"syncing", "sync-preparing"})
QUEUED_STATES = frozenset({"sync-waiting"})
FAILED_STATES = frozenset({"error"})
BUSY_STATES = ACTIVE_STATES | {"scanning", "scan-waiting"}
"""States a folder leaves with a ``StateChanged``: an index change seen in them is read after that."""

MULTIPLE_CONNECTIONS = (1, 25)
"""From this version a peer may have several connections, each announced by its own ``DeviceConnected``."""


@dataclass
class Folder:
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

    def set_errors(self, errors: Any) -> None:
        """The errors from ``folder/errors`` or ``FolderErrors`` (a list of ``{path, error}``)."""
        records = [e for e in errors or [] if isinstance(e, Mapping)]
        self.errors = len(records)
        self.file_error = _error_text(records[0]) if records else None
        self.errors_unread = False

    def apply_summary(self, summary: Mapping[str, Any]) -> None:
        """Read a ``FolderSummary`` event's summary or a ``db/status`` answer (the same object)."""
        self.global_bytes = as_int(summary.get("globalBytes"))
        self.global_items = as_int(summary.get("globalTotalItems", summary.get("globalFiles")))
        self.global_files = as_int(summary.get("globalFiles"))
        self.local_bytes = as_int(summary.get("localBytes"))
        self.local_files = as_int(summary.get("localFiles"))
        errors = as_int(summary.get("errors"))
        if errors == 0:
            self.errors, self.file_error = 0, None
        elif errors != self.errors or self.file_error is None:
            self.errors_unread = True
        self.need_bytes = as_int(summary.get("needBytes"))
        self.need_items = as_int(summary.get("needTotalItems", summary.get("needFiles")))
        self.sequence = as_int(summary.get("sequence")) or self.sequence
        state = summary.get("state")
        if isinstance(state, str) and state:
            self.state = state
        self.error = str(summary.get("error") or summary.get("invalid") or "") or None
        total = self.global_bytes
        self.completion = 100.0 if total <= 0 else 100.0 * (total - min(self.need_bytes, total)) / total


@dataclass
class Device:
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


class SyncthingModel:
    """Folders, peers and system status as the snapshot and events left them, and the jobs last published."""

    def __init__(self) -> None:
        self.my_id: str | None = None
        self.folders: dict[str, Folder] = {}
        self.devices: dict[str, Device] = {}
        self.published: dict[str, Transfer] = {}
        """Each job as last published: what readers see, never half an event batch."""
        self.published_folder_states: dict[str, str] = {}
        """Folder states as of :attr:`published`."""
        self.system: dict[str, Any] = {}
        """Version, start time, discovery and relay status (``Status.extra``)."""
        self.system_stale = False
        """Set by an event that changes what ``system/status`` says (a relay connected or dropped)."""
        self.restarted = False
        """Set when ``system/status`` shows a new start time: the backend follows the daemon afresh."""
        self.seen_stale = True
        """Set when the peers' last-seen times (``stats/device``) must be read again."""
        self.revision = 0
        """Bumped whenever what the backend's ``update()`` returns changed."""
        self._announced: dict[str, int] = {}
        self._primed = False
        self._multiple_connections = False

    def load_config(self, config: Mapping[str, Any]) -> None:
        """Folders and devices from a config object (``GET /rest/config`` or ``ConfigSaved``)."""
        folders: dict[str, Folder] = {}
        for record in config.get("folders") or []:
            folder_id = str(record.get("id", ""))
            if not folder_id:
                continue
            folder = self.folders.get(folder_id) or Folder(folder_id)
            folder.label = str(record.get("label") or folder_id)
            folder.path = str(record.get("path") or "")
            folder.type = str(record.get("type") or "sendreceive")
            folder.paused = bool(record.get("paused", False))
            folder.devices = tuple(
                str(d.get("deviceID")) for d in record.get("devices") or [] if d.get("deviceID") != self.my_id
            )
            folders[folder_id] = folder
        devices: dict[str, Device] = {}
        for record in config.get("devices") or []:
            device_id = str(record.get("deviceID", ""))
            if not device_id or device_id == self.my_id:
                continue
            device = self.devices.get(device_id) or Device(device_id)
            device.name = str(record.get("name") or device_id[:7])
            device.paused = bool(record.get("paused", False))
            devices[device_id] = device
        self.folders = folders
        self.devices = devices

    def set_system(self, status: Mapping[str, Any], version: str | None = None) -> None:
        """Start time, discovery and relay status from ``system/status``; the version when it was read too."""
        system = dict(self.system)
        if version is not None:
            system["version"] = version.removeprefix("v")
            self._multiple_connections = parse_version(version) >= MULTIPLE_CONNECTIONS
        system["start_time"] = parse_time(status.get("startTime"))
        known = self.system.get("start_time")
        if known is not None and system["start_time"] not in (None, known):
            # A restarted daemon, seen by the periodic read: the event stream may be waiting above
            # the new process's ids, and what changed meanwhile was never sent.
            self.restarted = True
        system["discovery"] = _discovery_status(status)
        system["relays"] = _relay_status(status)
        if system != self.system:
            self.system = system
            self.revision += 1
        self.system_stale = False

    # ------------------------------------------------------------------ events

    def apply(self, event: SyncthingEvent) -> set[str]:
        """Fold one event into the model; returns folders whose completion must be re-read."""
        data = event.data
        kind = event.type
        if kind == "StateChanged":
            folder = self.folders.get(str(data.get("folder")))
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
            folder = self.folders.get(str(data.get("folder")))
            summary = data.get("summary")
            if folder is not None and isinstance(summary, dict):
                folder.apply_summary(summary)
        elif kind in ("LocalIndexUpdated", "RemoteIndexUpdated"):
            folder = self.folders.get(str(data.get("folder")))
            if folder is not None:
                folder.index_changed = True
                if kind == "LocalIndexUpdated":
                    folder.sequence = max(folder.sequence, as_int(data.get("sequence")))
        elif kind == "FolderCompletion":
            folder = self.folders.get(str(data.get("folder")))
            peer = str(data.get("device", ""))
            if folder is not None and peer in self.devices:
                folder.peers[peer] = dict(data)
                if as_int(data.get("needItems")) + as_int(data.get("needDeletes")) + as_int(data.get("needBytes")) > 0:
                    self.devices[peer].synced = True
        elif kind == "FolderErrors":
            folder = self.folders.get(str(data.get("folder")))
            if folder is not None:
                folder.set_errors(data.get("errors"))
        elif kind == "ItemFinished":
            folder = self.folders.get(str(data.get("folder")))
            if folder is not None:
                folder.synced = True
        elif kind == "DeviceConnected":
            device = self.devices.get(str(data.get("id")))
            if device is not None:
                device.last_seen = event.time or device.last_seen
                # From 1.25 a peer's extra connections are announced too; the first one stays its primary.
                if not (self._multiple_connections and device.connected):
                    device.address = str(data.get("addr") or device.address)
                    device.connection_type = str(data.get("type") or "")
                    device.client_version = str(data.get("clientVersion") or device.client_version)
                device.connected = True
        elif kind == "DeviceDisconnected":
            device = self.devices.get(str(data.get("id")))
            if device is not None:
                device.connected = False
                device.last_seen = event.time or device.last_seen
                device.connection_type = ""
                device.rates, device.byte_totals = (0, 0), None
        elif kind in ("DevicePaused", "DeviceResumed"):
            device = self.devices.get(str(data.get("device")))
            if device is not None:
                device.paused = kind == "DevicePaused"
                device.connected = device.connected and not device.paused
        elif kind in ("FolderPaused", "FolderResumed"):
            folder = self.folders.get(str(data.get("id")))
            if folder is not None:
                folder.paused = kind == "FolderPaused"
                if not folder.paused:
                    return {folder.id}
        elif kind == "ListenAddressesChanged":
            self.system_stale = True  # a relay connected or dropped: read its status
        elif kind == "ConfigSaved" and "folders" in data and "devices" in data:
            known = set(self.folders)
            self.load_config(data)
            self.seen_stale = True
            return set(self.folders) - known
        return set()

    # ------------------------------------------------------------------ transfers and diffs

    def transfers(self) -> dict[str, Transfer]:
        """Every folder and peer as a job, as the model stands now."""
        transfers = {f"{FOLDER_PREFIX}{f.id}": self._folder_transfer(f) for f in self.folders.values()}
        transfers.update({f"{DEVICE_PREFIX}{d.id}": self._device_transfer(d) for d in self.devices.values()})
        return transfers

    @staticmethod
    def _folder_transfer(folder: Folder) -> Transfer:
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

    def _device_transfer(self, device: Device) -> Transfer:
        """A peer's progress over every unpaused folder shared with it, weighted by bytes."""
        global_bytes = need_bytes = need_items = 0
        folders: list[str] = []
        for folder in self.folders.values():
            record = folder.peers.get(device.id)
            if folder.paused or device.id not in folder.devices or record is None:
                continue
            folders.append(folder.id)
            global_bytes += as_int(record.get("globalBytes"))
            need_bytes += as_int(record.get("needBytes"))
            need_items += as_int(record.get("needItems")) + as_int(record.get("needDeletes"))
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

    def with_rates(self, transfer: Transfer) -> Transfer:
        """A peer's job with the rates last measured (measured apart from the events that build jobs)."""
        device = self.devices.get(transfer.id.removeprefix(DEVICE_PREFIX))
        if not transfer.id.startswith(DEVICE_PREFIX) or device is None:
            return transfer
        return replace(transfer, download_rate=device.rates[0], upload_rate=device.rates[1])

    def diff(self, *, resync: bool = False) -> list[TransferEvent]:
        """Events between the last published jobs and the current ones, which are published from now on.

        A folder is announced complete when it is done after pulling (or, on a resync, when
        its content changed while we were not watching); a peer when it is done after it was
        seen needing data.
        """
        current = self.transfers()
        states = {f.id: "paused" if f.paused else f.state for f in self.folders.values()}
        if states != self.published_folder_states or _changed(self.published, current):
            self.revision += 1
        self.published_folder_states = states
        now = datetime.now(UTC)
        if not self._primed:
            self._primed = True
            self.published = current
            self._announced = {f.id: f.sequence for f in self.folders.values()}
            return []
        events: list[TransferEvent] = []
        for tid, transfer in current.items():
            before = self.published.get(tid)
            previous = before.state if before is not None else None
            if before is None:
                events.append(TransferEvent(TransferEventKind.ADDED, transfer, None, now))
            if transfer.state is TransferState.COMPLETED and self._completes(tid, previous, resync=resync):
                events.append(TransferEvent(TransferEventKind.COMPLETED, transfer, previous, now))
            elif previous is not None and previous != transfer.state:
                kind = TransferEventKind.FAILED if transfer.state is TransferState.FAILED else None
                events.append(TransferEvent(kind or TransferEventKind.STATE_CHANGED, transfer, previous, now))
        for tid, transfer in self.published.items():
            if tid not in current:
                self._announced.pop(tid.removeprefix(FOLDER_PREFIX), None)
                events.append(TransferEvent(TransferEventKind.REMOVED, transfer, transfer.state, now))
        self.published = current
        return events

    def _completes(self, transfer_id: str, previous: TransferState | None, *, resync: bool) -> bool:
        """Whether a job now done is a new completion (each sync cycle once); resets the cycle."""
        if transfer_id.startswith(DEVICE_PREFIX):
            device = self.devices[transfer_id[len(DEVICE_PREFIX) :]]
            synced, device.synced = device.synced, False
            return synced or previous is TransferState.ACTIVE
        folder = self.folders[transfer_id[len(FOLDER_PREFIX) :]]
        changed = folder.sequence != self._announced.get(folder.id)
        self._announced[folder.id] = folder.sequence
        synced, folder.synced = folder.synced, False
        return synced or previous is TransferState.ACTIVE or (changed and (resync or previous is None))

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        """Each job's last published name and state, and the sequence each folder was last judged at.

        Restored, the first snapshot announces once what finished while the caller was away: a
        folder whose content changed (a new sequence) or a job that was active and is done.
        """
        if not self._primed:
            return {}
        return {
            "jobs": {tid: {"name": t.name, "state": t.state.value} for tid, t in self.published.items()},
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
        self.published = last
        self._primed = True


def file_event(data: Mapping[str, Any], at: datetime | None) -> TransferEvent:
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


def as_int(value: Any) -> int:
    """A count from Syncthing's JSON; 0 when it is missing or not a number."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


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
