"""Sensors: rates, counts per state, free space, connection, daemon totals, Syncthing folders and peers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfDataRate, UnitOfInformation
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from peerdeck import BackendKind, Transfer, TransferState
from peerdeck.slskd import parse_flags
from peerdeck.syncthing.ids import DEVICE_PREFIX, FOLDER_PREFIX

from .const import CONF_EXTRA_SENSORS, EXTRA_CATEGORIES, EXTRA_TAGS
from .coordinator import PeerdeckConfigEntry, PeerdeckCoordinator, PeerdeckSnapshot
from .entity import PeerdeckEntity, PeerdeckJobEntity, async_add_job_entities, async_when_refreshed

PARALLEL_UPDATES = 0

CONNECTION_STATES = ["connected", "firewalled", "disconnected"]
FOLDER_STATES = [
    "idle",
    "scanning",
    "scan_waiting",
    "sync_waiting",
    "sync_preparing",
    "syncing",
    "cleaning",
    "clean_waiting",
    "error",
    "paused",
]
"""Syncthing's folder states (its hyphens as underscores), and paused."""
SERVER_FLAGS = {
    "LoggedIn": "logged_in",
    "LoggingIn": "logging_in",
    "Disconnecting": "disconnecting",
    "Connected": "connected",
    "Connecting": "connecting",
    "Disconnected": "disconnected",
}
"""slskd's Soulseek server flags and their state, in the order they decide it."""
SERVER_STATES = list(SERVER_FLAGS.values())
DISCOVERY_STATES = ["ok", "partial", "failed", "disabled"]
RELAY_STATES = ["connected", "disconnected", "disabled"]
ADDRESS_TYPES = ["direct", "relay"]
"""How a Syncthing peer is reached: straight (TCP, QUIC) or through a relay."""
MAX_STATE_LENGTH = 255


@dataclass(frozen=True, kw_only=True)
class PeerdeckSensorEntityDescription(SensorEntityDescription):
    """A sensor's value and when the daemon has it."""

    value_fn: Callable[[PeerdeckSnapshot], StateType | datetime]
    exists_fn: Callable[[PeerdeckCoordinator], bool] = lambda _: True


def _connection(snapshot: PeerdeckSnapshot) -> str:
    status = snapshot.status
    reported = status.extra.get("connection_status")
    if reported in CONNECTION_STATES:
        return str(reported)
    return "connected" if status.connected else "disconnected"


def _number(key: str) -> Callable[[PeerdeckSnapshot], float | None]:
    """A numeric value of ``Status.extra`` (qBittorrent reports "-" for a ratio it has not got)."""

    def value(snapshot: PeerdeckSnapshot) -> float | None:
        raw = snapshot.status.extra.get(key)
        try:
            return float(raw) if raw is not None else None
        except (TypeError, ValueError):
            return None

    return value


def _integer(key: str) -> Callable[[PeerdeckSnapshot], int | None]:
    """A count in ``Status.extra``."""

    def value(snapshot: PeerdeckSnapshot) -> int | None:
        raw = snapshot.status.extra.get(key)
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None

    return value


def _server_state(snapshot: PeerdeckSnapshot) -> str | None:
    """slskd's flags (``"Connected, LoggedIn"``) as one state."""
    flags = parse_flags(snapshot.status.extra.get("server_state"))
    return next((state for flag, state in SERVER_FLAGS.items() if flag in flags), None)


def _extra(key: str) -> Callable[[PeerdeckSnapshot], StateType | datetime]:
    """A value of ``Status.extra`` as it is (a text, an enum state, a time)."""

    def value(snapshot: PeerdeckSnapshot) -> StateType | datetime:
        raw = snapshot.status.extra.get(key)
        return raw if isinstance(raw, str | int | float | datetime) else None

    return value


def _has_extra(kind: BackendKind, key: str) -> Callable[[PeerdeckCoordinator], bool]:
    """True for daemons of ``kind`` whose status carries ``key``."""
    return lambda coordinator: coordinator.backend.kind is kind and key in coordinator.data.status.extra


def _count(state: TransferState) -> PeerdeckSensorEntityDescription:
    return PeerdeckSensorEntityDescription(
        key=f"transfers_{state.value}",
        translation_key=f"transfers_{state.value}",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda snapshot: snapshot.status.count(state),
    )


