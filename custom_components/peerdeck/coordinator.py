"""One coordinator per config entry: refreshes the daemon and turns changes into events."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_SCAN_INTERVAL, CONF_URL
from homeassistant.core import CALLBACK_TYPE, CoreState, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.start import async_at_started
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
    TransferState,
)
from peerdeck.qbittorrent import QBittorrentBackend
from peerdeck.syncthing import SyncthingBackend

from .const import (
    CATCH_UP_DELAY,
    DEFAULT_SCAN_INTERVALS,
    DOMAIN,
    EVENT_REFRESH_COOLDOWN,
    EVENT_RETRY_MAX,
    EVENT_RETRY_MIN,
    EVENT_TAGS_LIMIT,
    EVENT_TEXT_LIMIT,
    EVENT_TRANSFER_ADDED,
    EVENT_TRANSFER_COMPLETED,
    EVENT_TRANSFER_FAILED,
    EVENT_TRANSFER_REMOVED,
    LOGGER,
    PUSHED_BACKSTOP_INTERVAL,
    STORAGE_VERSION,
    WATCHED_EXACT_MAX_AGE,
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
type EventState = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PeerdeckSnapshot:
    """What the entities show: the daemon's status and transfers at the last refresh."""

    status: Status
    transfers: Mapping[str, Transfer]
    alternative_speed: bool | None = None
    """qBittorrent's alternative speed mode, read fresh each refresh (its status carries a stale copy)."""
    folder_states: Mapping[str, str] = field(default_factory=dict)
    """Syncthing's own state of each folder, by folder id."""
    peer_last_seen: Mapping[str, datetime | None] = field(default_factory=dict)
    """When each Syncthing peer was last seen, by device id."""

    def __eq__(self, other: object) -> bool:
        """Equal when the entities would show the same: ``Status.extra`` and each transfer's ``raw`` count too
        (their own equality ignores them; Syncthing's folder and peer sensors read ``raw``).

        Cheap: backends keep the same ``Transfer`` objects for unchanged transfers, so comparing
        thousands of them is mostly identity checks.
        """
        if not isinstance(other, PeerdeckSnapshot):
            return NotImplemented
        theirs = other.transfers
        return (
            self.status == other.status
            and self.status.extra == other.status.extra
            and self.alternative_speed == other.alternative_speed
            and self.folder_states == other.folder_states
            and self.peer_last_seen == other.peer_last_seen
            and self.transfers.keys() == theirs.keys()
            and all(
                mine is (their := theirs[key]) or (mine == their and mine.raw == their.raw)
                for key, mine in self.transfers.items()
            )
        )

    __hash__ = None  # type: ignore[assignment]  # holds dicts: never hashed


@dataclass
class PeerdeckData:
    """Runtime objects of one config entry."""

    backend: Backend
    coordinator: PeerdeckCoordinator
    daemon_device_id: str
    """The daemon's device in the registry, which Syncthing's folder and peer devices link to."""
    search_hits: dict[str, SearchHit] = field(default_factory=dict)
    """Hits of the last search, so ``enqueue`` can take one by id."""


type PeerdeckConfigEntry = ConfigEntry[PeerdeckData]


