"""Setting up, unloading and removing entries."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import MagicMock

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.peerdeck.const import DOMAIN, SAVE_DELAY
from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckConnectionError,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    TransferState,
)

from .fake_backend import FakeBackend


async def test_setup_and_unload(hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data.backend is backend
    assert loaded_entry.runtime_data.coordinator.info.version == "4.5.2"
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert backend.closed


async def test_backend_built_from_entry_data(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    kind, url, credentials = create_backend.call_args.args
    assert (kind, url) == ("qbittorrent", "http://127.0.0.1:8080")
    assert (credentials.username, credentials.password, credentials.api_key) == ("admin", "secret", None)
    assert create_backend.call_args.kwargs["verify_ssl"] is True
    assert create_backend.call_args.kwargs["request_timeout"] == 10.0
    assert not create_backend.call_args.kwargs["session"].closed


async def test_daemon_down_at_setup_retries(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: MagicMock
) -> None:
    backend.error = PeerdeckConnectionError("refused")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_rejected_credentials_at_setup_start_reauth(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: MagicMock
) -> None:
    backend.error = PeerdeckAuthenticationError("rejected")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_unsupported_version_raises_repair_issue(
    hass: HomeAssistant, entry: MockConfigEntry, backend: FakeBackend, create_backend: MagicMock
) -> None:
    backend.info_error = PeerdeckNotSupportedError("too old")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"unsupported_version_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"daemon": "qBittorrent", "title": entry.title}

    backend.info_error = None
    await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"unsupported_version_{entry.entry_id}") is None


async def test_invalid_settings_fail_setup(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock
) -> None:
    create_backend.side_effect = PeerdeckInputError("no backend for syncthing yet")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason == "The settings of this entry are invalid: no backend for syncthing yet"


async def test_remove_entry_forgets_tracker_state_and_issues(
    hass: HomeAssistant, hass_storage: dict[str, object], loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.add("a" * 40, "ubuntu.iso", TransferState.ACTIVE)
    await loaded_entry.runtime_data.coordinator.async_refresh()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY))
    await hass.async_block_till_done()
    key = f"{DOMAIN}.{loaded_entry.entry_id}.transfers"
    assert await Store[dict[str, object]](hass, 1, key).async_load() is not None
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"banned_{loaded_entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="banned",
    )

    assert await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"banned_{loaded_entry.entry_id}") is None


@pytest.mark.parametrize("field", ["username", "password"])
async def test_empty_credentials_are_none(hass: HomeAssistant, create_backend: MagicMock, field: str) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"kind": "qbittorrent", "url": "http://127.0.0.1:8080", field: ""},
        unique_id="http://127.0.0.1:8080",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    credentials = create_backend.call_args.args[2]
    assert getattr(credentials, field) is None
    assert create_backend.call_args.kwargs["verify_ssl"] is True


async def test_entry_of_a_newer_version_is_left_alone(hass: HomeAssistant, create_backend: MagicMock) -> None:
    """After a downgrade: an entry a later major version wrote is not set up, and not changed."""
    data = {"kind": "qbittorrent", "url": "http://user:pw@127.0.0.1:8080"}
    entry = MockConfigEntry(domain=DOMAIN, data=data, version=2, minor_version=1)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert (entry.version, entry.minor_version, entry.data) == (2, 1, data)
    create_backend.assert_not_called()


async def test_entry_of_a_newer_minor_version_is_set_up_as_it_is(
    hass: HomeAssistant, create_backend: MagicMock
) -> None:
    """A later minor version stays readable (Home Assistant's rule for minor versions): set up unchanged."""
    data = {"kind": "qbittorrent", "url": "http://127.0.0.1:8080", "username": "admin", "password": "secret"}
    entry = MockConfigEntry(domain=DOMAIN, data=data, unique_id="kept", minor_version=3)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version, entry.data, entry.unique_id) == (1, 3, data, "kept")