SENSORS: tuple[PeerdeckSensorEntityDescription, ...] = (
    PeerdeckSensorEntityDescription(
        key="download_speed",
        translation_key="download_speed",
        device_class=SensorDeviceClass.DATA_RATE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.MEGABYTES_PER_SECOND,
        suggested_display_precision=2,
        value_fn=lambda snapshot: snapshot.status.download_rate,
    ),
    PeerdeckSensorEntityDescription(
        key="upload_speed",
        translation_key="upload_speed",
        device_class=SensorDeviceClass.DATA_RATE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.MEGABYTES_PER_SECOND,
        suggested_display_precision=2,
        value_fn=lambda snapshot: snapshot.status.upload_rate,
    ),
    PeerdeckSensorEntityDescription(
        key="transfers_total",
        translation_key="transfers_total",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda snapshot: len(snapshot.transfers),
    ),
    *(_count(state) for state in TransferState),
    PeerdeckSensorEntityDescription(
        key="free_space",
        translation_key="free_space",
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=1,
        value_fn=lambda snapshot: snapshot.status.free_space,
        exists_fn=lambda coordinator: coordinator.backend.capabilities.free_space,
    ),
    PeerdeckSensorEntityDescription(
        key="connection",
        translation_key="connection",
        device_class=SensorDeviceClass.ENUM,
        options=CONNECTION_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_connection,
    ),
    PeerdeckSensorEntityDescription(
        key="alltime_download",
        translation_key="alltime_download",
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        value_fn=_number("alltime_download"),
        exists_fn=_has_extra(BackendKind.QBITTORRENT, "alltime_download"),
    ),
    PeerdeckSensorEntityDescription(
        key="alltime_upload",
        translation_key="alltime_upload",
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIBIBYTES,
        suggested_display_precision=2,
        value_fn=_number("alltime_upload"),
        exists_fn=_has_extra(BackendKind.QBITTORRENT, "alltime_upload"),
    ),
    PeerdeckSensorEntityDescription(
        key="global_ratio",
        translation_key="global_ratio",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        value_fn=_number("global_ratio"),
        exists_fn=_has_extra(BackendKind.QBITTORRENT, "global_ratio"),
    ),
    PeerdeckSensorEntityDescription(
        key="dht_nodes",
        translation_key="dht_nodes",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_integer("dht_nodes"),
        exists_fn=_has_extra(BackendKind.QBITTORRENT, "dht_nodes"),
    ),
    PeerdeckSensorEntityDescription(
        key="server_state",
        translation_key="server_state",
        device_class=SensorDeviceClass.ENUM,
        options=SERVER_STATES,
        value_fn=_server_state,
        exists_fn=_has_extra(BackendKind.SLSKD, "server_state"),
    ),
    PeerdeckSensorEntityDescription(
        key="shared_files",
        translation_key="shared_files",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_integer("shared_files"),
        exists_fn=_has_extra(BackendKind.SLSKD, "shared_files"),
    ),
    PeerdeckSensorEntityDescription(
        key="shared_directories",
        translation_key="shared_directories",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_integer("shared_directories"),
        exists_fn=_has_extra(BackendKind.SLSKD, "shared_directories"),
    ),
    PeerdeckSensorEntityDescription(
        key="start_time",
        translation_key="start_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_extra("start_time"),
        exists_fn=_has_extra(BackendKind.SYNCTHING, "start_time"),
    ),
    PeerdeckSensorEntityDescription(
        key="version",
        translation_key="version",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_extra("version"),
        exists_fn=_has_extra(BackendKind.SYNCTHING, "version"),
    ),
    PeerdeckSensorEntityDescription(
        key="discovery",
        translation_key="discovery",
        device_class=SensorDeviceClass.ENUM,
        options=DISCOVERY_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_extra("discovery"),
        exists_fn=_has_extra(BackendKind.SYNCTHING, "discovery"),
    ),
    PeerdeckSensorEntityDescription(
        key="relays",
        translation_key="relays",
        device_class=SensorDeviceClass.ENUM,
        options=RELAY_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_extra("relays"),
        exists_fn=_has_extra(BackendKind.SYNCTHING, "relays"),
    ),
    PeerdeckSensorEntityDescription(
        key="wishlist_size",
        translation_key="wishlist_size",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_integer("wishlist_size"),
        exists_fn=_has_extra(BackendKind.SOULSYNC, "wishlist_size"),
    ),
    PeerdeckSensorEntityDescription(
        key="watchlist_size",
        translation_key="watchlist_size",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_integer("watchlist_size"),
        exists_fn=_has_extra(BackendKind.SOULSYNC, "watchlist_size"),
    ),
)


@dataclass(frozen=True, kw_only=True)
class PeerdeckJobSensorEntityDescription(SensorEntityDescription):
    """A value of one Syncthing folder or peer."""

    value_fn: Callable[[PeerdeckSnapshot, Transfer], StateType | datetime]


def _folder_state(snapshot: PeerdeckSnapshot, transfer: Transfer) -> str | None:
    state = snapshot.folder_states.get(transfer.id.removeprefix(FOLDER_PREFIX), "").replace("-", "_")
    return state if state in FOLDER_STATES else None


