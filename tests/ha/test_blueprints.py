"""The automation blueprints in blueprints/automation/peerdeck/ load, validate and do what they say.

They are loaded with Home Assistant's own blueprint code, instantiated as automations the way the UI
does (``use_blueprint``), and driven: the Peerdeck actions they call are stand-ins registered with the
integration's real schemas, so a wrong field name fails here.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import models
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util import slugify
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import async_fire_time_changed, async_mock_service

from custom_components.peerdeck.const import EVENT_TRANSFER_COMPLETED
from custom_components.peerdeck.services import PAUSE_RESUME_SCHEMA

BLUEPRINTS = Path(__file__).resolve().parents[2] / "blueprints" / "automation" / "peerdeck"
NAMES = ("notify_on_completion", "pause_while_on", "syncthing_peer_away")
ENTRY = "01PEERDECKQBITTORRENTENTRY"
PEER = "binary_sensor.syncthing_backup_phone"


@pytest.mark.parametrize("name", NAMES)
def test_blueprint_is_valid(name: str) -> None:
    blueprint = models.Blueprint(
        load_yaml_dict(str(BLUEPRINTS / f"{name}.yaml")),
        expected_domain="automation",
        path=f"peerdeck/{name}.yaml",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"].endswith(f"blueprints/automation/peerdeck/{name}.yaml")


def _use(name: str, **inputs: object) -> dict[str, object]:
    return {"alias": name, "use_blueprint": {"path": f"peerdeck/{name}.yaml", "input": inputs}}


@pytest.fixture
async def automations(hass: HomeAssistant, tmp_path: Path) -> None:
    """The three blueprints set up as automations from a config folder that holds them."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "peerdeck")
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"gaming": {}}})
    config = [
        _use("notify_on_completion", daemon=ENTRY),
        _use("pause_while_on", daemon=ENTRY, watched="input_boolean.gaming"),
        _use("syncthing_peer_away", peer=PEER, away_for={"minutes": 30}),
    ]
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()


@pytest.mark.usefixtures("automations")
async def test_automations_load(hass: HomeAssistant) -> None:
    for name in NAMES:
        state = hass.states.get(f"automation.{name}")
        assert state is not None, name
        assert state.state == STATE_ON, name


@pytest.mark.usefixtures("automations")
async def test_notify_on_completion(hass: HomeAssistant) -> None:
    notes = async_mock_service(hass, "persistent_notification", "create")
    payload = {"daemon": "qbittorrent", "name": "open-movie-4k.mkv", "size": 100_663_296, "category": "movies"}
    hass.bus.async_fire(EVENT_TRANSFER_COMPLETED, {"entry_id": "another-entry", **payload})
    await hass.async_block_till_done()
    assert notes == []  # another daemon's transfer
    hass.bus.async_fire(EVENT_TRANSFER_COMPLETED, {"entry_id": ENTRY, **payload})
    await hass.async_block_till_done()
    assert len(notes) == 1
    assert notes[0].data["title"] == "Download complete"
    assert "open-movie-4k.mkv finished" in notes[0].data["message"]
    assert "qbittorrent" in notes[0].data["message"]


@pytest.mark.usefixtures("automations")
async def test_pause_while_on(hass: HomeAssistant) -> None:
    paused = async_mock_service(hass, "peerdeck", "pause", schema=PAUSE_RESUME_SCHEMA)
    resumed = async_mock_service(hass, "peerdeck", "resume", schema=PAUSE_RESUME_SCHEMA)
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": "input_boolean.gaming"}, blocking=True)
    await hass.async_block_till_done()
    assert [call.data for call in paused] == [{"config_entry_id": ENTRY}]
    assert resumed == []
    await hass.services.async_call("input_boolean", "turn_off", {"entity_id": "input_boolean.gaming"}, blocking=True)
    await hass.async_block_till_done()
    assert [call.data for call in resumed] == [{"config_entry_id": ENTRY}]
    assert len(paused) == 1


@pytest.mark.usefixtures("automations")
async def test_syncthing_peer_away(hass: HomeAssistant) -> None:
    notes = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PEER, "on", {"friendly_name": "Backup phone", "device_class": "connectivity"})
    await hass.async_block_till_done()
    hass.states.async_set(PEER, "off", {"friendly_name": "Backup phone", "device_class": "connectivity"})
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=10))
    await hass.async_block_till_done()
    assert notes == []  # not away long enough yet
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=31))
    await hass.async_block_till_done()
    assert len(notes) == 1
    assert notes[0].data["title"] == "Syncthing peer away"
    assert notes[0].data["message"].startswith("Backup phone has been disconnected since")


def test_example_dashboard_names_real_entities() -> None:
    """Every entity of dashboards/peerdeck.yaml ends with the slug of one of Peerdeck's entity names."""
    root = BLUEPRINTS.parents[2]
    strings = json.loads((root / "custom_components" / "peerdeck" / "translations" / "en.json").read_text())
    names = {
        f"{platform}.{slugify(entity['name'])}"
        for platform, entities in strings["entity"].items()
        for entity in entities.values()
    }
    dashboard = load_yaml_dict(str(root / "dashboards" / "peerdeck.yaml"))
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("entity"), str):
                found.append(node["entity"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(dashboard)
    assert len(found) > 10
    for entity_id in found:
        platform, object_id = entity_id.split(".")
        assert any(
            object_id.endswith("_" + name.split(".")[1]) and name.startswith(platform + ".") for name in names
        ), entity_id
