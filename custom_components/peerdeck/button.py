"""Buttons for daemon actions: reannounce, rescan shares, process the wishlist, scan the watchlist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from peerdeck import Backend
from peerdeck.qbittorrent import QBittorrentBackend
from peerdeck.slskd import SlskdBackend
from peerdeck.soulsync import SoulSyncBackend

from .const import DOMAIN
from .coordinator import PeerdeckConfigEntry
from .entity import PeerdeckEntity
from .services import run_action

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PeerdeckButtonEntityDescription(ButtonEntityDescription):
    """A daemon action, offered for backends of one class."""

    backend_type: type[Backend]
    press_fn: Callable[[Any], Awaitable[None]]
    """Called with the backend, which is a ``backend_type``."""


async def _process_wishlist(backend: SoulSyncBackend) -> None:
    """Run SoulSync's wishlist for what it is not downloading yet; its 200 proves nothing, so say so
    when no download started and none is on its way (an album search's downloads come later)."""
    started = await backend.process_wishlist()
    if not started and not started.pending:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="nothing_started",
            translation_placeholders={"daemon": "SoulSync", "reason": started.notice or ""},
        )


BUTTONS: tuple[PeerdeckButtonEntityDescription, ...] = (
    PeerdeckButtonEntityDescription(
        key="reannounce",
        translation_key="reannounce",
        backend_type=QBittorrentBackend,
        press_fn=lambda backend: backend.client.torrents_reannounce("all"),
    ),
    PeerdeckButtonEntityDescription(
        key="rescan_shares",
        translation_key="rescan_shares",
        backend_type=SlskdBackend,
        press_fn=lambda backend: backend.client.shares_rescan(),
    ),
    PeerdeckButtonEntityDescription(
        key="process_wishlist",
        translation_key="process_wishlist",
        backend_type=SoulSyncBackend,
        press_fn=_process_wishlist,
    ),
    PeerdeckButtonEntityDescription(
        key="scan_watchlist",
        translation_key="scan_watchlist",
        backend_type=SoulSyncBackend,
        press_fn=lambda backend: backend.client.scan_watchlist(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: PeerdeckConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the buttons of this daemon's actions."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        PeerdeckButton(coordinator, description)
        for description in BUTTONS
        if isinstance(coordinator.backend, description.backend_type)
    )


class PeerdeckButton(PeerdeckEntity, ButtonEntity):
    """Runs one daemon action."""

    entity_description: PeerdeckButtonEntityDescription

    async def async_press(self) -> None:
        """Run the action, then refresh."""
        await run_action(self.coordinator, self.entity_description.press_fn(self.coordinator.backend))
        await self.coordinator.async_request_refresh()
