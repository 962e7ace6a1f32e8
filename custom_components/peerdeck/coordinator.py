"""One coordinator per config entry: refreshes the daemon and turns changes into events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_SCAN_INTERVAL, CONF_URL
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from peerdeck import (
    Backend,
    BackendInfo,
    PeerdeckAuthenticationError,
    PeerdeckBannedError,
    PeerdeckError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    SearchHit,
    Status,
    Transfer,
    TransferEvent,
    TransferEventKind,
    TransferTracker,
)
from peerdeck.qbittorrent import QBittorrentBackend

from .const import (
    DEFAULT_SCAN_INTERVALS,
    DOMAIN,
    EVENT_TRANSFER_ADDED,
    EVENT_TRANSFER_COMPLETED,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_REMOVED,
    LOGGER,
    STORAGE_VERSION,
)
from .helpers import daemon_name, public_url

BUS_EVENTS: dict[TransferEventKind, str] = {
    TransferEventKind.ADDED: EVENT_TRANSFER_ADDED,
    TransferEventKind.COMPLETED: EVENT_TRANSFER_COMPLETED,
    TransferEventKind.FAILED: EVENT_TRANSFER_FAILED,
    TransferEventKind.REMOVED: EVENT_TRANSFER_REMOVED,
}
"""Transfer events announced on the bus and by the event entity (state changes show in sensors)."""

ISSUE_BANNED = "banned"
ISSUE_UNSUPPORTED_VERSION = "unsupported_version"

type TransferListener = Callable[[TransferEventKind, dict[str, Any]], None]
type TrackerState = dict[str, dict[str, str | bool]]


@dataclass(frozen=True, slots=True)
class PeerdeckSnapshot:
    """What the entities show: the daemon's status and transfers at the last refresh."""

    status: Status
    transfers: Mapping[str, Transfer]
    alternative_speed: bool | None = None
    """qBittorrent's alternative speed mode, read fresh each refresh (its status carries a stale copy)."""


@dataclass
class PeerdeckData:
    """Runtime objects of one config entry."""

    backend: Backend
    coordinator: PeerdeckCoordinator
    search_hits: dict[str, SearchHit] = field(default_factory=dict)
    """Hits of the last search, so ``enqueue`` can take one by id."""


type PeerdeckConfigEntry = ConfigEntry[PeerdeckData]


