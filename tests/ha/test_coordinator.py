"""The coordinator: failures, recovery, reauth, repair issues, and exactly-once transfer events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.peerdeck.const import DOMAIN, EVENT_RETRY_MIN
from peerdeck import (
    BackendInfo,
    BackendKind,
    Capabilities,
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckConnectionError,
    PeerdeckRateLimitedError,
    Transfer,
    TransferEvent,
    TransferEventKind,
    TransferState,
    TransferTracker,
)

from .fake_backend import FakeBackend

HASH_A = "a" * 40
HASH_B = "b" * 40


def entity_id(hass: HomeAssistant, platform: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"entry1_{key}")
    assert found is not None
    return found


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


def capture_all(hass: HomeAssistant) -> dict[str, list[Event[Any]]]:
    return {
        kind: async_capture_events(hass, f"peerdeck_transfer_{kind}")
        for kind in ("added", "completed", "failed", "removed")
    }


async def test_unavailable_then_recovered(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, caplog: Any
) -> None:
    speed = entity_id(hass, "sensor", "download_speed")
    assert hass.states.get(speed).state == "1.5"
    backend.error = PeerdeckConnectionError("refused")
    await refresh(hass, loaded_entry)
    assert hass.states.get(speed).state == STATE_UNAVAILABLE
    await refresh(hass, loaded_entry)
    # Logged once when it becomes unavailable (newer Home Assistant adds the traceback at debug level).
    reported = [
        r for r in caplog.records if r.levelno >= logging.INFO and "Could not refresh qBittorrent" in r.getMessage()
    ]
    assert len(reported) == 1
    backend.error = None
    await refresh(hass, loaded_entry)
    assert hass.states.get(speed).state == "1.5"
    assert caplog.text.count("Fetching peerdeck qBittorrent (127.0.0.1:8080) data recovered") == 1


async def test_rejected_credentials_start_reauth(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.error = PeerdeckAuthenticationError("rejected")
    await refresh(hass, loaded_entry)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert hass.states.get(entity_id(hass, "sensor", "download_speed")).state == STATE_UNAVAILABLE


async def test_ban_raises_and_clears_repair_issue(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    issues = ir.async_get(hass)
    backend.error = PeerdeckBannedError("banned")
    await refresh(hass, loaded_entry)
    issue = issues.async_get_issue(DOMAIN, "banned_entry1")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {"daemon": "qBittorrent", "title": loaded_entry.title}
    backend.error = None
    await refresh(hass, loaded_entry)
    assert issues.async_get_issue(DOMAIN, "banned_entry1") is None


async def test_rate_limit_retries_later(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    backend.error = PeerdeckRateLimitedError("slow down", retry_after=30)
    await refresh(hass, loaded_entry)
    assert isinstance(coordinator.last_exception, UpdateFailed)
    assert coordinator.last_exception.retry_after == 30
    assert loaded_entry.state is ConfigEntryState.LOADED


async def test_transfer_events_on_bus_and_entity(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    events = capture_all(hass)
    event_entity = entity_id(hass, "event", "transfer")
    assert hass.states.get(event_entity).state == STATE_UNKNOWN

    backend.add(HASH_A, "ubuntu.iso", size=1000, save_path="/data", category="linux", tags=("iso", "big"))
    await refresh(hass, loaded_entry)
    assert len(events["added"]) == 1
    assert events["added"][0].data == {
        "entry_id": "entry1",
        "daemon": "qbittorrent",
        "id": HASH_A,
        "name": "ubuntu.iso",
        "state": "active",
        "previous_state": None,
        "progress": 0.0,
        "size": 1000,
        "path": "/data",
        "category": "linux",
        "tags": ["iso", "big"],
        "download_rate": 0,
        "upload_rate": 0,
        "eta": None,
        "added_at": None,
        "completed_at": None,
    }
    state = hass.states.get(event_entity)
    assert state.attributes["event_type"] == "added"
    assert state.attributes["name"] == "ubuntu.iso"

    backend.set_state(HASH_A, TransferState.PAUSED)
    await refresh(hass, loaded_entry)
    assert [len(found) for found in events.values()] == [1, 0, 0, 0]

    backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
    backend.add(HASH_B, "broken.iso")
    await refresh(hass, loaded_entry)
    backend.set_state(HASH_B, TransferState.FAILED)
    await refresh(hass, loaded_entry)
    assert len(events["completed"]) == 1
    assert events["completed"][0].data["previous_state"] == "paused"
    assert [e.data["name"] for e in events["failed"]] == ["broken.iso"]

    backend.items.clear()
    await refresh(hass, loaded_entry)
    assert sorted(e.data["name"] for e in events["removed"]) == ["broken.iso", "ubuntu.iso"]
    assert hass.states.get(event_entity).attributes["event_type"] == "removed"


async def test_a_burst_of_adds_is_one_event_each_on_the_bus_and_one_entity_state_write(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    events = capture_all(hass)
    event_entity = entity_id(hass, "event", "transfer")
    writes = async_capture_events(hass, EVENT_STATE_CHANGED)
    for index in range(200):  # added elsewhere, all seen by one refresh
        backend.add(f"{index:040x}", f"burst-{index}.iso")
    backend.add(HASH_A, "done-at-once.iso", TransferState.COMPLETED, progress=1.0)
    await refresh(hass, loaded_entry)
    assert len(events["added"]) == 201
    assert [e.data["id"] for e in events["completed"]] == [HASH_A]
    entity_writes = [e for e in writes if e.data["entity_id"] == event_entity]
    assert len(entity_writes) == 1
    state = entity_writes[0].data["new_state"]
    assert state.attributes["event_type"] == "completed"  # the last of them, with the whole burst counted
    assert state.attributes["id"] == HASH_A
    assert state.attributes["batch"] == {"added": 201, "completed": 1}

    backend.set_state(HASH_A, TransferState.PAUSED)
    backend.items.pop(HASH_A)
    await refresh(hass, loaded_entry)
    assert "batch" not in hass.states.get(event_entity).attributes  # a single event shows as it is


async def test_a_restarted_daemons_version_is_read_again(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    def daemon_device() -> dr.DeviceEntry:
        devices = dr.async_entries_for_config_entry(dr.async_get(hass), loaded_entry.entry_id)
        return next(device for device in devices if (DOMAIN, loaded_entry.entry_id) in device.identifiers)

    assert daemon_device().sw_version == "4.5.2"
    backend.backend_info = BackendInfo(kind=BackendKind.QBITTORRENT, version="5.3.0", api_version="2.11.4")
    await refresh(hass, loaded_entry)
    assert loaded_entry.runtime_data.coordinator.info.version == "4.5.2"  # no restart: not read again
    backend.restarted = True  # upgraded, restarted: read by the refresh that saw it, not a backstop interval later
    await refresh(hass, loaded_entry)
    assert loaded_entry.runtime_data.coordinator.info.version == "5.3.0"
    assert daemon_device().sw_version == "5.3.0"


async def _restart(hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend) -> None:
    """Stop the entry, and give the daemon's backend a fresh tracker as a new process would have."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    backend.tracker = TransferTracker()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_completion_fired_exactly_once_across_restarts(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    added = async_capture_events(hass, "peerdeck_transfer_added")
    backend.add(HASH_A, "seen-before.iso", TransferState.ACTIVE, progress=0.5)
    backend.add(HASH_B, "done-while-up.iso", TransferState.ACTIVE, progress=0.5)
    await refresh(hass, loaded_entry)
    backend.set_state(HASH_B, TransferState.COMPLETED, progress=1.0)
    await refresh(hass, loaded_entry)
    assert [e.data["name"] for e in completed] == ["done-while-up.iso"]

    # While Home Assistant is down, A completes and C is added and completes.
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    backend.tracker = TransferTracker()
    backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
    backend.add("c" * 40, "added-while-down.iso", TransferState.COMPLETED, progress=1.0)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(e.data["name"] for e in completed) == ["added-while-down.iso", "done-while-up.iso", "seen-before.iso"]
    assert [e.data["name"] for e in added] == ["seen-before.iso", "done-while-up.iso", "added-while-down.iso"]

    await refresh(hass, loaded_entry)
    await _restart(hass, loaded_entry, backend)
    await refresh(hass, loaded_entry)
    assert len(completed) == 3
    assert len(added) == 3


