"""The config flow: user, reauth, reconfigure and options, with every error and abort."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from peerdeck import (
    BackendInfo,
    BackendKind,
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckConnectionError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckInvalidResponseError,
    PeerdeckNotSupportedError,
)

from .conftest import ENTRY_DATA, URL
from .fake_backend import FakeBackend

QBT_INPUT: dict[str, Any] = {
    "url": URL,
    "username": "admin",
    "password": "secret",
    "advanced": {"verify_ssl": True, "timeout": 10},
}

ADVANCED = {"verify_ssl": True, "timeout": 10}

pytestmark = pytest.mark.usefixtures("create_backend")


async def _start(hass: HomeAssistant, kind: str = "qbittorrent") -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"kind": kind})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "connection"
    return result["flow_id"]


async def test_user_flow_creates_entry(hass: HomeAssistant, backend: FakeBackend) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {**QBT_INPUT, "url": " http://127.0.0.1:8080/ "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "qBittorrent (127.0.0.1:8080)"
    assert result["data"] == {
        "kind": "qbittorrent",
        "url": "http://127.0.0.1:8080",
        "username": "admin",
        "password": "secret",
        "verify_ssl": True,
        "timeout": 10,
    }
    assert result["result"].unique_id is None  # no identity of its own: matched by URL, never a URL unique id
    assert backend.closed


async def test_connection_form_suggests_the_daemons_usual_url(hass: HomeAssistant) -> None:
    flow_id = await _start(hass, "syncthing")
    form = hass.config_entries.flow.async_get(flow_id)
    assert form["step_id"] == "connection"
    result = await hass.config_entries.flow.async_configure(flow_id, None)
    schema = result["data_schema"].schema
    url_key = next(key for key in schema if key == "url")
    assert url_key.description == {"suggested_value": "http://127.0.0.1:8384"}
    assert [str(key) for key in schema] == ["url", "api_key", "advanced"]
    assert result["description_placeholders"] == {"daemon": "Syncthing"}


async def test_identity_is_the_unique_id(hass: HomeAssistant, backend: FakeBackend) -> None:
    backend.backend_info = BackendInfo(kind=BackendKind.SYNCTHING, version="1.27.0", identity="DEVICE-ID")
    flow_id = await _start(hass, "syncthing")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": "https://sync.example:8384", "api_key": "key", "advanced": {"verify_ssl": False, "timeout": 5}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "DEVICE-ID"
    assert result["title"] == "Syncthing (sync.example:8384)"
    assert result["data"] == {
        "kind": "syncthing",
        "url": "https://sync.example:8384",
        "api_key": "key",
        "verify_ssl": False,
        "timeout": 5,
    }


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PeerdeckConnectionError("refused"), "cannot_connect"),
        (PeerdeckInvalidResponseError("garbage"), "cannot_connect"),
        (PeerdeckAuthenticationError("rejected"), "invalid_auth"),
        (PeerdeckForbiddenError("forbidden"), "invalid_auth"),
        (PeerdeckBannedError("banned"), "banned"),
        (PeerdeckNotSupportedError("too old"), "unsupported_version"),
        (RuntimeError("boom"), "unknown"),
    ],
)
async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant, backend: FakeBackend, error: Exception, expected: str
) -> None:
    flow_id = await _start(hass)
    backend.info_error = error
    result = await hass.config_entries.flow.async_configure(flow_id, QBT_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": expected}
    backend.info_error = None
    result = await hass.config_entries.flow.async_configure(flow_id, QBT_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_invalid_url(hass: HomeAssistant, create_backend: MagicMock) -> None:
    flow_id = await _start(hass)
    create_backend.side_effect = PeerdeckInputError("not a URL")
    result = await hass.config_entries.flow.async_configure(flow_id, {**QBT_INPUT, "url": "ftp://x"})
    assert result["errors"] == {"url": "invalid_url"}
    create_backend.side_effect = None
    result = await hass.config_entries.flow.async_configure(flow_id, QBT_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_duplicate_aborts(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {**QBT_INPUT, "url": "HTTP://127.0.0.1:8080/"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    "url", ["http://localhost:8080", "http://[::ffff:127.0.0.1]:8080/", "http://[::ffff:7f00:1]:8080"]
)
async def test_the_same_daemon_at_another_spelling_aborts(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, url: str
) -> None:
    entry.add_to_hass(hass)  # http://127.0.0.1:8080: qBittorrent tells no identity, so its address is compared
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {**QBT_INPUT, "url": url})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_address"
    assert result["description_placeholders"] == {"daemon": "qBittorrent", "title": entry.title}


@pytest.mark.parametrize("url", ["http://localhost:8081", "http://127.0.0.1:8080/qbittorrent", "http://[::1]:8080"])
async def test_another_port_or_path_is_another_daemon(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, url: str
) -> None:
    entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {**QBT_INPUT, "url": url})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reconfigure_onto_another_entrys_daemon_aborts(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend
) -> None:
    entry.add_to_hass(hass)
    other = MockConfigEntry(domain=DOMAIN, data={**entry.data, "url": "http://127.0.0.1:9090"}, entry_id="other")
    other.add_to_hass(hass)
    result = await other.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**QBT_INPUT, "url": "http://localhost:8080"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_address"


async def test_reauth(hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend) -> None:
    result = await loaded_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["daemon"] == "qBittorrent"
    assert result["description_placeholders"]["title"] == loaded_entry.title
    backend.info_error = PeerdeckAuthenticationError("still wrong")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"username": "admin", "password": "x"})
    assert result["errors"] == {"base": "invalid_auth"}
    backend.info_error = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "admin", "password": "new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert loaded_entry.data == {**ENTRY_DATA, "password": "new-password"}  # no blank "api_key": ""
    await hass.async_block_till_done()


async def test_reauth_without_username(hass: HomeAssistant, backend: FakeBackend) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "tribler", "url": "http://127.0.0.1:20100", "api_key": "old"},
        unique_id="PUBKEY",
    )
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.0", identity="PUBKEY")
    result = await entry.start_reauth_flow(hass)
    assert [str(key) for key in result["data_schema"].schema] == ["api_key"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"api_key": "new"})
    assert result["reason"] == "reauth_successful"
    assert entry.data["api_key"] == "new"
    await hass.async_block_till_done()


async def test_reauth_with_another_daemon_aborts(hass: HomeAssistant, backend: FakeBackend) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data={"kind": "tribler", "url": "http://127.0.0.1:20100", "api_key": "old"}, unique_id="PUBKEY"
    )
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.0", identity="OTHER")
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"api_key": "new"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_daemon"
    assert entry.data["api_key"] == "old"


async def test_reauth_gives_a_url_identified_tribler_its_identity(hass: HomeAssistant, backend: FakeBackend) -> None:
    """Tribler entries made before its IPv8 key was read have no unique id: the key is new, not wrong."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "tribler", "url": "http://127.0.0.1:20100", "api_key": "old"},
        unique_id=None,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.4.3", identity="PEERKEY")
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"api_key": "new"})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    # The reload after reauth sets the entry up, which gives it the key.
    assert (entry.unique_id, entry.data["api_key"]) == ("PEERKEY", "new")
    # From now on another Tribler is told apart.
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.4.3", identity="OTHER")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "http://127.0.0.1:20101", "api_key": "new", "advanced": ADVANCED}
    )
    assert result["reason"] == "wrong_daemon"
    assert entry.data["url"] == "http://127.0.0.1:20100"


