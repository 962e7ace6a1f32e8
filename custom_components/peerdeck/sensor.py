"""Sensors: rates, transfer counts per state, free space, connection and daemon-specific totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfDataRate, UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from peerdeck import BackendKind, TransferState

from .coordinator import PeerdeckConfigEntry, PeerdeckCoordinator, PeerdeckSnapshot
from .entity import PeerdeckEntity

PARALLEL_UPDATES = 0

CONNECTION_STATES = ["connected", "firewalled", "disconnected"]


@dataclass(frozen=True, kw_only=True)
class PeerdeckSensorEntityDescription(SensorEntityDescription):
    """A sensor's value and when the daemon has it."""

    value_fn: Callable[[PeerdeckSnapshot], StateType]
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
        value_fn=_number("dht_nodes"),
        exists_fn=_has_extra(BackendKind.QBITTORRENT, "dht_nodes"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: PeerdeckConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors this daemon can feed."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        PeerdeckSensor(coordinator, description) for description in SENSORS if description.exists_fn(coordinator)
    )


class PeerdeckSensor(PeerdeckEntity, SensorEntity):
    """A value read from the coordinator's snapshot."""

    entity_description: PeerdeckSensorEntityDescription

    @property
    def native_value(self) -> StateType:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator.data)