def tracker_store(hass: HomeAssistant, entry_id: str) -> Store[TrackerState]:
    """Where an entry keeps what its event tracker has seen, across restarts."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.transfers")


def transfer_payload(transfer: Transfer) -> dict[str, Any]:
    """A transfer as JSON-ready data for events and service responses."""
    return {
        "id": transfer.id,
        "name": transfer.name,
        "state": transfer.state.value,
        "progress": transfer.progress,
        "size": transfer.size,
        "path": transfer.save_path,
        "category": transfer.category,
        "tags": list(transfer.tags),
        "download_rate": transfer.download_rate,
        "upload_rate": transfer.upload_rate,
        "eta": transfer.eta,
        "added_at": transfer.added_at.isoformat() if transfer.added_at else None,
        "completed_at": transfer.completed_at.isoformat() if transfer.completed_at else None,
    }


def event_payload(event: TransferEvent) -> dict[str, Any]:
    """The data of a transfer event, as fired on the bus and by the event entity."""
    return {
        **transfer_payload(event.transfer),
        "previous_state": event.previous_state.value if event.previous_state else None,
    }


class PeerdeckCoordinator(DataUpdateCoordinator[PeerdeckSnapshot]):
    """Refreshes one daemon by its cheapest path and announces transfer events exactly once."""

    config_entry: PeerdeckConfigEntry

    def __init__(self, hass: HomeAssistant, entry: PeerdeckConfigEntry, backend: Backend) -> None:
        """Set up the coordinator for ``backend``."""
        interval = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVALS[backend.kind])
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=interval),
        )
        self.backend = backend
        self.info = BackendInfo(kind=backend.kind, version="")
        self.daemon_name = daemon_name(backend.kind)
        self.configuration_url = public_url(entry.data[CONF_URL])
        self._store = tracker_store(hass, entry.entry_id)
        self._transfer_listeners: list[TransferListener] = []
        self._saved = False

    @property
    def tracker(self) -> TransferTracker | None:
        """The backend's event tracker, where it has one to persist."""
        tracker = getattr(self.backend, "tracker", None)
        return tracker if isinstance(tracker, TransferTracker) else None

    async def _async_setup(self) -> None:
        """Read the daemon's version once and resume the event tracker from storage."""
        try:
            self.info = await self.backend.info()
        except PeerdeckNotSupportedError as err:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_UNSUPPORTED_VERSION}_{self.config_entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_UNSUPPORTED_VERSION,
                translation_placeholders={"daemon": self.daemon_name, "title": self.config_entry.title},
            )
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="unsupported_version",
                translation_placeholders={"daemon": self.daemon_name, "error": str(err)},
            ) from err
        except PeerdeckError as err:
            raise self._update_error(err) from err
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_UNSUPPORTED_VERSION}_{self.config_entry.entry_id}")
        tracker = self.tracker
        if tracker is not None and (stored := await self._store.async_load()) is not None:
            tracker.restore_state(stored)
            self._saved = True

    async def _async_update_data(self) -> PeerdeckSnapshot:
        """Refresh, announce what changed, and persist what the tracker has seen."""
        try:
            update = await self.backend.update()
            alternative_speed = (
                await self.backend.client.transfer_speed_limits_mode()
                if isinstance(self.backend, QBittorrentBackend)
                else None
            )
        except PeerdeckError as err:
            raise self._update_error(err) from err
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_BANNED}_{self.config_entry.entry_id}")
        for event in update.events:
            self._announce(event)
        tracker = self.tracker
        if tracker is not None and (update.events or not self._saved):
            await self._store.async_save(tracker.export_state())
            self._saved = True
        return PeerdeckSnapshot(update.status, update.transfers, alternative_speed)

    def _update_error(self, err: PeerdeckError) -> HomeAssistantError:
        """Map a library error onto what the coordinator understands (reauth, retry later, failed)."""
        placeholders = {"daemon": self.daemon_name, "error": str(err)}
        if isinstance(err, PeerdeckAuthenticationError):
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth", translation_placeholders=placeholders
            )
        if isinstance(err, PeerdeckBannedError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_BANNED}_{self.config_entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_BANNED,
                translation_placeholders={"daemon": self.daemon_name, "title": self.config_entry.title},
            )
            return UpdateFailed(
                translation_domain=DOMAIN, translation_key="banned", translation_placeholders=placeholders
            )
        if isinstance(err, PeerdeckRateLimitedError):
            return UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders=placeholders,
                retry_after=err.retry_after,
            )
        return UpdateFailed(
            translation_domain=DOMAIN, translation_key="update_failed", translation_placeholders=placeholders
        )

    def _announce(self, event: TransferEvent) -> None:
        """Fire a transfer event on the bus and to the event entities."""
        event_type = BUS_EVENTS.get(event.kind)
        if event_type is None:
            return
        payload = event_payload(event)
        self.hass.bus.async_fire(
            event_type,
            {"entry_id": self.config_entry.entry_id, "daemon": self.backend.kind.value, **payload},
        )
        for listener in list(self._transfer_listeners):
            listener(event.kind, payload)

    @callback
    def async_add_transfer_listener(self, listener: TransferListener) -> CALLBACK_TYPE:
        """Call ``listener`` for every announced transfer event; returns the unsubscribe function."""
        self._transfer_listeners.append(listener)

        @callback
        def remove() -> None:
            self._transfer_listeners.remove(listener)

        return remove