def _completion(snapshot: PeerdeckSnapshot, transfer: Transfer) -> float:
    return round(transfer.progress * 100, 2)


def _detail(key: str) -> Callable[[PeerdeckSnapshot, Transfer], StateType | datetime]:
    """A detail the Syncthing backend keeps in the job's ``raw`` (a count, a size, a time)."""

    def value(snapshot: PeerdeckSnapshot, transfer: Transfer) -> StateType | datetime:
        raw = transfer.raw.get(key)
        return raw if isinstance(raw, int | float | datetime) and not isinstance(raw, bool) else None

    return value


def _last_error(snapshot: PeerdeckSnapshot, transfer: Transfer) -> str:
    """The folder's error, or the first file that failed; empty when none did."""
    text = str(transfer.raw.get("last_error") or "")
    return text if len(text) <= MAX_STATE_LENGTH else text[: MAX_STATE_LENGTH - 1] + "…"


def _address_type(snapshot: PeerdeckSnapshot, transfer: Transfer) -> str | None:
    kind = str(transfer.raw.get("connection_type") or "")
    if not kind:
        return None
    return "relay" if kind.startswith("relay") else "direct"


def _folder_size(key: str, *, enabled: bool = True) -> PeerdeckJobSensorEntityDescription:
    return PeerdeckJobSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEBIBYTES,
        suggested_display_precision=1,
        entity_registry_enabled_default=enabled,
        value_fn=_detail(key),
    )


def _folder_count(key: str, *, enabled: bool = True) -> PeerdeckJobSensorEntityDescription:
    return PeerdeckJobSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=enabled,
        value_fn=_detail(key),
    )


def _peer_rate(key: str, value_fn: Callable[[PeerdeckSnapshot, Transfer], int]) -> PeerdeckJobSensorEntityDescription:
    """A peer's receive or send rate: noisy, so off until wanted."""
    return PeerdeckJobSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.DATA_RATE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KIBIBYTES_PER_SECOND,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        value_fn=value_fn,
    )


COMPLETION = PeerdeckJobSensorEntityDescription(
    key="completion",
    translation_key="completion",
    native_unit_of_measurement=PERCENTAGE,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=1,
    value_fn=_completion,
)

FOLDER_SENSORS: tuple[PeerdeckJobSensorEntityDescription, ...] = (
    PeerdeckJobSensorEntityDescription(
        key="folder_state",
        translation_key="folder_state",
        device_class=SensorDeviceClass.ENUM,
        options=FOLDER_STATES,
        value_fn=_folder_state,
    ),
    COMPLETION,
    _folder_size("global_bytes"),
    _folder_count("global_files"),
    _folder_size("local_bytes", enabled=False),
    _folder_count("local_files", enabled=False),
    _folder_size("need_bytes"),
    _folder_count("need_items"),
    _folder_count("errors"),
    PeerdeckJobSensorEntityDescription(key="last_error", translation_key="last_error", value_fn=_last_error),
    PeerdeckJobSensorEntityDescription(
        key="last_scan",
        translation_key="last_scan",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_detail("last_scan"),
    ),
)

PEER_SENSORS: tuple[PeerdeckJobSensorEntityDescription, ...] = (
    COMPLETION,
    PeerdeckJobSensorEntityDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda snapshot, transfer: snapshot.peer_last_seen.get(transfer.id.removeprefix(DEVICE_PREFIX)),
    ),
    _peer_rate("in_rate", lambda _, transfer: transfer.download_rate),
    _peer_rate("out_rate", lambda _, transfer: transfer.upload_rate),
    PeerdeckJobSensorEntityDescription(
        key="address_type",
        translation_key="address_type",
        device_class=SensorDeviceClass.ENUM,
        options=ADDRESS_TYPES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_address_type,
    ),
)


@dataclass(frozen=True, kw_only=True)
class PeerdeckGroupSensorEntityDescription(SensorEntityDescription):
    """Transfer counts of each group (category, tag) a transfer can belong to."""

    groups_fn: Callable[[Transfer], Iterable[str]]


GROUP_SENSORS: Mapping[str, PeerdeckGroupSensorEntityDescription] = {
    EXTRA_CATEGORIES: PeerdeckGroupSensorEntityDescription(
        key="category",
        translation_key="category_transfers",
        state_class=SensorStateClass.MEASUREMENT,
        groups_fn=lambda transfer: (transfer.category,) if transfer.category else (),
    ),
    EXTRA_TAGS: PeerdeckGroupSensorEntityDescription(
        key="tag",
        translation_key="tag_transfers",
        state_class=SensorStateClass.MEASUREMENT,
        groups_fn=lambda transfer: transfer.tags,
    ),
}
"""The optional sensors of the options flow's "extra sensors", by option value."""


