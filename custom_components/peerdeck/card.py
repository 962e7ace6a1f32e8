"""Serve the Peerdeck Lovelace card from the integration's own folder and load it in every frontend.

HACS users install nothing else: the card's modules are static files under ``frontend/``, and the
main one is added as an extra frontend module, so it is in the card picker as soon as Peerdeck loads.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

CARD_FOLDER: Final = Path(__file__).parent / "frontend"
CARD_URL: Final = f"/{DOMAIN}_frontend"
CARD_MODULE: Final = "peerdeck-transfers-card.js"


def _card_version() -> str:
    """A short digest of the card's files, so browsers load a new card after an update."""
    digest = hashlib.sha256()
    for path in sorted(CARD_FOLDER.glob("*.js")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


async def async_setup_card(hass: HomeAssistant) -> str:
    """Serve the card's folder and add its module to the frontend (when one runs); returns the module URL."""
    await hass.http.async_register_static_paths([StaticPathConfig(CARD_URL, str(CARD_FOLDER), cache_headers=False)])
    version = await hass.async_add_executor_job(_card_version)
    url = f"{CARD_URL}/{CARD_MODULE}?v={version}"
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, url)
    return url
