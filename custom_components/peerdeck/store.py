"""Where an entry keeps what its backend has announced, across restarts of Home Assistant."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, SAVE_RETRY_DELAY, STORAGE_VERSION

type EventState = dict[str, Any]


class EventStore(Store[EventState]):
    """Home Assistant's ``Store``, which only logs a failed write (a full disk) and forgets it: this one
    writes it again ``SAVE_RETRY_DELAY`` s later, so what was announced is not announced again after
    a restart. A newer save waiting meanwhile supersedes the retry."""

    async def _async_write_data(self, data: dict[str, Any]) -> None:
        try:
            await super()._async_write_data(data)
        except Exception:
            if self._data is None:  # nothing newer waits to be written
                # Store has turned its ``data_func`` into ``data`` by the time a write fails.
                state: EventState = data["data"] if "data" in data else data["data_func"]()
                self.async_delay_save(lambda: state, SAVE_RETRY_DELAY)
            raise  # logged by Store, as before


EVENT_STORES: HassKey[dict[str, EventStore]] = HassKey(f"{DOMAIN}_event_stores")


def event_store(hass: HomeAssistant, entry_id: str) -> EventStore:
    """The store of an entry's event state (``Backend.export_state``), one per entry while Home Assistant
    runs: a reload reads what a failed write still holds (not the older file), and the write's retry
    never puts that older state over what the reloaded entry stored since."""
    stores = hass.data.setdefault(EVENT_STORES, {})
    if (store := stores.get(entry_id)) is None:
        store = stores[entry_id] = EventStore(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.transfers")
    return store


async def async_remove_event_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed entry's event state, pending writes included."""
    await event_store(hass, entry_id).async_remove()
    hass.data[EVENT_STORES].pop(entry_id, None)