async def test_completion_while_daemon_unreachable_is_not_lost(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    backend.add(HASH_A, "ubuntu.iso")
    await refresh(hass, loaded_entry)
    backend.error = PeerdeckConnectionError("down")
    await refresh(hass, loaded_entry)
    backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
    backend.error = None
    await refresh(hass, loaded_entry)
    await refresh(hass, loaded_entry)
    assert [e.data["name"] for e in completed] == ["ubuntu.iso"]


async def test_first_start_announces_nothing_old(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: Any
) -> None:
    events = capture_all(hass)
    backend.add(HASH_A, "old.iso", TransferState.COMPLETED, progress=1.0)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _restart(hass, entry, backend)
    assert all(not found for found in events.values())


class PushingBackend(FakeBackend):
    """A daemon that pushes events; its first event stream fails, its second ends after one event."""

    def __init__(self) -> None:
        super().__init__(capabilities=Capabilities(events_pushed=True))
        self.pushed: asyncio.Queue[TransferEvent] = asyncio.Queue()
        self.streams = 0

    async def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        self.streams += 1
        if self.streams == 1:
            raise PeerdeckConnectionError("stream refused")
        yield await self.pushed.get()
        while self.streams > 2:
            yield await self.pushed.get()


async def set_up_pushing(hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock) -> PushingBackend:
    """The entry, set up against a pushing daemon (its first stream refused)."""
    backend = PushingBackend()
    create_backend.return_value = backend
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return backend


async def test_pushed_events_are_followed_again_after_a_failure(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    backend = await set_up_pushing(hass, entry, create_backend)
    assert backend.streams == 1
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=EVENT_RETRY_MIN))
    await hass.async_block_till_done()
    assert backend.streams == 2
    transfer = Transfer(id=HASH_A, name="pushed.iso", state=TransferState.COMPLETED, progress=1.0)
    backend.pushed.put_nowait(TransferEvent(TransferEventKind.COMPLETED, transfer, TransferState.ACTIVE))
    await hass.async_block_till_done()
    assert [e.data["name"] for e in completed] == ["pushed.iso"]
    await entry.runtime_data.coordinator.async_refresh()
    assert len(completed) == 1
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=EVENT_RETRY_MIN))
    await hass.async_block_till_done()
    assert backend.streams == 3  # followed again after the stream ended
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_events_of_a_refresh_that_finds_the_stream_down_are_still_announced(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    """The update hands its events over once: raising "stream down" must not drop them."""
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    backend = await set_up_pushing(hass, entry, create_backend)
    backend.add(HASH_A, "done.iso", TransferState.ACTIVE)
    await refresh(hass, entry)
    backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
    backend.connected = False  # the event stream broke after the daemon told of the completion
    await refresh(hass, entry)
    assert not entry.runtime_data.coordinator.last_update_success
    backend.connected = True
    await refresh(hass, entry)
    assert [e.data["name"] for e in completed] == ["done.iso"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_events_of_an_update_are_announced_when_a_read_beside_it_fails(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    """The version is read beside the update after a restart; its failure must not drop the update's events."""
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    backend.add(HASH_A, "done.iso", TransferState.ACTIVE)
    await refresh(hass, loaded_entry)
    backend.restarted = True
    backend.info_error = PeerdeckConnectionError("version read timed out")
    await refresh(hass, loaded_entry)  # restarted: the version is read again, and fails
    backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
    await refresh(hass, loaded_entry)  # the update tells the completion; the version read beside it fails
    assert not loaded_entry.runtime_data.coordinator.last_update_success
    backend.info_error = None
    await refresh(hass, loaded_entry)
    assert [e.data["name"] for e in completed] == ["done.iso"]


async def test_url_identified_entry_takes_the_identity_its_daemon_now_shows(
    hass: HomeAssistant, backend: FakeBackend, create_backend: MagicMock
) -> None:
    """Tribler entries made before its IPv8 key was read carried their URL (until migration 1.2); setup gives them
    the key."""
    data = {"kind": "tribler", "url": "http://127.0.0.1:20100/", "api_key": "k"}
    entry = MockConfigEntry(domain=DOMAIN, data=data, unique_id="http://127.0.0.1:20100")
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.4.3", identity="PEERKEY")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.unique_id == "PEERKEY"


async def test_identity_another_entry_has_is_not_taken(
    hass: HomeAssistant, backend: FakeBackend, create_backend: MagicMock
) -> None:
    other = MockConfigEntry(domain=DOMAIN, data={"kind": "tribler", "url": "http://h:20100"}, unique_id="PEERKEY")
    other.add_to_hass(hass)
    data = {"kind": "tribler", "url": "http://127.0.0.1:20100", "api_key": "k"}
    entry = MockConfigEntry(domain=DOMAIN, data=data, unique_id="http://127.0.0.1:20100")
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.4.3", identity="PEERKEY")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.unique_id is None