def event_store(hass: HomeAssistant, entry_id: str) -> Store[EventState]:
    """Where an entry keeps what its backend has announced (``Backend.export_state``), across restarts."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.transfers")


def job_device_id(entry_id: str, transfer_id: str) -> str:
    """The device identifier of a Syncthing folder or peer (transfer ids ``folder:…`` / ``device:…``)."""
    return f"{entry_id}_{transfer_id}"


def bounded(text: str, limit: int = EVENT_TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (the last one an ellipsis): a daemon's 10 MB torrent name
    must not become a 10 MB event that breaks the templates of automations reading it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transfer_payload(transfer: Transfer) -> dict[str, Any]:
    """A transfer as JSON-ready data for events and service responses, its texts bounded."""
    return {
        "id": transfer.id,
        "name": bounded(transfer.name),
        "state": transfer.state.value,
        "progress": transfer.progress if transfer.progress_known else None,
        "size": transfer.size,
        "path": None if transfer.save_path is None else bounded(transfer.save_path),
        "category": None if transfer.category is None else bounded(transfer.category),
        "tags": [bounded(tag) for tag in transfer.tags[:EVENT_TAGS_LIMIT]],
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
    """Refreshes one daemon by its cheapest path and announces transfer events exactly once.

    Daemons that push events (Syncthing, Tribler) are followed in a background task that
    announces each event as it comes and refreshes for it; their polling is then only a slow
    backstop, quickened while something transfers or after a failure. The backend hands each
    event to one path only (``Backend.update``), so announcing both paths announces it once.
    """

    config_entry: PeerdeckConfigEntry

    def __init__(self, hass: HomeAssistant, entry: PeerdeckConfigEntry, backend: Backend) -> None:
        """Set up the coordinator for ``backend``."""
        interval = timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVALS[backend.kind]))
        self.pushed = backend.capabilities.events_pushed
        self.fast_interval = interval
        # Syncthing's refresh reads the model its event stream keeps, with no request while idle: at the
        # refresh interval it costs nothing and shows a lost stream (a killed daemon) within one interval.
        quiet = isinstance(backend, SyncthingBackend)
        self.backstop_interval = interval if quiet else max(interval, timedelta(seconds=PUSHED_BACKSTOP_INTERVAL))
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=self.backstop_interval if self.pushed else interval,
            # Syncthing's refresh reads the event-fed model, not the daemon: its changes show at once.
            request_refresh_debouncer=Debouncer(hass, LOGGER, cooldown=EVENT_REFRESH_COOLDOWN, immediate=True)
            if isinstance(backend, SyncthingBackend)
            else None,
            always_update=False,  # a refresh that changed nothing writes no state (see PeerdeckSnapshot.__eq__)
        )
        self.backend = backend
        if isinstance(backend, QBittorrentBackend):
            # The sensors count states, and every change of state reaches the backend through the daemon's
            # log; only the transfers card and get_transfers show moving torrents' rates and progress.
            backend.details_max_age = math.inf
        self.info = BackendInfo(kind=backend.kind, version="")
        self.daemon_name = daemon_name(backend.kind)
        self.configuration_url = public_url(entry.data[CONF_URL])
        self._store = event_store(hass, entry.entry_id)
        self._transfer_listeners: list[TransferListener] = []
        self._saved_state: dict[str, Any] | None = None
        self._held: list[TransferEvent] | None = []
        """Events waiting for Home Assistant to run and the event entity to exist (None once delivered)."""

    async def _async_setup(self) -> None:
        """Read the daemon's version once and resume the backend's event state from storage."""
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
        self._adopt_identity()
        if (stored := await self._store.async_load()) is not None:
            self.backend.restore_state(stored)
            self._saved_state = stored

    @callback
    def _adopt_identity(self) -> None:
        """Identify an entry made when its daemon showed no identity (Tribler before its IPv8 key
        was read) by the identity it shows now, unless another entry already has it."""
        entry, identity = self.config_entry, self.info.identity
        if identity is None or entry.unique_id is not None:
            return
        if self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, identity) is None:
            self.hass.config_entries.async_update_entry(entry, unique_id=identity)

    @callback
    def async_watch_details(self, watched: bool) -> None:
        """Re-read moving transfers' figures every refresh while someone watches them (an open card), and
        categories and tags (which qBittorrent changes silently) at HA core's own pace."""
        if isinstance(self.backend, QBittorrentBackend):
            self.backend.details_max_age = 0.0 if watched else math.inf
            self.backend.exact_max_age = WATCHED_EXACT_MAX_AGE if watched else math.inf
            if watched:
                self.backend.want_details()
                self.config_entry.async_create_background_task(
                    self.hass, self.async_request_refresh(), "peerdeck transfer details"
                )

    async def async_refresh_details(self) -> None:
        """Refresh now with moving transfers' figures and categories and tags re-read, for an answer that
        lists transfers (an automation routing a download by its category reads it here)."""
        if isinstance(self.backend, QBittorrentBackend):
            self.backend.want_details()
            self.backend.want_exact(0.0)
            await self.async_refresh()

    async def _async_update_data(self) -> PeerdeckSnapshot:
        """Refresh, announce what changed, and persist what the backend has announced."""
        alternative_speed: bool | None = None
        folder_states: dict[str, str] = {}
        peer_last_seen: dict[str, datetime | None] = {}
        if self.pushed:
            self.update_interval = self.fast_interval  # until this refresh shows all is quiet
        try:
            update = await self.backend.update()
            if isinstance(self.backend, QBittorrentBackend):
                alternative_speed = await self.backend.client.transfer_speed_limits_mode()
            elif isinstance(self.backend, SyncthingBackend):
                folder_states = self.backend.folder_states()
                peer_last_seen = await self.backend.peer_last_seen()
        except PeerdeckError as err:
            raise self._update_error(err) from err
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_BANNED}_{self.config_entry.entry_id}")
        if self.pushed and not update.status.connected:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="stream_down",
                translation_placeholders={"daemon": self.daemon_name},
            )
        for event in update.events:
            self._announce(event)
        if update.events or self._saved_state is None:
            await self._async_save()
        if self.pushed and not update.status.count(TransferState.ACTIVE):
            self.update_interval = self.backstop_interval
        return PeerdeckSnapshot(update.status, update.transfers, alternative_speed, folder_states, peer_last_seen)

    async def _async_save(self) -> None:
        """Persist what the backend has announced, when it changed.

        Never while events are held: stored as announced, an event that Home Assistant stopped
        before delivering would be lost; unsaved, the next start finds it again.
        """
        if self._held is not None:
            return
        state = self.backend.export_state()
        if state != self._saved_state:
            await self._store.async_save(state)
            self._saved_state = state

    @callback
    def async_deliver_when_started(self) -> None:
        """Deliver the held events once Home Assistant runs and the event entity exists (call after the
        platforms are set up).

        Set up while Home Assistant already runs (a reload, a new entry), they go at once. At start-up,
        automations attach their triggers when Home Assistant has started, and clients subscribe once
        its API answers: the events go ``CATCH_UP_DELAY`` s after that, so both see them.
        """
        if self.hass.state is CoreState.running:
            self.async_deliver_held_events()
            return

        @callback
        def deliver(_now: datetime) -> None:
            self.async_deliver_held_events()

        @callback
        def started(hass: HomeAssistant) -> None:
            self.config_entry.async_on_unload(async_call_later(hass, CATCH_UP_DELAY, deliver))

        self.config_entry.async_on_unload(async_at_started(self.hass, started))

    @callback
    def async_deliver_held_events(self) -> None:
        """Announce the events held since set-up (the catch-up of what happened while Home Assistant was
        stopped), then persist that they were announced; from now on events are announced as they come."""
        held, self._held = self._held or [], None
        for event in held:
            self._announce(event)
        self.config_entry.async_create_task(self.hass, self._async_save(), f"{DOMAIN} {self.config_entry.title} save")

    @callback
    def async_follow_events(self) -> None:
        """Follow a pushing daemon's events in the background until the entry unloads.

        Syncthing folders and peers (shown by sensors) also change without a transfer event: a
        refresh is requested for those too.
        """
        if self.pushed:
            self.config_entry.async_create_background_task(
                self.hass, self._async_follow_events(), f"{DOMAIN} {self.config_entry.title} events"
            )
        if isinstance(self.backend, SyncthingBackend):
            self.config_entry.async_on_unload(self.backend.listen_changes(self._async_syncthing_changed))

    @callback
    def _async_syncthing_changed(self) -> None:
        """Refresh (debounced) so the folder and peer sensors show what the events changed."""
        self.config_entry.async_create_task(self.hass, self.async_request_refresh())

    async def _async_follow_events(self) -> None:
        """Announce pushed events and refresh for them; start again with backoff when the stream fails."""
        delay = EVENT_RETRY_MIN
        while True:
            try:
                async for event in self.backend.events(interval=self.backstop_interval.total_seconds()):
                    delay = EVENT_RETRY_MIN
                    self._announce(event)
                    await self._async_save()
                    await self.async_request_refresh()
            except PeerdeckAuthenticationError as err:
                self._async_stream_rejected(err)
            except PeerdeckError as err:
                LOGGER.debug("The %s event stream stopped (%s); following again in %s s", self.daemon_name, err, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, EVENT_RETRY_MAX)

    @callback
    def _async_stream_rejected(self, err: PeerdeckAuthenticationError) -> None:
        """The event stream refused the credentials: ask for new ones now, not at the next backstop
        poll, and let the entities show the failure instead of the last good state."""
        self.config_entry.async_start_reauth(self.hass)
        self.async_set_update_error(self._update_error(err))

    @callback
    def async_remove_stale_devices(self) -> None:
        """Remove the devices of Syncthing folders and peers the daemon no longer has (with their entities)."""
        if not self.last_update_success:
            return
        entry_id = self.config_entry.entry_id
        transfers = self.data.transfers
        registry = dr.async_get(self.hass)
        # In O(devices), not O(transfers): a qBittorrent entry has one device and thousands of torrents.
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            if not any(
                domain == DOMAIN and (ident == entry_id or ident.removeprefix(f"{entry_id}_") in transfers)
                for domain, ident in device.identifiers
            ):
                registry.async_update_device(device.id, remove_config_entry_id=entry_id)

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
        """Fire a transfer event on the bus and to the event entities (or hold it until they listen)."""
        event_type = BUS_EVENTS.get(event.kind)
        if event_type is None:
            return
        if self._held is not None:
            self._held.append(event)
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
