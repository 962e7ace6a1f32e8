"""quality_scale.yaml is complete, and what it claims holds in the code where a test can tell.

hassfest does not read this file for custom integrations, so this test keeps it honest.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import homeassistant.components
import yaml
from homeassistant.helpers.entity import EntityDescription

from custom_components.peerdeck import binary_sensor, button, config_flow, diagnostics, event, sensor, switch
from custom_components.peerdeck.const import DOMAIN

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / DOMAIN
PLATFORMS: dict[str, ModuleType] = {
    "binary_sensor": binary_sensor,
    "button": button,
    "event": event,
    "sensor": sensor,
    "switch": switch,
}

QUALITY_RULES = {
    "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow-test-coverage", "config-flow",
    "dependency-transparency", "docs-actions", "docs-triggers", "docs-conditions", "docs-high-level-description",
    "docs-installation-instructions", "docs-removal-instructions", "entity-event-setup", "entity-unique-id",
    "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup", "unique-config-entry",
    "action-exceptions", "config-entry-unloading", "docs-configuration-parameters", "docs-installation-parameters",
    "entity-unavailable", "integration-owner", "log-when-unavailable", "parallel-updates", "reauthentication-flow",
    "test-coverage", "devices", "diagnostics", "discovery-update-info", "discovery", "docs-data-update",
    "docs-examples", "docs-known-limitations", "docs-supported-devices", "docs-supported-functions",
    "docs-troubleshooting", "docs-use-cases", "dynamic-devices", "entity-category", "entity-device-class",
    "entity-disabled-by-default", "entity-translations", "exception-translations", "icon-translations",
    "reconfiguration-flow", "repair-issues", "stale-devices", "async-dependency", "inject-websession",
    "strict-typing",
}  # fmt: skip


def statuses() -> dict[str, str]:
    rules: dict[str, Any] = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    return {name: value if isinstance(value, str) else value["status"] for name, value in rules.items()}


def descriptions(module: ModuleType) -> list[EntityDescription]:
    """Every entity description a platform module defines at module level (alone or in collections)."""
    found: list[EntityDescription] = []
    for value in vars(module).values():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else [value]
        found += [item for item in items if isinstance(item, EntityDescription)]
    return found


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert len(QUALITY_RULES) == 54
    assert set(rules) == QUALITY_RULES
    for name, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in ("done", "todo", "exempt"), name
        if status != "done":
            assert value["comment"], name


def test_header_names_this_test() -> None:
    header = (INTEGRATION / "quality_scale.yaml").read_text().split("rules:")[0]
    assert "tests/ha/test_quality_scale.py" in header
    assert Path(__file__).relative_to(ROOT).as_posix() == "tests/ha/test_quality_scale.py"


def test_parallel_updates_and_entity_names() -> None:
    assert statuses()["parallel-updates"] == "done"
    for name, module in PLATFORMS.items():
        assert isinstance(getattr(module, "PARALLEL_UPDATES", None), int), name
        for description in descriptions(module):
            assert description.translation_key, (name, description.key)
            assert description.name is not None  # UNDEFINED: the name comes from the translation key


def test_flows_claimed_exist() -> None:
    flow = config_flow.PeerdeckConfigFlow
    assert statuses()["reauthentication-flow"] == "done"
    assert callable(flow.async_step_reauth)
    assert callable(flow.async_step_reauth_confirm)
    assert statuses()["reconfiguration-flow"] == "done"
    assert callable(flow.async_step_reconfigure)
    assert statuses()["diagnostics"] == "done"
    assert callable(diagnostics.async_get_config_entry_diagnostics)
    assert {"password", "api_key", "url", "identity", "device_id"} <= diagnostics.TO_REDACT


def test_unique_config_entry_is_never_a_url() -> None:
    """HA's rules list URLs among unacceptable unique ids: the flow sets one only from an identity."""
    tree = ast.parse((INTEGRATION / "config_flow.py").read_text())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "async_set_unique_id"
    ]
    assert calls
    for call in calls:
        assert ast.unparse(call.args[0]) == "info.identity"


def test_icons_exist_and_do_not_repeat_device_class_icons() -> None:
    """icon-translations: no entity overrides the icon its device class already gives (that each icon exists
    is checked against the frontend's icon set in test_package_files.py)."""
    assert statuses()["icon-translations"] == "done"
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]
    components = Path(homeassistant.components.__file__).parent
    for name, module in PLATFORMS.items():
        defaults = json.loads((components / name / "icons.json").read_text()).get("entity_component", {})
        for description in descriptions(module):
            device_class = getattr(description, "device_class", None)
            # An enum's generic icon says nothing of its states: those may have icons of their own.
            if device_class is not None and device_class != "enum" and device_class in defaults:
                assert description.translation_key not in icons.get(name, {}), (name, description.key)
