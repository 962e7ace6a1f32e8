"""Reliability fixes: catch-up events across a restart, reauth from the event stream, honest actions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.diagnostics import REDACTED
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, STATE_UNAVAILABLE
from homeassistant.core import CoreState, Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.file import WriteError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.peerdeck import coordinator as coordinator_module
from custom_components.peerdeck.const import (
    CATCH_UP_DELAY,
    DEFAULT_SCAN_INTERVALS,
    DOMAIN,
    EVENT_TEXT_LIMIT,
    SAVE_DELAY,
    SAVE_MIN_GAP,
)
from custom_components.peerdeck.diagnostics import async_get_config_entry_diagnostics
from peerdeck import (
    BackendInfo,
    BackendKind,
    Capabilities,
    PeerdeckAuthenticationError,
    PeerdeckConnectionError,
    TransferEvent,
    TransferState,
    Update,
)

from .fake_backend import FakeBackend
from .test_coordinator import HASH_A, HASH_B, entity_id, refresh

REFRESH = DEFAULT_SCAN_INTERVALS[BackendKind.QBITTORRENT]

STORE_KEY = "peerdeck.entry1.transfers"


def stored_while_down(hass_storage: dict[str, Any]) -> None:
    """What the store held when Home Assistant stopped: A was downloading."""
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": {HASH_A: {"name": "long-download.iso", "state": "active", "done": False}},
    }


async def start_home_assistant(hass: HomeAssistant) -> None:
    """Home Assistant finishes starting (as its bootstrap does), and the catch-up delay passes."""
    await hass.async_start()
    await hass.async_block_till_done()
    assert hass.state is CoreState.running
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CATCH_UP_DELAY))
    await hass.async_block_till_done()


async def set_up_before_start(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, hass_storage: dict[str, Any]
) -> list[Event]:
    """A download that completed while Home Assistant was down, and the entry set up before HA has started;
    returns the completion events captured from then on."""
    stored_while_down(hass_storage)
    backend.add(HASH_A, "long-download.iso", TransferState.COMPLETED, progress=1.0)
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    hass.set_state(CoreState.not_running)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return completed


async def test_completion_while_stopped_is_announced_after_start(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    backend: FakeBackend,
    create_backend: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    completed = await set_up_before_start(hass, entry, backend, hass_storage)

    # Set up, but Home Assistant has not started: automations do not listen yet.
    assert completed == []
    assert hass_storage[STORE_KEY]["data"][HASH_A]["done"] is False
    event_entity = entity_id(hass, "event", "transfer")
    assert hass.states.get(event_entity) is not None

    await start_home_assistant(hass)
    assert [e.data["name"] for e in completed] == ["long-download.iso"]
    assert hass.states.get(event_entity).attributes["event_type"] == "completed"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CATCH_UP_DELAY + SAVE_DELAY))
    await hass.async_block_till_done()
    assert hass_storage[STORE_KEY]["data"][HASH_A]["done"] is True
    await refresh(hass, entry)
    assert len(completed) == 1


async def test_held_events_survive_a_stop_before_start(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    backend: FakeBackend,
    create_backend: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    completed = await set_up_before_start(hass, entry, backend, hass_storage)
    await refresh(hass, entry)  # a refresh while held persists nothing either
    # Home Assistant stops again before it had started.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert completed == []
    assert hass_storage[STORE_KEY]["data"][HASH_A]["done"] is False

    # The next start (already running when the entry is set up: at once) delivers it, once.
    hass.set_state(CoreState.running)
    backend.tracker = type(backend.tracker)()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert [e.data["name"] for e in completed] == ["long-download.iso"]
    await refresh(hass, entry)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CATCH_UP_DELAY))
    await hass.async_block_till_done()
    assert len(completed) == 1


class RejectingStreamBackend(FakeBackend):
    """A pushing daemon whose event stream refuses the key (Syncthing's 403, Tribler's 401)."""

    def __init__(self) -> None:
        super().__init__(capabilities=Capabilities(events_pushed=True))
        self.streams = 0

    async def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        self.streams += 1
        raise PeerdeckAuthenticationError("Syncthing refused the API key (403 CSRF Error)")
        yield  # pragma: no cover - makes this an async generator


async def test_stream_auth_failure_starts_reauth_at_once(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    backend = RejectingStreamBackend()
    create_backend.return_value = backend
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert backend.streams == 1  # not one retry more, let alone the 5-minute backstop poll
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert hass.states.get(entity_id(hass, "sensor", "connection")).state == STATE_UNAVAILABLE
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_failed_event_store_write_is_written_when_home_assistant_stops(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_storage: dict[str, Any]
) -> None:
    """Space freed, then Home Assistant stops before the retry is due: its final write has the state."""

    async def disk_full(store: Store[Any], data: dict[str, Any]) -> None:
        raise WriteError("[Errno 28] No space left on device")

    backend.add(HASH_A, "done.iso", TransferState.COMPLETED, progress=1.0)
    with patch.object(Store, "_async_write_data", disk_full):
        await refresh(hass, loaded_entry)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_MIN_GAP + 1))
        await hass.async_block_till_done()
    assert HASH_A not in hass_storage.get(STORE_KEY, {}).get("data", {})
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert hass_storage[STORE_KEY]["data"][HASH_A]["done"] is True


@pytest.fixture
def store_writes(hass_storage: dict[str, Any]) -> Iterator[list[set[str]]]:
    """The transfers each write of the event state held."""
    writes: list[set[str]] = []
    write = Store._async_write_data

    async def counted(store: Store[Any], data: dict[str, Any]) -> None:
        await write(store, data)
        if store.key == STORE_KEY:
            writes.append(set(hass_storage[STORE_KEY]["data"]))

    with patch.object(Store, "_async_write_data", counted):
        yield writes


@dataclass
class WrittenBox:
    """An entry whose refresh wrote its first event, with the clock that moves it."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    entry: MockConfigEntry
    backend: FakeBackend
    writes: list[set[str]]

    async def refresh(self, *, after: float = 0) -> None:
        self.freezer.tick(after)
        await refresh(self.hass, self.entry)


