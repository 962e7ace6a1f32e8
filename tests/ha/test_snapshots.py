"""Snapshots of every entity (registry entry and state) and device of a qBittorrent and a Syncthing entry.

Each platform is set up alone, so one snapshot holds one platform's entities. The qBittorrent entry runs a real
``QBittorrentBackend`` that answers reads from the fake backend (so its daemon-only entities exist); the Syncthing
entry runs the real backend on recorded answers. Time is frozen and entry ids are fixed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import AsyncMock, PropertyMock, patch

import pytest
from aioresponses import aioresponses
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.peerdeck.const import DOMAIN
from peerdeck import BackendInfo, BackendKind, Credentials, TransferState
from peerdeck.qbittorrent import QBittorrentBackend

from .conftest import ENTRY_DATA, URL
from .fake_backend import FakeBackend
from .test_syncthing import ENTRY_ID as SYNCTHING_ENTRY_ID
from .test_syncthing import ME, RecordedSyncthing
from .test_syncthing import URL as SYNCTHING_URL

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
QBITTORRENT_ENTRY_ID = "entry1"
GIB = 1024**3


class PerReleaseSnapshots(HomeAssistantSnapshotExtension):
    """Snapshots kept per Home Assistant release: each release adds registry fields of its own."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """``snapshots-<major>.<minor>/`` beside the test file (apart, so no release sees another's as unused)."""
        return str(Path(test_location.filepath).parent / f"snapshots-{MAJOR_VERSION}.{MINOR_VERSION}")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """The snapshots of the Home Assistant release the tests run on."""
    return snapshot.use_extension(PerReleaseSnapshots)


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    """Timestamps (an event entity's state) are the same on every run."""
    freezer.move_to(NOW)


@pytest.fixture(autouse=True)
def enable_all_entities() -> Iterator[None]:
    """Snapshot the entities disabled by default too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def platform() -> Platform | None:
    """The one platform to set up (tests parametrize it); None sets up all of them."""
    return None


def only(platform: Platform | None) -> AbstractContextManager[object]:
    """Set up only ``platform``'s entities (all platforms' for None)."""
    return patch("custom_components.peerdeck.PLATFORMS", [platform]) if platform else nullcontext()


def qbittorrent(fake: FakeBackend) -> QBittorrentBackend:
    """A real qBittorrent backend whose reads the fake answers; alternative speed limits are on."""
    real = QBittorrentBackend(URL, Credentials(username="admin", password="secret"))
    real.info = fake.info  # type: ignore[method-assign]
    real.update = fake.update  # type: ignore[method-assign]
    real.export_state = fake.export_state  # type: ignore[method-assign]
    real.restore_state = fake.restore_state  # type: ignore[method-assign]
    real.client.transfer_speed_limits_mode = AsyncMock(return_value=True)  # type: ignore[method-assign]
    return real


async def set_up_qbittorrent(hass: HomeAssistant, fake: FakeBackend, platform: Platform | None) -> MockConfigEntry:
    """A qBittorrent entry with transfers in most states, daemon totals, and category and tag sensors."""
    fake.backend_info = BackendInfo(
        kind=BackendKind.QBITTORRENT, version="5.0.4", api_version="2.11.2", name="qBittorrent"
    )
    fake.add("a" * 40, "ubuntu-24.04.iso", TransferState.ACTIVE, progress=0.5, size=6 * GIB, category="linux")
    fake.add("b" * 40, "debian-12.iso", TransferState.PAUSED, size=4 * GIB, category="linux", tags=("iso", "hd"))
    fake.add("c" * 40, "big-buck-bunny.mkv", TransferState.COMPLETED, progress=1.0, tags=("hd",))
    fake.add("d" * 40, "broken", TransferState.FAILED)
    fake.add("e" * 40, "waiting", TransferState.QUEUED)
    fake.extra = {
        "alltime_download": 1234 * GIB,
        "alltime_upload": 567 * GIB,
        "global_ratio": "0.46",
        "dht_nodes": 321,
        "connection_status": "firewalled",
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="qBittorrent (127.0.0.1:8080)",
        data=ENTRY_DATA,
        options={"extra_sensors": ["categories", "tags"]},
        unique_id=URL,
        entry_id=QBITTORRENT_ENTRY_ID,
    )
    entry.add_to_hass(hass)
    with (
        patch("custom_components.peerdeck.helpers.create_backend", return_value=qbittorrent(fake)),
        only(platform),
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return entry


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.SWITCH, Platform.BUTTON, Platform.EVENT])
async def test_qbittorrent_entities(
    hass: HomeAssistant,
    backend: FakeBackend,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    entry = await set_up_qbittorrent(hass, backend, platform)
    # A torrent added after setup fires the event entity (its state is the frozen time).
    backend.add("f" * 40, "added-later.iso", TransferState.ACTIVE, size=GIB, save_path="/downloads", category="linux")
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_qbittorrent_device(
    hass: HomeAssistant, backend: FakeBackend, device_registry: dr.DeviceRegistry, snapshot: SnapshotAssertion
) -> None:
    entry = await set_up_qbittorrent(hass, backend, None)
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert devices == snapshot


@pytest.fixture
async def syncthing_entry(hass: HomeAssistant, platform: Platform | None) -> AsyncIterator[MockConfigEntry]:
    """A Syncthing entry on recorded answers, with ``platform`` set up; unloaded at the end."""
    with aioresponses() as mocked:
        RecordedSyncthing(mocked).install()
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Syncthing (127.0.0.1:8384)",
            data={"kind": "syncthing", "url": SYNCTHING_URL, "api_key": "key", "verify_ssl": True, "timeout": 10},
            unique_id=ME,
            entry_id=SYNCTHING_ENTRY_ID,
        )
        entry.add_to_hass(hass)
        with only(platform):
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            yield entry
            if entry.state is ConfigEntryState.LOADED:
                assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.SWITCH, Platform.EVENT])
async def test_syncthing_entities(
    hass: HomeAssistant,
    syncthing_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, syncthing_entry.entry_id)


async def test_syncthing_devices(
    syncthing_entry: MockConfigEntry, device_registry: dr.DeviceRegistry, snapshot: SnapshotAssertion
) -> None:
    devices = dr.async_entries_for_config_entry(device_registry, syncthing_entry.entry_id)
    assert sorted(devices, key=lambda device: str(device.name)) == snapshot
