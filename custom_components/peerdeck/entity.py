"""Base entity of the Peerdeck integration: one device per daemon."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import PeerdeckCoordinator


class PeerdeckEntity(CoordinatorEntity[PeerdeckCoordinator]):
    """An entity of one daemon, named by its translation key."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PeerdeckCoordinator, description: EntityDescription) -> None:
        """Describe the entity and the daemon's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        info = coordinator.info
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer=coordinator.daemon_name,
            model=info.name or coordinator.daemon_name,
            sw_version=info.version or None,
            configuration_url=coordinator.configuration_url,
            entry_type=DeviceEntryType.SERVICE,
        )
