"""Diagnostics: useful, and without secrets."""

from __future__ import annotations

import json

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.diagnostics import async_get_config_entry_diagnostics
from peerdeck import BackendInfo, BackendKind, TransferState

from .fake_backend import FakeBackend
from .test_coordinator import refresh


async def test_diagnostics_are_redacted(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend
) -> None:
    backend.add("a" * 40, "private-name.mkv", TransferState.ACTIVE)
    backend.extra = {"server_address": "user@host", "connection_status": "connected"}
    loaded_entry.runtime_data.coordinator.info = BackendInfo(kind=BackendKind.SYNCTHING, version="1.2", identity="ID")
    await refresh(hass, loaded_entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    assert diagnostics["entry"]["data"] == {
        "kind": "qbittorrent",
        "url": REDACTED,
        "username": REDACTED,
        "password": REDACTED,
        "verify_ssl": True,
        "timeout": 10,
    }
    assert diagnostics["daemon"]["identity"] == REDACTED
    assert diagnostics["daemon"]["version"] == "1.2"
    assert diagnostics["status"]["extra"] == {"server_address": REDACTED, "connection_status": "connected"}
    assert diagnostics["status"]["counts"]["active"] == 1
    assert diagnostics["transfers"] == 1
    assert diagnostics["capabilities"]["free_space"] is True
    text = json.dumps(diagnostics)
    for secret in ("secret", "admin", "127.0.0.1", "private-name"):
        assert secret not in text
