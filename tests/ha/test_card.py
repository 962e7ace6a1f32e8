"""The card is served by the integration and loaded by every frontend, with nothing else to install."""

from __future__ import annotations

import json
import re
from pathlib import Path
from unittest.mock import MagicMock, patch

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.peerdeck.card import CARD_FOLDER, CARD_MODULE, CARD_URL

MODULE = re.compile(rf"^{re.escape(CARD_URL)}/{re.escape(CARD_MODULE)}\?v=[0-9a-f]{{12}}$")


def test_card_modules_import_only_their_own_folder() -> None:
    """No CDN, no build: every import of the card is a relative path to a committed file."""
    for path in CARD_FOLDER.glob("*.js"):
        for target in re.findall(r"""import\s*(?:[^"']*from\s*)?\(?["']([^"']+)["']""", path.read_text()):
            assert target.startswith("./"), f"{path.name} imports {target}"
            assert (CARD_FOLDER / target).is_file(), f"{path.name} imports a missing {target}"


async def test_the_frontend_loads_the_card(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock, hass_client: ClientSessionGenerator
) -> None:
    # The frontend is set up before Peerdeck (after_dependencies); its module list is what the card joins.
    # (The demo test loads the card in the real frontend; here the frontend package need not be installed.)
    hass.config.components.add("frontend")
    with patch("custom_components.peerdeck.card.add_extra_js_url") as add_extra_js_url:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    urls = [call.args[1] for call in add_extra_js_url.call_args_list]
    assert len(urls) == 1
    assert add_extra_js_url.call_args.args[0] is hass
    assert MODULE.match(urls[0]), urls

    client = await hass_client()
    reply = await client.get(urls[0])
    assert reply.status == 200
    body = await reply.text()
    assert "window.customCards" in body
    assert reply.headers["Content-Type"].startswith(("text/javascript", "application/javascript"))
    for name in ("card-config.js", "transfer-rows.js", "translations.js", "peerdeck-transfers-card-editor.js"):
        assert (await client.get(f"{CARD_URL}/{name}")).status == 200, name


async def test_without_a_frontend_the_card_is_only_served(
    hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock, hass_client: ClientSessionGenerator
) -> None:
    with patch("custom_components.peerdeck.card.add_extra_js_url") as add_extra_js_url:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    add_extra_js_url.assert_not_called()
    client = await hass_client()
    assert (await client.get(f"{CARD_URL}/{CARD_MODULE}")).status == 200


def test_the_manifest_orders_the_frontend_first() -> None:
    manifest = json.loads((Path(CARD_FOLDER).parent / "manifest.json").read_text())
    assert "frontend" in manifest["after_dependencies"]
    assert {"http", "websocket_api"} <= set(manifest["dependencies"])