@pytest.fixture
async def written_box(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,  # before the entry: freezing moves the clock
    loaded_entry: MockConfigEntry,
    backend: FakeBackend,
    store_writes: list[set[str]],
) -> WrittenBox:
    box = WrittenBox(hass, freezer, loaded_entry, backend, store_writes)
    backend.add(HASH_A, "first.iso", TransferState.ACTIVE)
    await box.refresh()
    assert store_writes == [{HASH_A}]  # a quiet box's first event is written by its refresh
    return box


async def test_a_busy_box_writes_the_event_state_at_most_once_per_gap_within_a_refresh(
    written_box: WrittenBox,
) -> None:
    """Events at every refresh (torrents added all day) are written together, not one write per refresh; what
    waits is written by the refresh nearest the end of the gap (no wake-up of its own), and nothing is lost."""
    box = written_box
    box.backend.add(HASH_B, "second.iso", TransferState.ACTIVE)
    for _ in range(SAVE_MIN_GAP // REFRESH - 1):
        await box.refresh(after=REFRESH)
        assert box.writes == [{HASH_A}]  # the next waits for the gap
    await box.refresh(after=REFRESH)
    assert box.writes == [{HASH_A}, {HASH_A, HASH_B}]


async def test_a_waiting_write_is_made_when_refreshes_stop(written_box: WrittenBox) -> None:
    """The store's own timer is the backstop: one interval after the gap, with or without a refresh."""
    box, hass = written_box, written_box.hass
    box.backend.add(HASH_B, "second.iso", TransferState.ACTIVE)
    await box.refresh()
    await box.entry.runtime_data.coordinator.async_shutdown()  # no refresh any more
    box.freezer.tick(SAVE_MIN_GAP)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=REFRESH - 1))
    await hass.async_block_till_done()
    assert box.writes == [{HASH_A}]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=REFRESH + 1))
    await hass.async_block_till_done()
    assert box.writes == [{HASH_A}, {HASH_A, HASH_B}]


async def test_a_reload_while_writes_fail_announces_nothing_again(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, hass_storage: dict[str, Any]
) -> None:
    """The state a failed write still holds is what a reload reads, and what its retry writes later is not
    older than the reloaded entry's."""

    async def disk_full(store: Store[Any], data: dict[str, Any]) -> None:
        raise WriteError("[Errno 28] No space left on device")

    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    backend.add(HASH_A, "done.iso", TransferState.ACTIVE)
    await refresh(hass, loaded_entry)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY + 1))
    await hass.async_block_till_done()
    assert hass_storage[STORE_KEY]["data"][HASH_A]["done"] is False
    with patch.object(Store, "_async_write_data", disk_full):
        backend.set_state(HASH_A, TransferState.COMPLETED, progress=1.0)
        await refresh(hass, loaded_entry)
        assert await hass.config_entries.async_unload(loaded_entry.entry_id)  # its write fails too
        backend.tracker = type(backend.tracker)()  # the reload's backend is a new one
        assert await hass.config_entries.async_setup(loaded_entry.entry_id)
        await hass.async_block_till_done()
        await refresh(hass, loaded_entry)
    assert [e.data["name"] for e in completed] == ["done.iso"]
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert hass_storage[STORE_KEY]["data"][HASH_A]["done"] is True


