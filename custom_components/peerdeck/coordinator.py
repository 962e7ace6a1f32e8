"""One coordinator per config entry: refreshes the daemon and turns changes into events."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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
    Update,
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
    SAVE_DELAY,
    SAVE_MIN_GAP,
    SETUP_WAIT,
    SPEED_MODE_MAX_AGE,
    WATCHED_EXACT_MAX_AGE,
)
from .helpers import daemon_name, public_url
from .store import event_store

BUS_EVENTS: dict[TransferEventKind, str] = {
    TransferEventKind.ADDED: EVENT_TRANSFER_ADDED,
    TransferEventKind.COMPLETED: EVENT_TRANSFER_COMPLETED,
    TransferEventKind.FAILED: EVENT_TRANSFER_FAILED,
    TransferEventKind.REMOVED: EVENT_TRANSFER_REMOVED,
}
"""Transfer events announced on the bus and by the event entity (state changes show in sensors)."""

ISSUE_BANNED = "banned"
ISSUE_UNSUPPORTED_VERSION = "unsupported_version"

type TransferListener = Callable[[Sequence[tuple[TransferEventKind, dict[str, Any]]]], None]
"""Called with the transfer events announced together (one refresh's), each as its kind and payload."""


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


def _error_rank(error: BaseException) -> int:
    """Which of the first refresh's failures to raise: an unsupported version, then the daemon's errors."""
    return 0 if isinstance(error, ConfigEntryError) else 1 if isinstance(error, PeerdeckError) else 2


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
        self._restored = False
        """Set once the stored state is in the backend (by the first refresh if set-up went on without it)."""
        self._state_known = False
        """Set once the backend has read the daemon: exported before that, its state would say "no
        transfers", and the next start would announce every transfer as added."""
        self._info_read = False
        self.refreshed = False
        """Set by the first refresh that succeeded: until then ``data`` may be a placeholder."""
        self._last_state: dict[str, Any] | None = None
        """The state last given to the store (written when due, see ``_async_schedule_save``, or at once on unload)."""
        self._save_waiting = False
        self._save_due = math.inf
        """When the waiting save is due (the event loop's clock)."""
        self._speed_mode: bool | None = None
        self._speed_mode_read = -math.inf
        """When qBittorrent's alternative speed mode was last read (the event loop's clock)."""
        self._last_save = -math.inf
        """When the last write took the state (the event loop's clock, which the store's timer uses)."""
        self._held: list[TransferEvent] | None = []
        """Events waiting for Home Assistant to run and the event entity to exist (None once delivered)."""

    async def _async_setup(self) -> None:
        """Resume the backend's event state from storage (before any refresh feeds it)."""
        if (stored := await self._store.async_load()) is not None:
            self.backend.restore_state(stored)
        self._restored = True

    async def _async_read_info(self) -> None:
        """Read the daemon's version once (with the first refresh's other requests)."""
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
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_UNSUPPORTED_VERSION}_{self.config_entry.entry_id}")
        self._info_read = True
        self._adopt_identity()
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.config_entry.entry_id):
            # The daemon's own device shows the version it runs now (upgraded while it restarted).
            if (DOMAIN, self.config_entry.entry_id) in device.identifiers and self.info.version != device.sw_version:
                registry.async_update_device(device.id, sw_version=self.info.version or None)

    async def async_first_refresh_bounded(self) -> None:
        """The first refresh, waited for at most ``SETUP_WAIT`` s (raising as Home Assistant's does).

        A slower daemon must not hold up Home Assistant's start: set-up goes on with a placeholder
        (the entities unavailable, the sensors added once the daemon has answered) while the
        refresh finishes in the background; if it fails, the refreshes at the interval retry.
        """
        first = self.config_entry.async_create_background_task(
            self.hass, self.async_config_entry_first_refresh(), f"{DOMAIN} {self.config_entry.title} first refresh"
        )
        await asyncio.wait({first}, timeout=SETUP_WAIT)
        if first.done():
            first.result()
            return
        LOGGER.info("%s answers slowly; its entities stay unavailable until its first refresh", self.config_entry.title)
        self.data = PeerdeckSnapshot(Status(connected=False), {})
        self.last_update_success = False
        first.add_done_callback(self._first_refresh_done)

    @callback
    def _first_refresh_done(self, task: asyncio.Task[None]) -> None:
        """Ask for new credentials if the daemon rejected them (the coordinator only does so for later refreshes)."""
        if task.cancelled() or (error := task.exception()) is None:
            return
        if isinstance(error, ConfigEntryAuthFailed):
            self.config_entry.async_start_reauth(self.hass)
        else:
            cause = error.__cause__ or error
            LOGGER.warning("First refresh of %s failed (%s); retrying", self.config_entry.title, cause)

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

    @callback
    def async_speed_mode_changed(self) -> None:
        """Read the alternative speed mode at the next refresh: Peerdeck just set it (else read every 30 s)."""
        self._speed_mode_read = -math.inf

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
        if not self._restored:  # a first refresh that failed after set-up went on without it
            await self._async_setup()
        # Side by side, not in a row: a slow daemon's first refresh costs the longest chain, not the sum.
        reads: list[Awaitable[Any]] = [self.backend.update()]
        if not self._info_read:
            reads.append(self._async_read_info())
        read_speed_mode = False
        if (
            isinstance(self.backend, QBittorrentBackend)
            and self.hass.loop.time() - self._speed_mode_read >= SPEED_MODE_MAX_AGE
        ):
            read_speed_mode = True
            reads.append(self.backend.client.transfer_speed_limits_mode())
        results: list[Any] = await asyncio.gather(*reads, return_exceptions=True)
        if isinstance(update := results[0], Update):
            self._state_known = True
            # Announced before any failure is raised (another read's, or a stream down below): the update
            # handed its events over once, and the backend will not give them again.
            self._announce(update.events)
            if update.events:
                self._async_schedule_save()
        self._async_save_if_due()
        # The version's verdict first (an unsupported daemon), then the daemon's errors, then ours.
        for result in sorted((r for r in results if isinstance(r, BaseException)), key=_error_rank):
            if isinstance(result, PeerdeckError):
                raise self._update_error(result) from result
            raise result
        if read_speed_mode:
            self._speed_mode, self._speed_mode_read = results[-1], self.hass.loop.time()
        if isinstance(self.backend, QBittorrentBackend):
            alternative_speed = self._speed_mode
        elif isinstance(self.backend, SyncthingBackend):
            folder_states = self.backend.folder_states()
            try:
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
        if update.restarted:
            # A restarted daemon may be another version: read it now, not a backstop interval later (after
            # the events, so a failure loses none; the next refresh reads it then).
            self._info_read = False
            with contextlib.suppress(PeerdeckError):
                await self._async_read_info()
        if self.pushed and not update.status.count(TransferState.ACTIVE):
            self.update_interval = self.backstop_interval
        self.refreshed = True
        return PeerdeckSnapshot(update.status, update.transfers, alternative_speed, folder_states, peer_last_seen)

    @callback
    def _async_schedule_save(self) -> None:
        """Persist what the backend has announced, ``SAVE_DELAY`` s from now and ``SAVE_MIN_GAP`` s after the
        last write at the earliest: a burst of events is one write, of the state as it is then (a failed write
        is retried, see ``EventStore``). A polled entry writes it in the refresh nearest that moment
        (:meth:`_async_save_if_due`), so an idle Home Assistant is not woken once more for it; the store's own
        timer is the backstop should refreshes stop.

        Never while events are held: stored as announced, an event that Home Assistant stopped
        before delivering would be lost; unsaved, the next start finds it again.
        """
        if self._held is None and self._state_known:
            # Exported now, as announced: by the time of the write the backend may know of changes
            # whose events are still queued for the next refresh.
            self._last_state = self.backend.export_state()
            if not self._save_waiting:  # the first change waits SAVE_DELAY s, not the last: events never stop it
                self._save_waiting = True
                now = self.hass.loop.time()
                self._save_due = max(now + SAVE_DELAY, self._last_save + SAVE_MIN_GAP)
                backstop = 0.0 if self.pushed else self.fast_interval.total_seconds()
                self._store.async_delay_save(self._state_to_write, self._save_due - now + backstop)

    @callback
    def _async_save_if_due(self) -> None:
        """Write a waiting save now, in a refresh, when no later refresh would be nearer its due time."""
        due_in = self._save_due - self.hass.loop.time()
        if self._save_waiting and not self.pushed and due_in <= self.fast_interval.total_seconds() / 2:
            self.hass.async_create_task(self._store.async_save(self._state_to_write()), f"{DOMAIN} event state write")

    def _state_to_write(self) -> dict[str, Any]:
        """The last state given, taken by the store's write."""
        self._save_waiting = False
        self._last_save = self.hass.loop.time()
        return self._last_state or {}

    async def async_flush_state(self) -> None:
        """Write the last state now (on unload): a reload must not find an older one and announce again."""
        if self._last_state is not None:
            await self._store.async_save(self._last_state)

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
        self._announce(held)
        self._async_schedule_save()

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
                    self._state_known = True  # the backend read the daemon to find it
                    self._announce([event])
                    self._async_schedule_save()
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

    def _announce(self, events: Iterable[TransferEvent]) -> None:
        """Fire transfer events on the bus, one each, and hand them to the event entities together (or
        hold them until those listen): 2,000 torrents added at once are 2,000 bus events but one state write."""
        announced: list[tuple[TransferEventKind, dict[str, Any]]] = []
        for event in events:
            event_type = BUS_EVENTS.get(event.kind)
            if event_type is None:
                continue
            if self._held is not None:
                self._held.append(event)
                continue
            payload = event_payload(event)
            self.hass.bus.async_fire(
                event_type,
                {"entry_id": self.config_entry.entry_id, "daemon": self.backend.kind.value, **payload},
            )
            announced.append((event.kind, payload))
        if announced:
            for listener in list(self._transfer_listeners):
                listener(announced)

    @callback
    def async_add_transfer_listener(self, listener: TransferListener) -> CALLBACK_TYPE:
        """Call ``listener`` for every announced transfer event; returns the unsubscribe function."""
        self._transfer_listeners.append(listener)

        @callback
        def remove() -> None:
            self._transfer_listeners.remove(listener)

        return remove
