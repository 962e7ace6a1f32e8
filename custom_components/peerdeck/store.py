"""Where an entry keeps what its backend has announced, across restarts of Home Assistant."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

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


def event_store(hass: HomeAssistant, entry_id: str) -> EventStore:
    """The store of an entry's event state (``Backend.export_state``)."""
    return EventStore(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.transfers")
