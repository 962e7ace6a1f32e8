"""Sensors, switches, buttons and the device, on the fake backend and on dressed-up real backends."""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from peerdeck import ALL, BackendInfo, BackendKind, Capabilities, Credentials, PeerdeckServerError, TransferState
from peerdeck.slskd import SlskdBackend
from peerdeck.soulsync import SoulSyncBackend

from .conftest import ENTRY_DATA
from .devices import peerdeck_device
from .fake_backend import FakeBackend
from .test_coordinator import entity_id, refresh


async def test_sensor_states(hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend) -> None:
    backend.add("a" * 40, "a", TransferState.ACTIVE)
    backend.add("b" * 40, "b", TransferState.PAUSED)
    backend.add("c" * 40, "c", TransferState.PAUSED)
    backend.connected = False
    await refresh(hass, loaded_entry)

    download = hass.states.get(entity_id(hass, "sensor", "download_speed"))
    assert download.state == "1.5"
    assert download.attributes["unit_of_measurement"] == "MB/s"
    assert download.attributes["device_class"] == "data_rate"
    assert download.attributes["friendly_name"] == "qBittorrent (127.0.0.1:8080) Download speed"
    assert hass.states.get(entity_id(hass, "sensor", "upload_speed")).state == "0.25"
    total = hass.states.get(entity_id(hass, "sensor", "transfers_total"))
    assert (total.state, total.attributes["unit_of_measurement"]) == ("3", "transfers")
    assert hass.states.get(entity_id(hass, "sensor", "transfers_paused")).state == "2"
    assert hass.states.get(entity_id(hass, "sensor", "transfers_failed")).state == "0"
    free = hass.states.get(entity_id(hass, "sensor", "free_space"))
    assert (free.state, free.attributes["unit_of_measurement"]) == ("50.0", "GiB")
    connection = hass.states.get(entity_id(hass, "sensor", "connection"))
    assert connection.state == "disconnected"
    assert connection.attributes["options"] == ["connected", "firewalled", "disconnected"]

    backend.connected = True
    backend.extra = {"connection_status": "firewalled"}
    await refresh(hass, loaded_entry)
    assert hass.states.get(entity_id(hass, "sensor", "connection")).state == "firewalled"


async def test_daemon_specific_sensors_need_their_daemon(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: AsyncMock
) -> None:
    backend.capabilities = Capabilities(free_space=False)
    backend.extra = {"alltime_download": 5, "global_ratio": "1.5"}
    backend.kind = BackendKind.SLSKD
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    registry = er.async_get(hass)
    for key in ("free_space", "alltime_download", "global_ratio"):
        assert registry.async_get_entity_id("sensor", DOMAIN, f"entry1_{key}") is None
    assert registry.async_get_entity_id("sensor", DOMAIN, "entry1_download_speed") is not None


async def test_device(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    device = peerdeck_device(hass, "entry1", "entry1")
    assert device is not None
    assert device.sw_version == "4.5.2"
    assert device.configuration_url == "http://127.0.0.1:8080"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.manufacturer == "qBittorrent"
    assert device.name == loaded_entry.title


async def test_pause_all_switch(hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend) -> None:
    switch = entity_id(hass, "switch", "pause_all")
    assert hass.states.get(switch).state == STATE_OFF
    backend.add("a" * 40, "a", TransferState.ACTIVE)
    backend.add("b" * 40, "b", TransferState.COMPLETED, progress=1.0)
    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.async_block_till_done()
    assert backend.calls == [("pause", ALL)]
    assert hass.states.get(switch).state == STATE_ON
    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.async_block_till_done()
    assert backend.calls[-1] == ("resume", ALL)
    assert hass.states.get(switch).state == STATE_OFF


async def test_switch_failure_is_an_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.action_error = PeerdeckServerError("qBittorrent answered 500", 500)
    with pytest.raises(HomeAssistantError, match="qBittorrent failed to do this: qBittorrent answered 500"):
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id(hass, "switch", "pause_all")}, blocking=True
        )


async def test_no_pause_switch_without_pause(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: AsyncMock
) -> None:
    backend.capabilities = Capabilities(pause=False, resume=False)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert er.async_get(hass).async_get_entity_id("switch", DOMAIN, "entry1_pause_all") is None


