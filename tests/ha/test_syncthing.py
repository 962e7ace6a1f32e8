"""Syncthing in Home Assistant, on recorded answers: folder and peer devices, pushed events, restarts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.peerdeck.const import DOMAIN
from tests.shared.samples import sample_json

from .devices import peerdeck_device

URL = "http://127.0.0.1:8384"
REST = re.escape(f"{URL}/rest/")
ME = "OH4DIKR-FOHTW6R-LFFWKXU-ONYQS67-MOXNZAC-OFETNDT-DR5WQYQ-ZFZQBQS"
PEER = "3OGYH3P-V72GFVB-DH6PHLE-YZWNOY2-76ID3SP-UL2ECFR-FCTEFQ3-AAWFRAG"
ENTRY_ID = "st1"
COOLDOWN = 10
"""Seconds between refreshes requested for events (the coordinator's debouncer)."""


class RecordedSyncthing:
    """Syncthing's recorded answers; the event long poll answers what the test pushes."""

    def __init__(self, mocked: aioresponses) -> None:
        self.mocked = mocked
        self.config: dict[str, Any] = {
            "folders": sample_json("syncthing", "config_folders"),
            "devices": sample_json("syncthing", "config_devices"),
        }
        self.sequence = 0
        self.events: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self.next_id = 1
        self.down = False
        self.errors: list[dict[str, str]] = []

    def install(self) -> None:
        """Answer every route the backend uses."""
        mocked, repeat = self.mocked, {"repeat": True}
        mocked.get(f"{URL}/rest/system/version", payload=sample_json("syncthing", "system_version"), **repeat)
        status = sample_json("syncthing", "system_status")
        mocked.get(f"{URL}/rest/system/status", callback=lambda *a, **k: self._ok(status), **repeat)
        scans = sample_json("syncthing", "stats_folder")
        mocked.get(f"{URL}/rest/stats/folder", callback=lambda *a, **k: self._ok(scans), **repeat)
        mocked.get(re.compile(rf"^{REST}folder/errors\?.*$"), callback=self._errors, **repeat)
        mocked.get(f"{URL}/rest/config/devices", callback=lambda *a, **k: self._ok(self.config["devices"]), **repeat)
        mocked.get(f"{URL}/rest/config", callback=lambda *a, **k: self._ok(self.config), **repeat)
        connections = sample_json("syncthing", "system_connections")
        mocked.get(f"{URL}/rest/system/connections", payload=connections, **repeat)
        mocked.get(f"{URL}/rest/stats/device", payload=sample_json("syncthing", "stats_device"), **repeat)
        mocked.get(re.compile(rf"^{REST}db/completion\?.*$"), callback=self._completion, **repeat)
        mocked.get(re.compile(rf"^{REST}db/status\?.*$"), callback=self._status, **repeat)
        mocked.get(re.compile(rf"^{REST}events\?.*$"), callback=self._events, **repeat)

    def _ok(self, payload: Any) -> CallbackResult:
        if self.down:
            raise aiohttp.ClientConnectionError("refused")
        return CallbackResult(payload=payload)

    def _errors(self, url: Any, **kwargs: Any) -> CallbackResult:
        return self._ok({"folder": url.query.get("folder"), "errors": self.errors, "page": 1, "perpage": 65536})

    def _status(self, url: Any, **kwargs: Any) -> CallbackResult:
        return self._ok({**sample_json("syncthing", "db_status"), "sequence": self.sequence})

    def _completion(self, url: Any, **kwargs: Any) -> CallbackResult:
        """A peer's completion (this device's own comes with ``db/status``)."""
        return self._ok(sample_json("syncthing", "db_completion_remote"))

    async def _events(self, url: Any, **kwargs: Any) -> CallbackResult:
        if self.down:
            await asyncio.sleep(0.01)
            raise aiohttp.ClientConnectionError("refused")
        if url.query.get("timeout") == "0":
            return CallbackResult(payload=[])
        return CallbackResult(payload=await self.events.get())

    def push(self, *events: tuple[str, dict[str, Any]]) -> None:
        """Let the next long poll answer these events (type, data)."""
        batch = []
        for kind, data in events:
            batch.append({"id": self.next_id, "type": kind, "time": "2026-11-23T10:00:00Z", "data": data})
            self.next_id += 1
        self.events.put_nowait(batch)


@pytest.fixture
async def syncthing() -> AsyncIterator[RecordedSyncthing]:
    with aioresponses() as mocked:
        daemon = RecordedSyncthing(mocked)
        daemon.install()
        yield daemon


@pytest.fixture
async def entry(hass: HomeAssistant, syncthing: RecordedSyncthing) -> AsyncIterator[MockConfigEntry]:
    """A Syncthing entry, set up; unloaded at the end so no poll outlives the test."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Syncthing (127.0.0.1:8384)",
        data={"kind": "syncthing", "url": URL, "api_key": "key", "verify_ssl": True, "timeout": 10},
        unique_id=ME,
        entry_id=ENTRY_ID,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def until(hass: HomeAssistant, check: Callable[[], bool]) -> None:
    """Let the background event follower work (past refresh cooldowns) until ``check`` holds."""
    for _ in range(500):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=COOLDOWN))
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def entity(hass: HomeAssistant, platform: str, job: str, key: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{ENTRY_ID}_{job}_{key}")


def state(hass: HomeAssistant, platform: str, job: str, key: str) -> str | None:
    entity_id = entity(hass, platform, job, key)
    found = hass.states.get(entity_id) if entity_id else None
    return found.state if found else None


async def test_folders_and_peers_are_devices_under_the_daemon(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    devices = dr.async_get(hass)
    daemon = peerdeck_device(hass, ENTRY_ID, ENTRY_ID)
    assert daemon is not None
    children = {d.name: d for d in dr.async_entries_for_config_entry(devices, ENTRY_ID) if d.id != daemon.id}
    assert set(children) == {"Default Folder", "Demo", "B"}
    assert {d.via_device_id for d in children.values()} == {daemon.id}
    assert children["B"].model == "Syncthing peer"
    assert children["Demo"].model == "Syncthing folder"

    assert state(hass, "sensor", "folder:demo", "folder_state") == "idle"
    assert state(hass, "sensor", "folder:demo", "completion") == "100.0"
    assert state(hass, "binary_sensor", f"device:{PEER}", "connected") == STATE_ON
    assert state(hass, "sensor", f"device:{PEER}", "completion") == "100.0"
    assert state(hass, "sensor", f"device:{PEER}", "last_seen") == "2026-11-22T23:49:13+00:00"
    # A refresh reads the stream's model (no request while idle): at the refresh interval, not a backstop.
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 30


async def test_pushed_events_move_entities_and_fire_once(
    hass: HomeAssistant, entry: MockConfigEntry, syncthing: RecordedSyncthing
) -> None:
    coordinator = entry.runtime_data.coordinator
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    syncthing.push(("StateChanged", {"folder": "demo", "from": "idle", "to": "syncing"}))
    await until(hass, lambda: state(hass, "sensor", "folder:demo", "folder_state") == "syncing")
    assert coordinator.update_interval.total_seconds() == 30

    syncthing.push(
        ("ItemFinished", {"folder": "demo", "item": "new.txt", "type": "file", "action": "update", "error": None}),
        ("StateChanged", {"folder": "demo", "from": "syncing", "to": "idle"}),
    )
    await until(hass, lambda: state(hass, "sensor", "folder:demo", "folder_state") == "idle")
    await until(hass, lambda: len(completed) == 1)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # The folder's completion is announced once; single files are not (a big sync would flood the bus).
    assert [e.data["id"] for e in completed] == ["folder:demo"]
    assert coordinator.update_interval.total_seconds() == 30

    syncthing.push(("DeviceDisconnected", {"id": PEER, "error": "closed"}))
    await until(hass, lambda: state(hass, "binary_sensor", f"device:{PEER}", "connected") == STATE_OFF)
    assert state(hass, "sensor", f"device:{PEER}", "last_seen") == "2026-11-23T10:00:00+00:00"


async def test_folder_states_without_a_transfer_event_still_show(
    hass: HomeAssistant, entry: MockConfigEntry, syncthing: RecordedSyncthing
) -> None:
    syncthing.push(("StateChanged", {"folder": "demo", "from": "idle", "to": "scanning"}))
    await until(hass, lambda: state(hass, "sensor", "folder:demo", "folder_state") == "scanning")
    syncthing.push(("StateChanged", {"folder": "demo", "from": "scanning", "to": "idle"}))
    await until(hass, lambda: state(hass, "sensor", "folder:demo", "folder_state") == "idle")


async def test_new_folders_get_entities_and_removed_peers_are_cleaned_up(
    hass: HomeAssistant, entry: MockConfigEntry, syncthing: RecordedSyncthing
) -> None:
    peer_device = peerdeck_device(hass, ENTRY_ID, f"{ENTRY_ID}_device:{PEER}")
    assert peer_device is not None
    peer_connected = entity(hass, "binary_sensor", f"device:{PEER}", "connected")
    removed = async_capture_events(hass, "peerdeck_transfer_removed")
    music = {"id": "music", "label": "Music", "path": "/music", "type": "sendreceive", "devices": [{"deviceID": ME}]}
    syncthing.config = {
        "folders": [*syncthing.config["folders"], music],
        "devices": [d for d in syncthing.config["devices"] if d["deviceID"] != PEER],
    }
    syncthing.push(("ConfigSaved", syncthing.config))
    await until(hass, lambda: state(hass, "sensor", "folder:music", "folder_state") == "idle")
    await until(hass, lambda: dr.async_get(hass).async_get(peer_device.id) is None)
    assert peer_connected is not None
    assert er.async_get(hass).async_get(peer_connected) is None
    assert hass.states.get(peer_connected) is None
    assert [e.data["id"] for e in removed] == [f"device:{PEER}"]
    assert peerdeck_device(hass, ENTRY_ID, f"{ENTRY_ID}_folder:music") is not None


async def test_a_sync_while_home_assistant_was_down_fires_once(
    hass: HomeAssistant, entry: MockConfigEntry, syncthing: RecordedSyncthing
) -> None:
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    assert await hass.config_entries.async_unload(entry.entry_id)
    syncthing.sequence = 7  # both folders took in changes while Home Assistant was down
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(e.data["id"] for e in completed) == ["folder:default", "folder:demo"]
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert len(completed) == 2


async def test_entities_are_unavailable_while_the_event_stream_is_down(
    hass: HomeAssistant, entry: MockConfigEntry, syncthing: RecordedSyncthing
) -> None:
    coordinator = entry.runtime_data.coordinator
    syncthing.down = True
    syncthing.push()  # wakes the pending long poll, whose answer the next poll no longer gets
    await until(hass, lambda: not entry.runtime_data.backend.stream.connected)
    await coordinator.async_refresh()
    assert state(hass, "sensor", "folder:demo", "folder_state") == STATE_UNAVAILABLE
    assert coordinator.update_interval.total_seconds() == 30
    syncthing.down = False
    await until(hass, lambda: entry.runtime_data.backend.stream.connected)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, "sensor", "folder:demo", "folder_state") == "idle"


async def soon(hass: HomeAssistant, check: Callable[[], bool]) -> None:
    """Like :func:`until`, but firing time only a second ahead: what shows must not wait out a long cooldown."""
    for _ in range(300):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_folder_details_and_daemon_sensors(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    folder = "folder:demo"
    global_bytes = sample_json("syncthing", "db_status")["globalBytes"]
    assert float(state(hass, "sensor", folder, "global_bytes") or 0) == pytest.approx(global_bytes / 2**20)  # MiB
    assert state(hass, "sensor", folder, "need_items") == "0"
    assert state(hass, "sensor", folder, "errors") == "0"
    assert state(hass, "sensor", folder, "last_error") == ""
    assert state(hass, "sensor", folder, "local_files") is None  # disabled by default: it moves with every file
    assert state(hass, "sensor", f"device:{PEER}", "address_type") == "direct"
    assert state(hass, "sensor", f"device:{PEER}", "in_rate") is None  # disabled by default

    def daemon(key: str) -> str | None:
        entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{ENTRY_ID}_{key}")
        found = hass.states.get(entity_id) if entity_id else None
        return found.state if found else None

    assert daemon("start_time") == "2026-11-22T23:48:56+00:00"
    assert (daemon("discovery"), daemon("relays")) == ("disabled", "disabled")


async def test_a_scan_and_its_changes_show_within_a_second(
    hass: HomeAssistant, entry: MockConfigEntry, syncthing: RecordedSyncthing
) -> None:
    """Each step of a scan shows at once, not after the 10 s cooldown of a polled integration."""
    folder = "folder:demo"
    syncthing.push(("StateChanged", {"folder": "demo", "from": "idle", "to": "scanning"}))
    await soon(hass, lambda: state(hass, "sensor", folder, "folder_state") == "scanning")
    summary = {**sample_json("syncthing", "db_status"), "globalFiles": 3, "localFiles": 3, "errors": 1}
    syncthing.errors = [{"path": "locked.txt", "error": "permission denied"}]
    syncthing.push(
        ("StateChanged", {"folder": "demo", "from": "scanning", "to": "idle"}),
        ("FolderSummary", {"folder": "demo", "summary": summary}),
    )
    await soon(
        hass,
        lambda: (
            state(hass, "sensor", folder, "folder_state") == "idle"
            and state(hass, "sensor", folder, "global_files") == "3"
        ),
    )
    assert state(hass, "sensor", folder, "errors") == "1"
    assert state(hass, "sensor", folder, "last_error") == "locked.txt: permission denied"
    syncthing.push(("FolderSummary", {"folder": "demo", "summary": {**summary, "errors": 0}}))
    await soon(hass, lambda: state(hass, "sensor", folder, "errors") == "0")
    assert state(hass, "sensor", folder, "last_error") == ""
