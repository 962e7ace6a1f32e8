"""SoulSync in Home Assistant, its actions run against the SoulSync conformance server (3.1.9's behaviour)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from unittest.mock import patch

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from custom_components.peerdeck.coordinator import transfer_payload
from peerdeck import BackendInfo, BackendKind, Credentials
from peerdeck.soulsync import DownloadTask, SoulSyncBackend, to_transfer
from tests.shared.soulsync.catalogue import CATALOGUE_TRACKS
from tests.shared.soulsync.server import SoulSyncServer

from .conftest import ENTRY_DATA
from .fake_backend import FakeBackend
from .test_coordinator import entity_id

# The conformance server listens on 127.0.0.1, which the daemon marker lets these tests reach.
pytestmark = pytest.mark.daemon


@pytest.fixture
async def server() -> AsyncIterator[SoulSyncServer]:
    srv = SoulSyncServer()
    await srv.start()
    yield srv
    await srv.close()


@pytest.fixture
async def soulsync(hass: HomeAssistant, server: SoulSyncServer, backend: FakeBackend) -> AsyncIterator[SoulSyncBackend]:
    """A loaded SoulSync entry whose actions reach the server (its refreshes come from the fake)."""
    real = SoulSyncBackend(str(server.url), Credentials(api_key=server.add_key("ha")))
    backend.backend_info = BackendInfo(kind=BackendKind.SOULSYNC, version="unknown")
    real.info = backend.info  # type: ignore[method-assign]
    real.update = backend.update  # type: ignore[method-assign]
    entry = MockConfigEntry(domain=DOMAIN, data={**ENTRY_DATA, "kind": "soulsync"}, entry_id="entry1")
    entry.add_to_hass(hass)
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=real):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield real
        assert await hass.config_entries.async_unload(entry.entry_id)


async def press(hass: HomeAssistant, button: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id(hass, "button", button)}, blocking=True
    )


async def test_process_wishlist_button_really_starts_the_downloads(
    hass: HomeAssistant, server: SoulSyncServer, soulsync: SoulSyncBackend
) -> None:
    await soulsync.client.add_to_wishlist(CATALOGUE_TRACKS[0])
    await press(hass, "process_wishlist")
    assert [task.track_name for task in server.tasks.values()] == ["Around the World"]
    process = [
        body for (_, path, _, _), body in zip(server.log, server.bodies, strict=True) if path.endswith("/process")
    ]
    assert process == [b'{"track_ids": ["3135556"]}']  # this track, as JSON (else SoulSync starts nothing)
    # A second press while that track downloads: SoulSync would download it again (issue 24); nothing is
    # sent, and the press says why nothing started.
    with pytest.raises(
        HomeAssistantError, match=r"SoulSync started no download\. SoulSync is downloading every track on the wishlist"
    ):
        await press(hass, "process_wishlist")
    assert len(server.tasks) == 1 and len(server.runs) == 1


async def test_process_wishlist_button_with_an_album_is_no_error(
    hass: HomeAssistant, server: SoulSyncServer, soulsync: SoulSyncBackend
) -> None:
    """Two tracks of one album: SoulSync searches the album first and lists the downloads ~45 s later."""
    album = {"id": "302127", "name": "Discovery", "album_type": "album"}
    for number, name in ((3135553, "One More Time"), (3135554, "Aerodynamic")):
        await soulsync.client.add_to_wishlist(
            {"id": str(number), "name": name, "artists": ["Daft Punk"], "album": album}
        )
    await press(hass, "process_wishlist")
    await press(hass, "process_wishlist")  # during the album search: no error, and no second search
    assert server.tasks == {} and len(server.runs) == 1 and len(server.album_searches) == 1


async def test_process_wishlist_button_on_an_empty_wishlist(
    hass: HomeAssistant, server: SoulSyncServer, soulsync: SoulSyncBackend
) -> None:
    with pytest.raises(HomeAssistantError, match="wishlist is empty"):
        await press(hass, "process_wishlist")
    assert not any(path.endswith("/process") for _, path, _, _ in server.log)


async def test_a_text_request_answers_that_it_went_straight_to_soulseek(
    hass: HomeAssistant, server: SoulSyncServer, soulsync: SoulSyncBackend
) -> None:
    result = await hass.services.async_call(
        DOMAIN,
        "enqueue",
        {"config_entry_id": "entry1", "text": "Daft Punk - One More Time"},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert (result["ids"], result["tracked"]) == ([], False)
    assert "straight to the Soulseek daemon" in str(result["notice"])
    assert [d["filename"] for d in server.soulseek_downloads] == ["@@music\\Daft Punk - One More Time.flac"]
    assert server.tasks == {}


def test_transfer_data_says_progress_is_unknown_not_zero() -> None:
    """SoulSync lists 0 % until a download completes; events and responses carry null, not 0."""
    listed = transfer_payload(to_transfer(DownloadTask(id="t", status="downloading", track_name="Roygbiv")))
    assert listed["progress"] is None
    done = transfer_payload(to_transfer(DownloadTask(id="t", status="completed", progress=1.0)))
    assert done["progress"] == 1.0