def _dress(real: SlskdBackend | SoulSyncBackend, fake: FakeBackend) -> None:
    """Let a real backend object answer reads from the fake (its own client is mocked per test)."""
    real.info = fake.info  # type: ignore[method-assign]
    real.update = fake.update  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("backend_class", "kind", "button", "method"),
    [
        (SlskdBackend, "slskd", "rescan_shares", "shares_rescan"),
        (SoulSyncBackend, "soulsync", "scan_watchlist", "scan_watchlist"),
    ],
)
async def test_daemon_buttons(
    hass: HomeAssistant,
    backend: FakeBackend,
    backend_class: type[SlskdBackend | SoulSyncBackend],
    kind: str,
    button: str,
    method: str,
) -> None:
    real = backend_class("http://127.0.0.1:5030", Credentials(api_key="key"))
    backend.backend_info = BackendInfo(kind=BackendKind(kind), version="1.0")
    _dress(real, backend)
    action = AsyncMock()
    setattr(real.client, method, action)
    entry = MockConfigEntry(domain=DOMAIN, data={**ENTRY_DATA, "kind": kind}, entry_id="entry1")
    entry.add_to_hass(hass)
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=real):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await hass.services.async_call(
            BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id(hass, "button", button)}, blocking=True
        )
    action.assert_awaited_once_with()
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("button", DOMAIN, "entry1_reannounce") is None
    assert registry.async_get_entity_id("switch", DOMAIN, "entry1_alternative_speed") is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_button_error(hass: HomeAssistant, backend: FakeBackend) -> None:
    real = SoulSyncBackend("http://127.0.0.1:8008", Credentials(api_key="key"))
    _dress(real, backend)
    real.process_wishlist = AsyncMock(side_effect=PeerdeckServerError("SoulSync answered 500", 500))  # type: ignore[method-assign]
    entry = MockConfigEntry(domain=DOMAIN, data={**ENTRY_DATA, "kind": "soulsync"}, entry_id="entry1")
    entry.add_to_hass(hass)
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=real):
        assert await hass.config_entries.async_setup(entry.entry_id)
        with pytest.raises(HomeAssistantError, match="SoulSync failed to do this"):
            await hass.services.async_call(
                BUTTON_DOMAIN,
                SERVICE_PRESS,
                {ATTR_ENTITY_ID: entity_id(hass, "button", "process_wishlist")},
                blocking=True,
            )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_qbittorrent_totals(hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend) -> None:
    backend.extra = {"alltime_download": 5 * 1024**3, "alltime_upload": None, "global_ratio": "-", "dht_nodes": 12}
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    registry = er.async_get(hass)
    for key in ("global_ratio", "dht_nodes"):
        registry.async_update_entity(entity_id(hass, "sensor", key), disabled_by=None)
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    download = hass.states.get(entity_id(hass, "sensor", "alltime_download"))
    assert (download.state, download.attributes["state_class"]) == ("5.0", "total_increasing")
    assert hass.states.get(entity_id(hass, "sensor", "alltime_upload")).state == "unknown"
    assert hass.states.get(entity_id(hass, "sensor", "global_ratio")).state == "unknown"
    assert hass.states.get(entity_id(hass, "sensor", "dht_nodes")).state == "12"
    backend.extra = {**backend.extra, "global_ratio": "1.25"}
    await refresh(hass, loaded_entry)
    assert hass.states.get(entity_id(hass, "sensor", "global_ratio")).state == "1.25"


async def test_ratio_disabled_by_default(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.extra = {"global_ratio": "1.0"}
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    entry = er.async_get(hass).async_get(entity_id(hass, "sensor", "global_ratio"))
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("Connected, LoggedIn", "logged_in"),
        ("Connected, LoggingIn", "logging_in"),
        ("Connected", "connected"),
        ("Connecting", "connecting"),
        ("Connected, Disconnecting", "disconnecting"),
        ("Disconnected", "disconnected"),
        (None, "unknown"),
    ],
)
async def test_slskd_server_and_shares(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    backend: FakeBackend,
    create_backend: AsyncMock,
    flags: str | None,
    expected: str,
) -> None:
    backend.kind = BackendKind.SLSKD
    backend.extra = {"server_state": flags, "shared_files": 3000, "shared_directories": None}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    server = hass.states.get(entity_id(hass, "sensor", "server_state"))
    assert server.state == expected
    assert server.attributes["options"][0] == "logged_in"
    files = hass.states.get(entity_id(hass, "sensor", "shared_files"))
    assert (files.state, files.attributes["unit_of_measurement"]) == ("3000", "files")
    assert hass.states.get(entity_id(hass, "sensor", "shared_directories")).state == "unknown"


async def test_soulsync_list_sizes(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: AsyncMock
) -> None:
    backend.kind = BackendKind.SOULSYNC
    backend.extra = {"wishlist_size": 12, "watchlist_size": 4}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    wishlist = hass.states.get(entity_id(hass, "sensor", "wishlist_size"))
    assert (wishlist.state, wishlist.attributes["unit_of_measurement"]) == ("12", "tracks")
    watchlist = hass.states.get(entity_id(hass, "sensor", "watchlist_size"))
    assert (watchlist.state, watchlist.attributes["unit_of_measurement"]) == ("4", "artists")
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, "entry1_shared_files") is None


async def test_category_and_tag_sensors_follow_the_option(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: AsyncMock
) -> None:
    backend.add("a" * 40, "a", TransferState.ACTIVE, category="movies", tags=("hd",))
    backend.add("b" * 40, "b", TransferState.PAUSED, category="movies")
    backend.add("c" * 40, "c", TransferState.ACTIVE)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, "entry1_category_movies") is None

    hass.config_entries.async_update_entry(entry, options={"extra_sensors": ["categories", "tags"]})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    movies = hass.states.get(entity_id(hass, "sensor", "category_movies"))
    assert movies.state == "2"
    assert movies.attributes["friendly_name"] == "qBittorrent (127.0.0.1:8080) Category movies"
    assert (movies.attributes["active"], movies.attributes["paused"], movies.attributes["failed"]) == (1, 1, 0)
    assert hass.states.get(entity_id(hass, "sensor", "tag_hd")).state == "1"

    backend.add("d" * 40, "d", TransferState.QUEUED, category="music")
    del backend.items["a" * 40], backend.items["b" * 40]
    await refresh(hass, entry)
    assert hass.states.get(entity_id(hass, "sensor", "category_music")).state == "1"
    assert hass.states.get(entity_id(hass, "sensor", "category_movies")).state == "0"

    assert await hass.config_entries.async_reload(entry.entry_id)  # movies and hd are gone for good
    assert registry.async_get_entity_id("sensor", DOMAIN, "entry1_category_movies") is None
    assert registry.async_get_entity_id("sensor", DOMAIN, "entry1_tag_hd") is None
    hass.config_entries.async_update_entry(entry, options={"extra_sensors": ["tags"]})
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert registry.async_get_entity_id("sensor", DOMAIN, "entry1_category_music") is None
