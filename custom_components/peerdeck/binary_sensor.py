"""Binary sensors: whether each Syncthing peer is connected."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from peerdeck import TransferState
from peerdeck.syncthing.ids import DEVICE_PREFIX

from .coordinator import PeerdeckConfigEntry
from .entity import PeerdeckJobEntity, async_add_job_entities

PARALLEL_UPDATES = 0

PEER_CONNECTED = BinarySensorEntityDescription(
    key="connected",
    translation_key="connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)

CONNECTED_STATES = frozenset({TransferState.ACTIVE, TransferState.COMPLETED})
"""A Syncthing peer is queued while disconnected and paused while paused; else it is connected."""


async def async_setup_entry(
    hass: HomeAssistant, entry: PeerdeckConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add a connectivity sensor for each Syncthing peer, now and as peers appear."""
    coordinator = entry.runtime_data.coordinator
    async_add_job_entities(
        coordinator,
        DEVICE_PREFIX,
        async_add_entities,
        lambda transfer_id: [PeerdeckPeerConnected(coordinator, PEER_CONNECTED, transfer_id)],
    )


class PeerdeckPeerConnected(PeerdeckJobEntity, BinarySensorEntity):
    """On while the peer is connected."""

    @property
    def is_on(self) -> bool:
        """Whether the peer is connected."""
        return self.transfer.state in CONNECTED_STATES
