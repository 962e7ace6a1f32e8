"""Fixtures of the Home Assistant tests: a fake backend behind the factory, and config entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import CONF_KIND, CONF_TIMEOUT, DOMAIN

from .fake_backend import FakeBackend

URL = "http://127.0.0.1:8080"
ENTRY_DATA: dict[str, Any] = {
    CONF_KIND: "qbittorrent",
    CONF_URL: URL,
    CONF_USERNAME: "admin",
    CONF_PASSWORD: "secret",
    CONF_VERIFY_SSL: True,
    CONF_TIMEOUT: 10,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here as needing Home Assistant."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.ha)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture
def backend() -> FakeBackend:
    """The daemon every entry talks to."""
    return FakeBackend()


@pytest.fixture
def create_backend(backend: FakeBackend) -> Iterator[MagicMock]:
    """The library's factory, returning the fake backend."""
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=backend) as factory:
        yield factory


@pytest.fixture
def entry() -> MockConfigEntry:
    """A qBittorrent entry."""
    return MockConfigEntry(
        domain=DOMAIN, title="qBittorrent (127.0.0.1:8080)", data=ENTRY_DATA, entry_id="entry1", minor_version=2
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, entry: MockConfigEntry, create_backend: MagicMock) -> MockConfigEntry:
    """The entry, set up against the fake backend."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
