"""Searches as slskd runs them: responses written only when a search ends, an inactivity timeout,
the final state before the responses, queued searches (0.24+), and folder (album) hits."""

from __future__ import annotations

import pytest

from peerdeck import Credentials, PeerdeckInputError, SearchHit
from peerdeck.hits import filter_hits
from peerdeck.slskd import SlskdBackend

from .conftest import Running, Starter
from .server import Config, Peer

VERSIONS = ("0.22.5", "0.24.1", "0.26.0")


def answering_peers(count: int, spread: float) -> list[Peer]:
    """``count`` peers with one matching file each, answering evenly over ``spread`` seconds."""
    return [
        Peer(
            f"peer{i:03d}",
            files={f"Music\\Peer {i}\\Blue Tune {i}.mp3": 5_000_000 + i},
            response_delay=spread * i / count,
        )
        for i in range(count)
    ]


async def search(running: Running, query: str, timeout: float) -> list[SearchHit]:
    async with SlskdBackend(running.url, Credentials(api_key=running.api_key), search_poll_interval=0.05) as backend:
        return [hit async for hit in backend.search(query, timeout=timeout)]


@pytest.mark.parametrize("version", VERSIONS)
async def test_five_peers_within_a_second_are_all_found(start_slskd: Starter, version: str) -> None:
    running = await start_slskd(Config(version=version), answering_peers(5, 1.0))
    hits = await search(running, "blue tune", timeout=2.5)
    assert {h.source for h in hits} == {f"peer{i:03d}" for i in range(5)}
    assert running.server.searches == {}


@pytest.mark.parametrize(("count", "found"), [(1, 1), (150, 100)])
async def test_one_peer_and_more_peers_than_the_response_limit(start_slskd: Starter, count: int, found: int) -> None:
    running = await start_slskd(Config(response_interval=0.002, search_finalize_delay=0.3), answering_peers(count, 0.5))
    hits = await search(running, "blue tune", timeout=3.0)
    assert len({h.source for h in hits}) == found  # the library asks for at most 100 responses


async def test_a_steady_trickle_of_peers_is_stopped_in_time_and_read(start_slskd: Starter) -> None:
    # 30 peers over 4 s keep restarting slskd's inactivity timer: only a stop ends the search.
    running = await start_slskd(Config(), answering_peers(30, 4.0))
    hits = await search(running, "blue tune", timeout=2.0)
    assert 5 <= len({h.source for h in hits}) < 30
    methods = [m for m, p in running.server.requests if p.startswith("/api/v0/searches/")]
    assert "PUT" in methods  # stopped before the deadline
    assert running.server.searches == {}


async def test_responses_written_after_the_final_state_are_waited_for(start_slskd: Starter) -> None:
    running = await start_slskd(Config(search_finalize_delay=0.4), answering_peers(3, 0.1))
    hits = await search(running, "blue tune", timeout=3.0)
    assert len({h.source for h in hits}) == 3


async def test_a_queued_search_still_returns_hits(start_slskd: Starter) -> None:
    """slskd 0.24+ runs two searches at once; a third waits in ``Queued`` on the caller's time."""
    running = await start_slskd(Config(version="0.24.1"), answering_peers(3, 0.1))
    async with SlskdBackend(running.url, Credentials(api_key=running.api_key)) as other:
        for text in ("one", "two"):
            await other.client.searches_create(text, search_timeout=600)  # occupy both slots for 0.6 s
    hits = await search(running, "blue tune", timeout=3.0)
    assert len({h.source for h in hits}) == 3


def album_peers() -> list[Peer]:
    flac = {f"@@music\\Artist\\Blue Album\\0{i} - Track.flac": 30_000_000 + i for i in range(1, 4)}
    mp3 = {f"Shared/Blue Album/0{i} - Track.mp3": 8_000_000 + i for i in range(1, 4)}
    return [
        Peer("slowpoke", files={**flac, "@@music\\Artist\\Blue Album\\cover.jpg": 100_000}, free_slot=False),
        Peer("speedy", files=dict(mp3), free_slot=True, upload_speed=5_000_000, bitrate=192),
        Peer("single", files={"Misc/Blue Album Track.mp3": 1}, free_slot=True),
    ]


@pytest.fixture
async def albums(start_slskd: Starter) -> Running:
    return await start_slskd(Config(), album_peers())


async def test_folder_hits_come_first_ranked_with_their_details(albums: Running) -> None:
    hits = await search(albums, "blue album", timeout=1.5)
    folders = [h for h in hits if h.folder is not None]
    assert [h.source for h in folders] == ["speedy", "slowpoke"]  # a free upload slot first
    assert hits[: len(folders)] == folders
    slow = folders[1]
    assert slow.title == "Blue Album"
    assert slow.folder is not None
    assert slow.folder.path == "@@music\\Artist\\Blue Album"
    assert len(slow.folder.files) == 4
    assert slow.folder.formats[0] == "flac"
    assert slow.size == sum(size for _, size in slow.folder.files)
    fast = folders[0]
    assert fast.folder is not None and (fast.folder.bitrate_min, fast.folder.bitrate_max) == (192, 192)
    assert fast.free_slot is True and fast.queue_length == 0
    assert not any(h.source == "single" and h.folder is not None for h in hits)  # one file is no album


@pytest.mark.parametrize(
    ("version", "route"),
    [("0.26.0", "batches"), ("0.25.1", "per-user"), ("0.23.2", "per-file")],
)
async def test_enqueueing_a_folder_hit_downloads_the_whole_folder(
    start_slskd: Starter, version: str, route: str
) -> None:
    running = await start_slskd(Config(version=version), album_peers())
    peer = running.server.peers["speedy"]
    peer.files["Shared/Blue Album/04 - Hidden.mp3"] = 7_000_000  # in the folder, not in the search's answer
    peer.hold = True
    async with SlskdBackend(running.url, Credentials(api_key=running.api_key), search_poll_interval=0.05) as backend:
        hits = [h async for h in backend.search("blue album track", timeout=1.5)]
        folder = next(h for h in hits if h.folder is not None and h.source == "speedy")
        ids = await backend.enqueue(folder)
        listed = {t.name for t in await backend.transfers()}
    assert len(ids) == 4
    assert listed == {"01 - Track.mp3", "02 - Track.mp3", "03 - Track.mp3", "04 - Hidden.mp3"}
    posts = [p for m, p in running.server.requests if m == "POST" and p.startswith("/api/v0/transfers/")]
    expected = {"batches": 1, "per-user": 1, "per-file": 4}[route]
    assert len(posts) == expected


async def test_filters_a_soulseek_user_expects(albums: Running) -> None:
    hits = await search(albums, "blue album", timeout=1.5)
    flac = filter_hits(hits, formats=["FLAC"])
    assert flac and all("flac" in (h.folder.formats if h.folder else (h.title.rsplit(".", 1)[-1],)) for h in flac)
    rich = filter_hits(hits, min_bitrate=256)
    assert {h.source for h in rich} == {"slowpoke", "single"}  # lossless passes, 192 kbit/s does not
    with pytest.raises(PeerdeckInputError):
        filter_hits(hits, formats=["../x"])
    with pytest.raises(PeerdeckInputError):
        filter_hits(hits, min_bitrate=0)
