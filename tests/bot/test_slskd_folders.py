"""/search on slskd lists Soulseek folders (albums) first, with format and size, filters by format and
bit rate, and enqueueing a folder downloads the whole folder (against the slskd conformance server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peerdeck import HitFolder, SearchHit
from peerdeck_bot.state import SearchRecord, StateStore
from tests.shared.slskd.server import Config, Peer, SlskdConformance

from .conftest import StartBot
from .e2e import components, custom_id
from .fakes import FRIEND
from .test_conformance import serve_slskd, slskd_backend


def album_peers() -> list[Peer]:
    flac = {f"@@music\\Band\\Night Album\\0{i} - Night Song.flac": 30_000_000 for i in range(1, 4)}
    mp3 = {f"Shared/Night Album/0{i} - Night Song.mp3": 8_000_000 for i in range(1, 4)}
    return [
        Peer("collector", {**flac, "@@music\\Band\\Night Album\\04 - Bonus.flac": 20_000_000}, free_slot=True),
        Peer("casual", mp3, free_slot=False, bitrate=192),
        Peer("fan", {"Misc\\Night Song.mp3": 5_000_000}),
    ]


@pytest.fixture
async def albums(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[SlskdConformance, str]]:
    async for running in serve_slskd(SlskdConformance(Config(), album_peers()), monkeypatch):
        yield running


async def test_folders_first_with_format_and_size_and_a_folder_enqueues_the_album(
    albums: tuple[SlskdConformance, str], start_bot: StartBot
) -> None:
    server, url = albums
    harness, _ = await start_bot(slskd_backend(url))
    harness.adapter.messages.clear()
    await harness.command("search", FRIEND, query="night song", backend="music")
    [final] = harness.adapter.messages.values()
    select = next(c for c in components(final) if c["type"] == 3)
    labels = [(o["label"], o.get("description", "")) for o in select["options"]]
    assert [label for label, _ in labels[:2]] == ["Night Album", "Night Album"]
    assert labels[0][1].startswith("📁 3 files · FLAC · 85.8 MiB")  # the search found three of its four files
    assert labels[1][1].startswith("📁 3 files · MP3 · 192 kbps")
    picked = await harness.click(final, select["custom_id"], FRIEND, values=[select["options"][0]["value"]])
    redrawn = {**final, "components": picked[0].body["data"]["components"]}
    queued = await harness.click(redrawn, custom_id(redrawn, "pd:enq:"), FRIEND)
    assert "✅ Queued" in queued[-1].text
    [batch] = server.batches.values()
    assert len(batch["transfers"]) == 4  # the whole folder, the bonus track included


async def test_format_and_bit_rate_filters(albums: tuple[SlskdConformance, str], start_bot: StartBot) -> None:
    _, url = albums
    harness, _ = await start_bot(slskd_backend(url))
    harness.adapter.messages.clear()
    await harness.command("search", FRIEND, query="night song", backend="music", formats="flac")
    [final] = harness.adapter.messages.values()
    select = next(c for c in components(final) if c["type"] == 3)
    assert all("FLAC" in o.get("description", "") or o["label"].endswith(".flac") for o in select["options"])
    harness.adapter.messages.clear()
    await harness.command("search", FRIEND, query="night song", backend="music", min_bitrate=256)
    [final] = harness.adapter.messages.values()
    select = next(c for c in components(final) if c["type"] == 3)
    assert not any("casual" in o.get("description", "") for o in select["options"])


async def test_a_stored_folder_result_comes_back_as_a_folder(tmp_path: Path) -> None:
    folder = HitFolder("Music\\Album", (("Music\\Album\\01.flac", 5), ("Music\\Album\\02.flac", 6)), ("flac",))
    hit = SearchHit(id="folder:u/Music\\Album", title="Album", size=11, source="u", folder=folder)
    store = StateStore(tmp_path / "state.json")
    store.add_search(SearchRecord("abc", 1, "music", "album", hits=[hit]))
    assert await store.save()
    again = StateStore(tmp_path / "state.json")
    await again.load()
    assert again.state.searches["abc"].hits == [hit]
