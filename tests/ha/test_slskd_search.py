"""``peerdeck.search`` and ``peerdeck.enqueue`` on slskd, against the slskd conformance server: real
hits from peers that answer the way slskd collects them, folder (album) hits, and filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

import pytest
from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.peerdeck.const import DOMAIN
from peerdeck import BackendInfo, BackendKind, Credentials
from peerdeck.slskd import SlskdBackend
from tests.shared.slskd.server import Config, Peer, SlskdConformance

from .conftest import ENTRY_DATA
from .fake_backend import FakeBackend

# The conformance server listens on 127.0.0.1, which the daemon marker lets these tests reach.
pytestmark = pytest.mark.daemon


def peers() -> list[Peer]:
    """Five users answering within a second; one shares a FLAC album, one an MP3 album at 192 kbit/s."""
    flac = {f"@@music\\Band\\Night Album\\0{i} - Night Song.flac": 30_000_000 + i for i in range(1, 4)}
    mp3 = {f"Shared/Night Album/0{i} - Night Song.mp3": 8_000_000 + i for i in range(1, 4)}
    singles = [Peer(f"fan{i}", {f"Misc\\Night Song {i}.mp3": 5_000_000}, response_delay=0.2 * i) for i in range(3)]
    return [
        Peer("collector", flac, free_slot=True, upload_speed=4_000_000, response_delay=0.3),
        Peer("casual", mp3, free_slot=False, bitrate=192, response_delay=0.5),
        *singles,
    ]


@pytest.fixture
async def server() -> AsyncIterator[tuple[SlskdConformance, str]]:
    conformance = SlskdConformance(Config(), peers())
    runner = web.AppRunner(conformance.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield conformance, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def slskd(
    hass: HomeAssistant, server: tuple[SlskdConformance, str], backend: FakeBackend
) -> AsyncIterator[SlskdBackend]:
    """A loaded slskd entry whose actions reach the server (its refreshes come from the fake)."""
    conformance, url = server
    assert conformance.config.api_key is not None
    real = SlskdBackend(url, Credentials(api_key=conformance.config.api_key), search_poll_interval=0.05)
    backend.backend_info = BackendInfo(kind=BackendKind.SLSKD, version="0.26.0")
    real.info = backend.info  # type: ignore[method-assign]
    real.update = backend.update  # type: ignore[method-assign]
    entry = MockConfigEntry(domain=DOMAIN, data={**ENTRY_DATA, "kind": "slskd"}, entry_id="entry1")
    entry.add_to_hass(hass)
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=real):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield real
        assert await hass.config_entries.async_unload(entry.entry_id)


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, {"config_entry_id": "entry1", **data}, blocking=True, return_response=True
    )


@pytest.mark.usefixtures("slskd")
async def test_search_returns_what_five_peers_answered_folders_first(hass: HomeAssistant) -> None:
    result = await call(hass, "search", {"query": "night song", "timeout": 3})
    hits = result["hits"]
    assert {h["source"] for h in hits} == {"collector", "casual", "fan0", "fan1", "fan2"}
    folders = [h for h in hits if h["kind"] == "folder"]
    assert hits[: len(folders)] == folders
    assert [(h["source"], h["file_count"], h["formats"]) for h in folders] == [
        ("collector", 3, ["flac"]),
        ("casual", 3, ["mp3"]),
    ]
    assert folders[1]["bitrate_min"] == 192


@pytest.mark.usefixtures("slskd")
async def test_filters_and_enqueueing_a_folder_hit(hass: HomeAssistant, server: tuple[SlskdConformance, str]) -> None:
    conformance, _ = server
    flac = await call(hass, "search", {"query": "night song", "timeout": 3, "formats": ["FLAC"]})
    assert {h["source"] for h in flac["hits"]} == {"collector"}
    fast = await call(hass, "search", {"query": "night song", "timeout": 3, "min_bitrate": 256})
    assert "casual" not in {h["source"] for h in fast["hits"]}
    album = next(h for h in fast["hits"] if h["kind"] == "folder")
    queued = await call(hass, "enqueue", {"hit": album["id"]})
    assert len(queued["ids"]) == 3
    [batch] = conformance.batches.values()
    assert {t["filename"].rsplit("\\", 1)[-1] for t in batch["transfers"]} == {
        f"0{i} - Night Song.flac" for i in range(1, 4)
    }
    with pytest.raises(ServiceValidationError):
        await call(hass, "search", {"query": "night", "timeout": 3, "formats": ["../x"]})