async def test_reconfigure_gives_a_url_identified_tribler_its_identity(
    hass: HomeAssistant, backend: FakeBackend
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "tribler", "url": "http://127.0.0.1:20100", "api_key": "k"},
        unique_id=None,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.TRIBLER, version="8.4.3", identity="PEERKEY")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "http://127.0.0.1:20100", "api_key": "k", "advanced": ADVANCED}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.unique_id == "PEERKEY"


async def test_reconfigure_moves_a_url_identified_daemon(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    schema = result["data_schema"].schema
    suggested = {str(key): key.description for key in schema if str(key) != "advanced"}
    assert suggested["url"] == {"suggested_value": URL}
    assert suggested["username"] == {"suggested_value": "admin"}
    assert suggested["password"] is None
    backend.info_error = PeerdeckConnectionError("refused")
    new_input = {**QBT_INPUT, "url": "http://127.0.0.1:9090", "password": ""}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new_input)
    assert result["errors"] == {"base": "cannot_connect"}
    backend.info_error = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.unique_id is None
    assert loaded_entry.title == "qBittorrent (127.0.0.1:9090)"
    assert loaded_entry.data == {**ENTRY_DATA, "url": "http://127.0.0.1:9090"}
    await hass.async_block_till_done()


async def test_reconfigure_same_url_is_not_a_duplicate(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**QBT_INPUT, "password": "changed", "advanced": {"verify_ssl": False, "timeout": 30}}
    )
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.unique_id is None
    assert loaded_entry.data == {**ENTRY_DATA, "password": "changed", "verify_ssl": False, "timeout": 30}
    await hass.async_block_till_done()


