"""The integration's metadata files agree with each other and with the code."""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.peerdeck import binary_sensor, button, event, sensor, services, switch
from custom_components.peerdeck.const import DOMAIN

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / DOMAIN


def test_manifest_and_hacs() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == DOMAIN
    client = tomllib.loads((ROOT / "shared" / "pyproject.toml").read_text())["project"]["version"]
    assert manifest["requirements"] == [f"peerdeck=={client}"]
    assert manifest["integration_type"] == "service"
    assert manifest["config_flow"] is True
    for key in ("codeowners", "documentation", "issue_tracker", "iot_class", "version", "loggers"):
        assert manifest[key], key
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= {"name", "homeassistant", "render_readme", "hacs", "country", "zip_release", "filename"}
    assert hacs["name"] == "Peerdeck"
    assert (INTEGRATION / "brand" / "icon.png").is_file()


def test_translations_are_the_strings() -> None:
    assert (INTEGRATION / "strings.json").read_text() == (INTEGRATION / "translations" / "en.json").read_text()


async def test_every_action_is_described_and_translated(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    described = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert registered == set(described) == set(strings["services"]) == set(icons["services"])
    for name, spec in described.items():
        assert set(spec["fields"]) == set(strings["services"][name]["fields"]), name
    assert services.SERVICE_SEARCH in registered


def test_every_translation_key_exists() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    entity = strings["entity"]
    for platform, descriptions in (
        ("sensor", (*sensor.SENSORS, *sensor.FOLDER_SENSORS, *sensor.PEER_SENSORS)),
        ("binary_sensor", (binary_sensor.PEER_CONNECTED,)),
        ("switch", switch.SWITCHES),
        ("button", button.BUTTONS),
        ("event", (event.TRANSFER_EVENT,)),
    ):
        for description in descriptions:
            assert description.translation_key in entity[platform], description.key
            if options := getattr(description, "options", None):
                assert set(options) == set(entity[platform][description.translation_key]["state"])
    used = set()
    for source in (INTEGRATION / name for name in ("__init__.py", "coordinator.py", "services.py")):
        used |= set(re.findall(r'translation_key="(\w+)"', source.read_text()))
    assert used
    assert used <= set(strings["exceptions"])
    assert set(strings["issues"]) == {"banned", "unsupported_version"}


def frontend_icon_names() -> set[str]:
    """The Material Design Icons names the installed frontend can draw (what its icon picker lists, and the
    names its icon chunks hold); skips when this environment has no frontend package."""
    spec = importlib.util.find_spec("hass_frontend")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(
            "no home-assistant-frontend package in this environment: icons.json is checked against its icon list "
            "(scripts/setup installs it on both stacks)"
        )
    (package,) = spec.submodule_search_locations
    icon_list = Path(package) / "static" / "mdi" / "iconList.json"
    return {icon["name"] for icon in json.loads(icon_list.read_text())}


def icons_in(value: Any) -> list[str]:
    """Every icon string in icons.json, at any depth."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [icon for item in value.values() for icon in icons_in(item)]
    return []


def test_every_icon_is_one_the_frontend_has() -> None:
    """An icon the frontend lacks shows blank: each one in icons.json must be in the installed frontend's set."""
    names = frontend_icon_names()
    assert len(names) > 5000  # the whole set, not an empty or partial list
    icons = icons_in(json.loads((INTEGRATION / "icons.json").read_text()))
    assert len(icons) > 50
    assert [icon for icon in icons if not icon.startswith("mdi:")] == []
    assert sorted({icon for icon in icons if icon.removeprefix("mdi:") not in names}) == []