class GatedBackend(FakeBackend):
    """A daemon whose refresh answers only once the test opens the gate (slower than set-up waits)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def update(self) -> Update:
        await self.gate.wait()
        return await super().update()


async def set_up_slowly(hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock) -> GatedBackend:
    """The entry set up while its first refresh is still waiting for the daemon."""
    backend = GatedBackend()
    create_backend.return_value = backend
    entry.add_to_hass(hass)
    with patch.object(coordinator_module, "SETUP_WAIT", 0.05):
        assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    return backend


async def test_a_first_refresh_rejected_after_set_up_went_on_starts_reauth(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    backend = await set_up_slowly(hass, entry, create_backend)
    backend.error = PeerdeckAuthenticationError("qBittorrent rejected the username or password")
    backend.gate.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_unload_during_a_slow_first_refresh_stores_no_empty_state(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    create_backend: MagicMock,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    added = async_capture_events(hass, "peerdeck_transfer_added")
    backend = await set_up_slowly(hass, entry, create_backend)
    backend.add(HASH_A, "there-before-peerdeck.iso")
    assert await hass.config_entries.async_unload(entry.entry_id)  # Home Assistant stops meanwhile
    backend.gate.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "Error" not in caplog.text and "Traceback" not in caplog.text
    # The next start knows nothing of the daemon yet: what it holds is no news (an empty state stored
    # by the first start would say "it held nothing", and every transfer would be announced as added).
    backend.tracker = type(backend.tracker)()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await refresh(hass, entry)
    assert added == []
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[STORE_KEY]["data"] == {
        HASH_A: {"name": "there-before-peerdeck.iso", "state": "active", "done": False}
    }


async def test_diagnostics_of_an_entry_waiting_to_retry(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: MagicMock
) -> None:
    backend.error = PeerdeckConnectionError("refused")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["state"] == "setup_retry"
    assert diagnostics["entry"]["data"]["password"] == REDACTED
    assert "status" not in diagnostics


async def test_diagnostics_redact_the_syncthing_device_id(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.extra = {"device_id": "MFZWI3D-BONSGYC", "resyncs": 0}
    await refresh(hass, loaded_entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    assert diagnostics["status"]["extra"] == {"device_id": REDACTED, "resyncs": 0}


@pytest.mark.parametrize("service", ["pause", "resume", "remove"])
async def test_actions_on_unknown_ids_change_nothing(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, service: str
) -> None:
    backend.add(HASH_A, "known.iso")
    await refresh(hass, loaded_entry)
    backend.calls.clear()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, service, {"config_entry_id": "entry1", "ids": [HASH_A.upper(), HASH_B]}, blocking=True
        )
    assert raised.value.translation_key == "unknown_transfers"
    assert raised.value.translation_placeholders == {"daemon": "qBittorrent", "ids": HASH_B, "count": "1"}
    assert backend.calls == []
    assert backend.items[HASH_A].state is TransferState.ACTIVE


async def test_an_id_added_since_the_last_refresh_is_found(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.add(HASH_A, "just-added.iso")
    await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": "entry1", "ids": [HASH_A]}, blocking=True)
    assert backend.calls == [("pause", [HASH_A])]


async def test_an_unknown_id_goes_to_the_daemon_when_the_refresh_fails(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    """Without a fresh list to check against, the daemon's own answer decides (here: it accepts)."""
    backend.add(HASH_A, "just-added.iso")
    with patch.object(backend, "update", side_effect=PeerdeckConnectionError("timed out")):
        await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": "entry1", "ids": [HASH_A]}, blocking=True)
    assert not loaded_entry.runtime_data.coordinator.last_update_success
    assert backend.calls == [("pause", [HASH_A])]


async def test_a_burst_naming_new_ids_refreshes_once(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.add(HASH_A, "just-added.iso")
    reads = 0
    update = backend.update

    async def counted_update() -> Any:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0)  # a real read yields to the other calls
        return await update()

    backend.update = counted_update  # type: ignore[method-assign]
    calls = [
        hass.services.async_call(DOMAIN, "pause", {"config_entry_id": "entry1", "ids": [HASH_A]}, blocking=True)
        for _ in range(30)
    ]
    await asyncio.gather(*calls)
    assert [call[0] for call in backend.calls] == ["pause"] * 30
    assert reads <= 2  # one shared look-up (and at most one debounced refresh after the actions), not 30


async def test_event_payloads_are_bounded(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    added = async_capture_events(hass, "peerdeck_transfer_added")
    backend.add(HASH_A, "n" * 10_000_000, category="c" * 100_000, tags=tuple(f"t{i}" for i in range(500)))
    await refresh(hass, loaded_entry)
    (event,) = added
    assert len(event.data["name"]) == EVENT_TEXT_LIMIT
    assert event.data["name"].endswith("…")
    assert len(event.data["category"]) == EVENT_TEXT_LIMIT
    assert len(event.data["tags"]) == 50


@pytest.mark.parametrize(("taken", "expected"), [(False, "PEERKEY"), (True, None)], ids=["free", "taken"])
async def test_entry_without_identity_takes_the_one_its_daemon_now_shows(
    hass: HomeAssistant, backend: FakeBackend, create_backend: MagicMock, taken: bool, expected: str | None
) -> None:
    """A 1.1 Tribler entry identified by its URL: migrated to no unique id, then given the core's key at set-up,
    unless another entry has it."""
    if taken:
        MockConfigEntry(
            domain=DOMAIN, data={"kind": "tribler", "url": "http://h:20100"}, unique_id="PEERKEY", minor_version=2
        ).add_to_hass(hass)
    data = {"kind": "tribler", "url": "http://127.0.0.1:20100/", "api_key": "k"}
    entry = MockConfigEntry(domain=DOMAIN, data=data, unique_id="http://127.0.0.1:20100", minor_version=1)
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.4.3", identity="PEERKEY")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.unique_id == expected