async def async_setup_entry(
    hass: HomeAssistant, entry: PeerdeckConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors this daemon can feed, and those of Syncthing folders and peers as they appear."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add() -> None:
        async_add_entities(
            PeerdeckSensor(coordinator, description) for description in SENSORS if description.exists_fn(coordinator)
        )
        for prefix, descriptions in ((FOLDER_PREFIX, FOLDER_SENSORS), (DEVICE_PREFIX, PEER_SENSORS)):
            async_add_job_entities(coordinator, prefix, async_add_entities, _job_sensors(coordinator, descriptions))
        chosen = entry.options.get(CONF_EXTRA_SENSORS, [])
        for option, description in GROUP_SENSORS.items():
            _async_add_group_sensors(coordinator, description, async_add_entities, enabled=option in chosen)

    async_when_refreshed(coordinator, add)


@callback
def _async_add_group_sensors(
    coordinator: PeerdeckCoordinator,
    description: PeerdeckGroupSensorEntityDescription,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    enabled: bool,
) -> None:
    """Add a count sensor per group, now and as groups appear; forget those of groups gone or not wanted."""
    entry = coordinator.config_entry
    prefix = f"{entry.entry_id}_{description.key}_"
    known: set[str] = set()
    counts = GroupCounts(description.groups_fn)

    def current() -> set[str]:
        return set(counts.of(coordinator.data))

    registry = er.async_get(coordinator.hass)
    wanted = current() if enabled else set()
    for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
        if registered.unique_id.startswith(prefix) and registered.unique_id[len(prefix) :] not in wanted:
            registry.async_remove(registered.entity_id)
    if not enabled:
        return

    @callback
    def add_new() -> None:
        new = current() - known
        known.update(new)
        if new:
            async_add_entities(PeerdeckGroupSensor(coordinator, description, group, counts) for group in sorted(new))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def _job_sensors(
    coordinator: PeerdeckCoordinator, descriptions: tuple[PeerdeckJobSensorEntityDescription, ...]
) -> Callable[[str], list[PeerdeckJobSensor]]:
    """Makes the sensors of one folder or peer."""
    return lambda transfer_id: [PeerdeckJobSensor(coordinator, d, transfer_id) for d in descriptions]


class PeerdeckSensor(PeerdeckEntity, SensorEntity):
    """A value read from the coordinator's snapshot."""

    entity_description: PeerdeckSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator.data)


class PeerdeckJobSensor(PeerdeckJobEntity, SensorEntity):
    """A value of one Syncthing folder or peer."""

    entity_description: PeerdeckJobSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator.data, self.transfer)


class PeerdeckGroupSensor(PeerdeckEntity, SensorEntity):
    """How many transfers a group (category, tag) has, with the count per state as attributes."""

    entity_description: PeerdeckGroupSensorEntityDescription

    def __init__(
        self,
        coordinator: PeerdeckCoordinator,
        description: PeerdeckGroupSensorEntityDescription,
        group: str,
        counts: GroupCounts,
    ) -> None:
        """Describe the sensor of ``group``, counted in ``counts`` (shared by the description's sensors)."""
        super().__init__(coordinator, description)
        self.group_name = group
        self._counts = counts
        self._attr_unique_id = f"{self._attr_unique_id}_{group}"
        self._attr_translation_placeholders = {"group": group}

    def _by_state(self) -> Mapping[TransferState, int]:
        return self._counts.of(self.coordinator.data).get(self.group_name, {})

    @property
    def native_value(self) -> int:
        """Transfers in the group (0 once it has none)."""
        return sum(self._by_state().values())

    @property
    def extra_state_attributes(self) -> dict[str, int]:
        """Transfers in the group per state."""
        by_state = self._by_state()
        return {state.value: by_state.get(state, 0) for state in TransferState}


class GroupCounts:
    """Transfers per group and state, counted once per refresh for all of a description's sensors: one
    sensor per category or tag each scanning every transfer would cost (groups times transfers) a refresh."""

    def __init__(self, groups_fn: Callable[[Transfer], Iterable[str]]) -> None:
        self._groups_fn = groups_fn
        self._snapshot: PeerdeckSnapshot | None = None
        self._counts: dict[str, Counter[TransferState]] = {}

    def of(self, snapshot: PeerdeckSnapshot) -> Mapping[str, Counter[TransferState]]:
        """The counts of ``snapshot`` (counted at its first call)."""
        if snapshot is not self._snapshot:
            counts: dict[str, Counter[TransferState]] = {}
            for transfer in snapshot.transfers.values():
                for group in self._groups_fn(transfer):
                    counts.setdefault(group, Counter())[transfer.state] += 1
            self._snapshot, self._counts = snapshot, counts
        return self._counts
