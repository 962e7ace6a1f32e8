"""The live transfer feed of the Peerdeck card: the full list once, then only what changed.

``peerdeck/transfers/subscribe`` rides on the coordinator: it never asks the daemon anything
itself. One :class:`TransferFeed` per config entry turns each coordinator update into one diff
(rows added, the changed fields of changed rows, ids removed) that every subscriber of the entry
receives, so a hundred open dashboards cost what one does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.auth.models import User
from homeassistant.auth.permissions.const import POLICY_READ
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND
from homeassistant.components.websocket_api.decorators import async_response, websocket_command
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers import entity_registry as er
from homeassistant.util.hass_dict import HassKey

from peerdeck import BackendKind, SearchKind, Transfer, TransferState

from .const import DOMAIN
from .coordinator import PeerdeckConfigEntry, PeerdeckCoordinator, PeerdeckSnapshot, transfer_payload
from .schema import vol

WS_SUBSCRIBE: Final = "peerdeck/transfers/subscribe"
WS_ENTRIES: Final = "peerdeck/entries"
ATTR_ENTRY_ID: Final = "entry_id"

type Row = dict[str, Any]
type Message = dict[str, Any]
type Subscriber = Callable[[Message], None]

FEEDS: HassKey[dict[str, TransferFeed]] = HassKey(f"{DOMAIN}_transfer_feeds")


QBITTORRENT_STATUS: Final = {
    "downloading": "downloading",
    "forcedDL": "downloading",
    "metaDL": "downloading",
    "forcedMetaDL": "downloading",
    "allocating": "downloading",
    "stalledDL": "stalled",
    "uploading": "seeding",
    "forcedUP": "seeding",
    "stalledUP": "seeding",
    "pausedUP": "completed",
    "stoppedUP": "completed",
    "pausedDL": "paused",
    "stoppedDL": "paused",
    "queuedDL": "queued",
    "queuedUP": "queued",
    "checkingDL": "checking",
    "checkingUP": "checking",
    "checkingResumeData": "checking",
    "moving": "checking",
    "error": "error",
    "missingFiles": "error",
}
"""qBittorrent's own states, as the card tells them apart (its ``torrents/info`` state list)."""
TRIBLER_STATUS: Final = {
    "DOWNLOADING": "downloading",
    "METADATA": "downloading",
    "SEEDING": "seeding",
    "HASHCHECKING": "checking",
    "WAITING_FOR_HASHCHECK": "queued",
    "STOPPED_ON_ERROR": "error",
}
"""Tribler's ``DownloadStatus`` names the card tells apart; STOPPED is paused or completed, as the state says."""
STATE_STATUS: Final = {
    TransferState.ACTIVE: "downloading",
    TransferState.QUEUED: "queued",
    TransferState.PAUSED: "paused",
    TransferState.COMPLETED: "completed",
    TransferState.FAILED: "error",
    TransferState.CANCELLED: "cancelled",
}
"""The card's state of a transfer whose daemon says no more than the unified state."""
SYNCTHING_CHECKING: Final = frozenset({"scanning", "scan-waiting"})
KINDS: Final = {"folder": "folder", "device": "peer"}
LINK_DAEMONS: Final = frozenset({BackendKind.QBITTORRENT, BackendKind.TRIBLER})
"""The daemons that take a magnet, a torrent URL or a .torrent file (the card's *Add* panel)."""


def transfer_status(transfer: Transfer, daemon: BackendKind) -> str:
    """What the transfer is doing, finer than its unified state where the daemon says more.

    qBittorrent tells stalled from downloading and seeding from completed, Tribler seeding and
    checking; Syncthing tells a folder being scanned. The unified state stays as it is for actions, events and entities.
    """
    raw_state = transfer.raw.get("state")
    if daemon is BackendKind.QBITTORRENT and (status := QBITTORRENT_STATUS.get(str(raw_state))) is not None:
        return status
    if daemon is BackendKind.TRIBLER and (status := TRIBLER_STATUS.get(str(transfer.raw.get("status")))) is not None:
        return status
    if daemon is BackendKind.SYNCTHING and transfer.category == "folder" and raw_state in SYNCTHING_CHECKING:
        return "checking"
    return STATE_STATUS[transfer.state]


def transfer_ratio(transfer: Transfer) -> float | None:
    """Uploaded over downloaded, two decimals, where the daemon counts it (qBittorrent)."""
    ratio = transfer.raw.get("ratio")
    if isinstance(ratio, int | float) and not isinstance(ratio, bool) and ratio >= 0:
        return round(float(ratio), 2)
    return None


