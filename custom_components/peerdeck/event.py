"""An event entity per daemon that fires when a transfer is added, completes, fails or is removed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from peerdeck import TransferEventKind

from .coordinator import BUS_EVENTS, PeerdeckConfigEntry
from .entity import PeerdeckEntity

PARALLEL_UPDATES = 0

TRANSFER_EVENT = EventEntityDescription(
    key="transfer",
    translation_key="transfer",
    event_types=[kind.value for kind in BUS_EVENTS],
)


async def async_setup_entry(
    hass: HomeAssistant, entry: PeerdeckConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the transfer event entity."""
    async_add_entities([PeerdeckTransferEvent(entry.runtime_data.coordinator, TRANSFER_EVENT)])


class PeerdeckTransferEvent(PeerdeckEntity, EventEntity):
    """Fires the coordinator's transfer events, with the transfer as attributes."""

    async def async_added_to_hass(self) -> None:
        """Listen to the coordinator's transfer events while added."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_transfer_listener(self._handle_transfer_events))

    @callback
    def _handle_transfer_events(self, events: Sequence[tuple[TransferEventKind, dict[str, Any]]]) -> None:
        """Show the last of the events announced together; with more than one, ``batch`` counts them by
        kind. One state write per refresh, however many transfers changed (the bus has each event)."""
        kind, payload = events[-1]
        if len(events) > 1:
            payload = {**payload, "batch": dict(Counter(kind.value for kind, _ in events))}
        self._trigger_event(kind.value, payload)
        self.async_write_ha_state()
