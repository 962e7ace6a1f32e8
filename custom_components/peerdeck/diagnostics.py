"""Diagnostics of a Peerdeck entry, with credentials and addresses redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import CONF_API_KEY
from .coordinator import PeerdeckConfigEntry

TO_REDACT = {
    CONF_PASSWORD,
    CONF_API_KEY,
    CONF_USERNAME,
    CONF_URL,
    "identity",
    "device_id",
    "server_address",
    "public_key",
}
"""Credentials, addresses and identities (Syncthing's device id is both its ``identity`` and a ``device_id``)."""


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: PeerdeckConfigEntry) -> dict[str, Any]:
    """Settings, daemon version, capabilities and the last status; never secrets or transfer names.

    An entry that is not loaded (waiting to retry its set-up, say) has only its settings and state,
    which is when a user most needs them.
    """
    settings = {
        "entry": {
            "state": entry.state.value,
            "reason": entry.reason,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        }
    }
    if entry.state is not ConfigEntryState.LOADED:
        return settings
    coordinator = entry.runtime_data.coordinator
    status = coordinator.data.status
    return {
        **settings,
        "daemon": async_redact_data(asdict(coordinator.info), TO_REDACT),
        "capabilities": asdict(coordinator.backend.capabilities),
        "last_update_success": coordinator.last_update_success,
        "status": {
            "connected": status.connected,
            "download_rate": status.download_rate,
            "upload_rate": status.upload_rate,
            "counts": {state.value: count for state, count in status.counts.items()},
            "free_space": status.free_space,
            "extra": async_redact_data(dict(status.extra), TO_REDACT),
        },
        "transfers": len(coordinator.data.transfers),
        "alternative_speed": coordinator.data.alternative_speed,
    }
