"""Base entities of the Peerdeck integration: one device per daemon, and one per Syncthing folder or peer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from peerdeck import BackendKind, Transfer
from peerdeck.syncthing.ids import FOLDER_PREFIX

from .const import DOMAIN
from .coordinator import PeerdeckCoordinator, job_device_id

# Home Assistant 2026.8 links a device to its parent by the parent's registry id; older releases only by the
# parent's identifiers (``via_device``, deprecated since and removed in 2027.8).
VIA_DEVICE_BY_ID = "via_device_id" in DeviceInfo.__optional_keys__


def daemon_device_info(coordinator: PeerdeckCoordinator) -> DeviceInfo:
    """The daemon's own device: a service with its version and web address."""
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=coordinator.daemon_name,
        model=coordinator.daemon_name,
        sw_version=coordinator.info.version or None,
        configuration_url=coordinator.configuration_url,
        entry_type=DeviceEntryType.SERVICE,
    )


class PeerdeckEntity(CoordinatorEntity[PeerdeckCoordinator]):
    """An entity of one daemon, named by its translation key."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PeerdeckCoordinator, description: EntityDescription) -> None:
        """Describe the entity and the daemon's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{description.key}"
        self._attr_device_info = daemon_device_info(coordinator)


class PeerdeckJobEntity(PeerdeckEntity):
    """An entity of one Syncthing folder or peer, on a device of its own linked to the daemon's."""

    def __init__(self, coordinator: PeerdeckCoordinator, description: EntityDescription, transfer_id: str) -> None:
        """Describe the entity and the folder's or peer's device."""
        super().__init__(coordinator, description)
        self.transfer_id = transfer_id
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{transfer_id}_{description.key}"
        kind = "folder" if transfer_id.startswith(FOLDER_PREFIX) else "peer"
        link: dict[str, Any] = (
            {"via_device_id": coordinator.config_entry.runtime_data.daemon_device_id}
            if VIA_DEVICE_BY_ID
            else {"via_device": (DOMAIN, entry_id)}
        )
        # A cast: each Home Assistant release types only one of the two links.
        self._attr_device_info = cast(
            DeviceInfo,
            {
                "identifiers": {(DOMAIN, job_device_id(entry_id, transfer_id))},
                "name": coordinator.data.transfers[transfer_id].name,
                "manufacturer": coordinator.daemon_name,
                "model": f"{coordinator.daemon_name} {kind}",
                **link,
            },
        )

    @property
    def transfer(self) -> Transfer:
        """The folder or peer as of the last refresh (only read while available)."""
        return self.coordinator.data.transfers[self.transfer_id]

    @property
    def available(self) -> bool:
        """Unavailable once the daemon no longer has the folder or peer (until its device is removed)."""
        return super().available and self.transfer_id in self.coordinator.data.transfers


@callback
def async_add_job_entities(
    coordinator: PeerdeckCoordinator,
    prefix: str,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[str], Iterable[Entity]],
) -> None:
    """Add ``create(transfer_id)`` for each Syncthing job with ``prefix``, now and whenever one appears."""
    if coordinator.backend.kind is not BackendKind.SYNCTHING:
        return
    known: set[str] = set()

    @callback
    def add_new() -> None:
        current = {transfer_id for transfer_id in coordinator.data.transfers if transfer_id.startswith(prefix)}
        new = current - known
        known.intersection_update(current)
        known.update(new)
        if new:
            async_add_entities([entity for transfer_id in sorted(new) for entity in create(transfer_id)])

    add_new()
    coordinator.config_entry.async_on_unload(coordinator.async_add_listener(add_new))


@callback
def async_when_refreshed(coordinator: PeerdeckCoordinator, add: Callable[[], None]) -> None:
    """Call ``add`` now, or after the first refresh if set-up went on without it (a slow daemon):
    which sensors exist depends on what the daemon reports. Until then the registered ones show
    unavailable."""
    if coordinator.refreshed:
        add()
        return
    waiting = True

    @callback
    def refreshed() -> None:
        nonlocal waiting
        if waiting and coordinator.refreshed:
            waiting = False
            stop()
            add()

    @callback
    def stop_waiting() -> None:
        nonlocal waiting
        if waiting:
            waiting = False
            stop()

    stop = coordinator.async_add_listener(refreshed)
    coordinator.config_entry.async_on_unload(stop_waiting)
