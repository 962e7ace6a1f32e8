"""End to end against two real linked syncthing daemons on 127.0.0.1: entities, a sync, pause, outage."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_capture_events, async_fire_time_changed

from custom_components.peerdeck.const import DOMAIN
from peerdeck.syncthing import SyncthingClient
from tests.shared.syncthing.syncthing_daemons import SyncthingDaemon, running_pair

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("socket_enabled")]

FOLDER = "folder:shared"
COOLDOWN = 10
"""Seconds between refreshes requested for events (the coordinator's debouncer), skipped by firing time."""
TIMEOUT = 30
"""The entry's request timeout: above ``COOLDOWN``, so firing time never ends a pending request."""


@pytest.fixture
def pair(socket_enabled: None, tmp_path: Path) -> Iterator[tuple[SyncthingDaemon, SyncthingDaemon]]:
    """A and B, started, sharing folder ``shared`` (A: ``data-a``, B: ``data-b``)."""
    with running_pair(tmp_path) as daemons:
        yield daemons


async def add_entry(hass: HomeAssistant, daemon: SyncthingDaemon) -> ConfigEntry:
    """Go through the config flow as a user would."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"kind": "syncthing"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": daemon.url, "api_key": daemon.api_key, "advanced": {"verify_ssl": True, "timeout": TIMEOUT}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def until(
    hass: HomeAssistant, check: Callable[[], bool], *, refresh: ConfigEntry | None = None, attempts: int = 300
) -> None:
    """Let pushed events refresh the entities (past the refresh cooldown) until ``check`` holds.

    With ``refresh``, that entry's coordinator also refreshes each round, as its retry would.
    """
    for _ in range(attempts):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=COOLDOWN))
        if refresh is not None:
            await refresh.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the condition never held")


def entity_id(hass: HomeAssistant, entry: ConfigEntry, platform: str, job: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{job}_{key}")
    assert found is not None
    return found


def state(hass: HomeAssistant, entry: ConfigEntry, platform: str, job: str, key: str) -> str:
    return hass.states.get(entity_id(hass, entry, platform, job, key)).state


async def test_a_sync_pause_and_entities_on_real_daemons(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon], tmp_path: Path
) -> None:
    a, b = pair
    peer = f"device:{a.device_id}"
    entry = await add_entry(hass, b)
    assert entry.unique_id == b.device_id
    await until(hass, lambda: state(hass, entry, "binary_sensor", peer, "connected") == STATE_ON, refresh=entry)
    assert state(hass, entry, "sensor", FOLDER, "folder_state") == "idle"
    assert state(hass, entry, "sensor", FOLDER, "completion") == "100.0"
    assert datetime.fromisoformat(state(hass, entry, "sensor", peer, "last_seen")).year >= 2024
    assert state(hass, entry, "sensor", peer, "completion") == "100.0"
    assert state(hass, entry, "sensor", peer, "address_type") == "direct"
    files = int(state(hass, entry, "sensor", FOLDER, "global_files"))

    # B receives slowly enough for the sync to be seen: 2 MiB at 256 KiB/s.
    async with SyncthingClient(b.url, api_key=b.api_key) as client:
        await client.config_section_patch("options", {"maxRecvKbps": 256, "limitBandwidthInLan": True})
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    changes = async_capture_events(hass, "state_changed")
    folder_state = entity_id(hass, entry, "sensor", FOLDER, "folder_state")
    (tmp_path / "data-a" / "big.bin").write_bytes(os.urandom(2 << 20))

    await until(
        hass,
        lambda: (
            any(e.data["id"] == FOLDER for e in completed)
            and state(hass, entry, "sensor", FOLDER, "folder_state") == "idle"
        ),
    )
    seen = [e.data["new_state"].state for e in changes if e.data["entity_id"] == folder_state]
    assert {"sync_preparing", "syncing"} & set(seen)
    assert seen[-1] == "idle"
    assert state(hass, entry, "sensor", FOLDER, "completion") == "100.0"
    needed = entity_id(hass, entry, "sensor", FOLDER, "need_items")
    assert max(int(e.data["new_state"].state) for e in changes if e.data["entity_id"] == needed) >= 1
    await until(hass, lambda: int(state(hass, entry, "sensor", FOLDER, "global_files")) == files + 1)
    assert state(hass, entry, "sensor", FOLDER, "need_items") == "0"
    assert float(state(hass, entry, "sensor", FOLDER, "global_bytes")) >= 2  # MiB
    assert (tmp_path / "data-b" / "big.bin").stat().st_size == 2 << 20
    for _ in range(3):
        await entry.runtime_data.coordinator.async_refresh()
    await until(hass, lambda: state(hass, entry, "sensor", peer, "completion") == "100.0")
    assert [e.data["id"] for e in completed if e.data["id"] == FOLDER] == [FOLDER]

    await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": entry.entry_id, "ids": [FOLDER]}, blocking=True)
    await until(hass, lambda: state(hass, entry, "sensor", FOLDER, "folder_state") == "paused")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_entities_go_unavailable_with_the_daemon_and_recover(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon]
) -> None:
    a, b = pair
    peer = f"device:{a.device_id}"
    entry = await add_entry(hass, b)
    coordinator = entry.runtime_data.coordinator
    await hass.async_add_executor_job(b.stop)
    await until(hass, lambda: not entry.runtime_data.backend.stream.connected)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, entry, "sensor", FOLDER, "folder_state") == STATE_UNAVAILABLE
    assert state(hass, entry, "binary_sensor", peer, "connected") == STATE_UNAVAILABLE

    await hass.async_add_executor_job(b.start)
    await until(hass, lambda: state(hass, entry, "binary_sensor", peer, "connected") == STATE_ON, refresh=entry)
    assert state(hass, entry, "sensor", FOLDER, "folder_state") == "idle"
    assert state(hass, entry, "sensor", FOLDER, "completion") == "100.0"
    assert await hass.config_entries.async_unload(entry.entry_id)
