"""Looking a Peerdeck device up in the registry on every supported Home Assistant release."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.peerdeck.const import DOMAIN


def peerdeck_device(hass: HomeAssistant, entry_id: str, identifier: str) -> dr.DeviceEntry | None:
    """The entry's device with ``(peerdeck, identifier)``.

    Since Home Assistant 2026.8 identifiers are unique per config entry only, and the lookup by identifiers
    alone is deprecated; older releases have only that lookup.
    """
    registry = dr.async_get(hass)
    by_identifier = getattr(registry, "async_get_device_by_identifier", None)
    if by_identifier is not None:
        device: dr.DeviceEntry | None = by_identifier((DOMAIN, identifier), entry_id)
        return device
    return registry.async_get_device(identifiers={(DOMAIN, identifier)})