def transfer_kind(transfer: Transfer) -> str | None:
    """``folder`` or ``peer`` for Syncthing's rows (which are not downloads), None for every other row."""
    return KINDS.get(str(transfer.raw.get("kind"))) if transfer.category in KINDS else None


def transfer_row(transfer: Transfer, snapshot: PeerdeckSnapshot, daemon: BackendKind) -> Row:
    """A transfer as the card shows it: the action payload plus bytes done, what it is doing, its ratio,
    what kind of row it is (a Syncthing folder or peer) and the daemon's own detail."""
    return {
        **transfer_payload(transfer),
        "done": transfer.done_bytes,
        "status": transfer_status(transfer, daemon),
        "ratio": transfer_ratio(transfer),
        "kind": transfer_kind(transfer),
        "detail": snapshot.folder_states.get(transfer.id.removeprefix("folder:")),
    }


def same_row(previous: Transfer, transfer: Transfer) -> bool:
    """Whether a transfer's row would be the same; equality skips ``raw``, where status and ratio come from."""
    return (
        previous == transfer
        and previous.raw.get("state") == transfer.raw.get("state")
        and previous.raw.get("status") == transfer.raw.get("status")
        and transfer_ratio(previous) == transfer_ratio(transfer)
    )


def row_changes(old: Row, new: Row) -> Row:
    """The fields of ``new`` that differ from ``old``, with the id; only the id when nothing differs."""
    changed: Row = {"id": new["id"]}
    for key, value in new.items():
        if old.get(key) != value:
            changed[key] = value
    return changed


class TransferFeed:
    """The rows of one entry as last sent, and the subscribers that receive each diff."""

    def __init__(self, coordinator: PeerdeckCoordinator) -> None:
        """Follow ``coordinator`` once the first subscriber arrives."""
        self.coordinator = coordinator
        self.rows: dict[str, Row] = {}
        self.status: Row = {}
        self._transfers: Mapping[str, Transfer] = {}
        self._folder_states: Mapping[str, str] = {}
        self._subscribers: list[Subscriber] = []
        self._stop_listening: CALLBACK_TYPE | None = None

    def _read(self) -> tuple[dict[str, Row], Row]:
        """The rows and header of the coordinator's latest data, rebuilding only transfers that changed."""
        coordinator = self.coordinator
        snapshot = coordinator.data
        status: Row = {
            "available": coordinator.last_update_success,
            "download_rate": snapshot.status.download_rate,
            "upload_rate": snapshot.status.upload_rate,
            "alternative_speed": snapshot.alternative_speed,
        }
        folders_same = snapshot.folder_states == self._folder_states
        rows: dict[str, Row] = {}
        for transfer_id, transfer in snapshot.transfers.items():
            previous = self._transfers.get(transfer_id)
            if folders_same and previous is not None and same_row(previous, transfer) and transfer_id in self.rows:
                rows[transfer_id] = self.rows[transfer_id]
            else:
                rows[transfer_id] = transfer_row(transfer, snapshot, coordinator.backend.kind)
        self._transfers = snapshot.transfers
        self._folder_states = snapshot.folder_states
        return rows, status

    def full_message(self) -> Message:
        """Everything a new subscriber needs: the daemon, what it can do, the header and every row."""
        coordinator = self.coordinator
        capabilities = coordinator.backend.capabilities
        return {
            "full": True,
            "entry_id": coordinator.config_entry.entry_id,
            "title": coordinator.config_entry.title,
            "daemon": coordinator.backend.kind.value,
            "capabilities": {
                "pause": capabilities.pause,
                "resume": capabilities.resume,
                "remove": capabilities.remove,
                "delete_data": capabilities.delete_data,
                "enqueue": capabilities.enqueue,
                "add_links": capabilities.enqueue and coordinator.backend.kind in LINK_DAEMONS,
                "search": capabilities.search is not SearchKind.NONE,
            },
            "alternative_speed_entity": er.async_get(coordinator.hass).async_get_entity_id(
                "switch", DOMAIN, f"{coordinator.config_entry.entry_id}_alternative_speed"
            ),
            "status": self.status,
            "transfers": list(self.rows.values()),
        }

    @property
    def followed(self) -> bool:
        """Whether the feed follows the coordinator (someone is subscribed)."""
        return self._stop_listening is not None

    @callback
    def async_subscribe(self, subscriber: Subscriber) -> CALLBACK_TYPE:
        """Send ``subscriber`` the full list now and every diff after; returns the unsubscribe function."""
        if self._stop_listening is None:
            self.rows, self.status = self._read()
            self._stop_listening = self.coordinator.async_add_listener(self._async_updated)
            self.coordinator.async_watch_details(True)
        self._subscribers.append(subscriber)
        subscriber(self.full_message())

        @callback
        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)
            if not self._subscribers:
                self.async_stop()

        return unsubscribe

    @callback
    def async_stop(self) -> None:
        """Stop following the coordinator (no subscriber left, or the entry unloads)."""
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
            self.coordinator.async_watch_details(False)
        self._transfers, self.rows = {}, {}

    @callback
    def async_close(self) -> None:
        """Tell every subscriber the entry is gone (it unloads), and forget them."""
        subscribers, self._subscribers = self._subscribers, []
        self.async_stop()
        for subscriber in subscribers:
            subscriber({"closed": True})

    @callback
    def _async_updated(self) -> None:
        """Send the diff of this update to every subscriber, or nothing when nothing changed."""
        rows, status = self._read()
        old = self.rows
        diff: Message = {}
        added = [row for transfer_id, row in rows.items() if transfer_id not in old]
        changed = [
            changes
            for transfer_id, row in rows.items()
            if (previous := old.get(transfer_id)) is not None
            and previous is not row
            and len(changes := row_changes(previous, row)) > 1
        ]
        removed = [transfer_id for transfer_id in old if transfer_id not in rows]
        if added:
            diff["added"] = added
        if changed:
            diff["changed"] = changed
        if removed:
            diff["removed"] = removed
        if status != self.status:
            diff["status"] = status
        self.rows, self.status = rows, status
        if diff:
            for subscriber in list(self._subscribers):
                subscriber(diff)


