"""A refresh that changed nothing costs Home Assistant no state writes; one that changed something does."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from peerdeck import TransferState

from .fake_backend import FakeBackend


def sensor(hass: HomeAssistant, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"entry1_{key}")
    assert found is not None
    return found


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_unchanged_refresh_writes_no_state(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, backend: FakeBackend, freezer: FrozenDateTimeFactory
) -> None:
    backend.add("a" * 40, "one.iso", TransferState.ACTIVE, progress=0.5)
    await refresh(hass, loaded_entry)
    speed, active = sensor(hass, "download_speed"), sensor(hass, "transfers_active")
    written = {entity: hass.states.get(entity).last_reported for entity in (speed, active)}

    freezer.tick(10)
    await refresh(hass, loaded_entry)
    assert {entity: hass.states.get(entity).last_reported for entity in (speed, active)} == written

    freezer.tick(10)
    backend.download_rate = 3_000_000
    await refresh(hass, loaded_entry)
    assert hass.states.get(speed).state == "3.0"
    assert hass.states.get(speed).last_reported > written[speed]