async def test_reconfigure_onto_another_entry_aborts(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    MockConfigEntry(domain=DOMAIN, data={**ENTRY_DATA, "url": "http://127.0.0.1:9090"}, minor_version=2).add_to_hass(
        hass
    )
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**QBT_INPUT, "url": "http://127.0.0.1:9090"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert loaded_entry.data == ENTRY_DATA


async def test_reconfigure_identity_daemon(hass: HomeAssistant, backend: FakeBackend) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data={"kind": "syncthing", "url": "http://127.0.0.1:8384", "api_key": "k"}, unique_id="DEV"
    )
    entry.add_to_hass(hass)
    backend.backend_info = BackendInfo(kind=BackendKind.SYNCTHING, version="1.27", identity="OTHER")
    new_input = {"url": "http://127.0.0.1:8385", "advanced": {"verify_ssl": True, "timeout": 10}}
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new_input)
    assert result["reason"] == "wrong_daemon"

    backend.backend_info = BackendInfo(kind=BackendKind.SYNCTHING, version="1.27", identity="DEV")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new_input)
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        "kind": "syncthing",
        "url": "http://127.0.0.1:8385",
        "api_key": "k",
        "verify_ssl": True,
        "timeout": 10,
    }
    assert entry.unique_id == "DEV"
    await hass.async_block_till_done()


async def test_options_flow_reloads_with_new_interval(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    assert loaded_entry.runtime_data.coordinator.update_interval.total_seconds() == 10
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["step_id"] == "init"
    interval_key = next(iter(result["data_schema"].schema))
    assert interval_key.default() == 10
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 42, "extra_sensors": ["categories"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.options == {CONF_SCAN_INTERVAL: 42, "extra_sensors": ["categories"]}
    assert loaded_entry.runtime_data.coordinator.update_interval.total_seconds() == 42


async def test_options_offer_extra_sensors_only_where_the_daemon_has_them(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: MagicMock
) -> None:
    backend.kind = BackendKind.SLSKD
    slskd = MockConfigEntry(domain=DOMAIN, data={**entry.data, "kind": "slskd"}, unique_id="slskd")
    slskd.add_to_hass(hass)
    assert await hass.config_entries.async_setup(slskd.entry_id)
    result = await hass.config_entries.options.async_init(slskd.entry_id)
    assert [str(key) for key in result["data_schema"].schema] == [CONF_SCAN_INTERVAL]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_SCAN_INTERVAL: 20})
    assert slskd.options == {CONF_SCAN_INTERVAL: 20}
    await hass.async_block_till_done()
