"""Switches: pause every transfer, and qBittorrent's alternative speed limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from peerdeck import ALL, TransferState
from peerdeck.qbittorrent import QBittorrentBackend

from .coordinator import PeerdeckConfigEntry, PeerdeckCoordinator, PeerdeckSnapshot
from .entity import PeerdeckEntity
from .services import run_action

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PeerdeckSwitchEntityDescription(SwitchEntityDescription):
    """How a switch reads and sets its state, and when the daemon has it."""

    is_on_fn: Callable[[PeerdeckSnapshot], bool | None]
    set_fn: Callable[[PeerdeckCoordinator, bool], Awaitable[None]]
    exists_fn: Callable[[PeerdeckCoordinator], bool]


def _all_paused(snapshot: PeerdeckSnapshot) -> bool:
    """On when something is paused and nothing is running or waiting to."""
    status = snapshot.status
    running = status.count(TransferState.ACTIVE) + status.count(TransferState.QUEUED)
    return status.count(TransferState.PAUSED) > 0 and running == 0


async def _set_all_paused(coordinator: PeerdeckCoordinator, paused: bool) -> None:
    if paused:
        await coordinator.backend.pause(ALL)
    else:
        await coordinator.backend.resume(ALL)


async def _set_alternative_speed(coordinator: PeerdeckCoordinator, enabled: bool) -> None:
    # The switch only exists for qBittorrent (see exists_fn).
    backend = cast(QBittorrentBackend, coordinator.backend)
    await backend.client.transfer_set_speed_limits_mode(enabled)
    coordinator.async_speed_mode_changed()


SWITCHES: tuple[PeerdeckSwitchEntityDescription, ...] = (
    PeerdeckSwitchEntityDescription(
        key="pause_all",
        translation_key="pause_all",
        is_on_fn=_all_paused,
        set_fn=_set_all_paused,
        exists_fn=lambda coordinator: (
            coordinator.backend.capabilities.pause and coordinator.backend.capabilities.resume
        ),
    ),
    PeerdeckSwitchEntityDescription(
        key="alternative_speed",
        translation_key="alternative_speed",
        is_on_fn=lambda snapshot: snapshot.alternative_speed,
        set_fn=_set_alternative_speed,
        exists_fn=lambda coordinator: isinstance(coordinator.backend, QBittorrentBackend),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: PeerdeckConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the switches this daemon supports."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        PeerdeckSwitch(coordinator, description) for description in SWITCHES if description.exists_fn(coordinator)
    )


class PeerdeckSwitch(PeerdeckEntity, SwitchEntity):
    """A daemon-wide on/off setting."""

    entity_description: PeerdeckSwitchEntityDescription

    @property
    def is_on(self) -> bool | None:
        """Whether the setting is on."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the setting on."""
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the setting off."""
        await self._set(False)

    async def _set(self, value: bool) -> None:
        await run_action(self.coordinator, self.entity_description.set_fn(self.coordinator, value))
        # Refreshed at once (not debounced) so the switch shows the daemon's answer.
        await self.coordinator.async_refresh()