def transfer_feed(hass: HomeAssistant, entry: PeerdeckConfigEntry) -> TransferFeed:
    """The entry's feed, created at its first subscriber and closed when the entry unloads."""
    feeds = hass.data.setdefault(FEEDS, {})
    if (feed := feeds.get(entry.entry_id)) is None:
        feed = feeds[entry.entry_id] = TransferFeed(entry.runtime_data.coordinator)

        @callback
        def close() -> None:
            feeds.pop(entry.entry_id, None)
            feed.async_close()

        entry.async_on_unload(close)
    return feed


def can_read(hass: HomeAssistant, user: User, entry_id: str) -> bool:
    """Whether ``user`` may see an entry's transfers: as for states, it may read one of the entry's entities."""
    permissions = user.permissions
    if permissions.access_all_entities(POLICY_READ):
        return True
    return any(
        permissions.check_entity(entity.entity_id, POLICY_READ)
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
    )


def readable_entry(
    hass: HomeAssistant, connection: ActiveConnection, msg_id: int, entry_id: str
) -> PeerdeckConfigEntry | None:
    """The loaded Peerdeck entry the user may read, or None once an error is sent."""
    entry: PeerdeckConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        connection.send_error(
            msg_id,
            ERR_NOT_FOUND,
            f"No Peerdeck entry {entry_id}",
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
        return None
    if not can_read(hass, connection.user, entry_id):
        raise Unauthorized(config_entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        connection.send_error(
            msg_id,
            ERR_NOT_FOUND,
            f"{entry.title} is not loaded",
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
        return None
    return entry


@websocket_command({vol.Required("type"): WS_SUBSCRIBE, vol.Required(ATTR_ENTRY_ID): str})
@async_response
async def ws_subscribe_transfers(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Subscribe to an entry's transfers: the full list as the first event, then diffs.

    The first subscriber's list is read fresh, moving transfers' figures included: unwatched,
    they are kept only as often as the sensors need them, and a card would open on stale ones.
    """
    msg_id: int = msg["id"]
    entry = readable_entry(hass, connection, msg_id, msg[ATTR_ENTRY_ID])
    if entry is None:
        return
    feed = transfer_feed(hass, entry)
    if not feed.followed:
        await entry.runtime_data.coordinator.async_refresh_details()
        if (entry := readable_entry(hass, connection, msg_id, msg[ATTR_ENTRY_ID])) is None:
            return  # unloaded meanwhile
        feed = transfer_feed(hass, entry)

    @callback
    def forward(message: Message) -> None:
        connection.send_message(event_message(msg_id, message))

    connection.send_result(msg_id)
    connection.subscriptions[msg_id] = feed.async_subscribe(forward)


@websocket_command({vol.Required("type"): WS_ENTRIES})
@callback
def ws_list_entries(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The loaded Peerdeck entries the user may read, for the card and its editor."""
    connection.send_result(
        msg["id"],
        [
            {"entry_id": entry.entry_id, "title": entry.title, "daemon": entry.runtime_data.backend.kind.value}
            for entry in hass.config_entries.async_loaded_entries(DOMAIN)
            if can_read(hass, connection.user, entry.entry_id)
        ],
    )


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register the feed's commands (once, from ``async_setup``)."""
    async_register_command(hass, ws_subscribe_transfers)
    async_register_command(hass, ws_list_entries)
