"""What the real Tribler 8.4.3 core does that a kinder server would hide (issue 16).

Each test drives the conformance core through a behaviour recorded from the real one: the
moment before libtorrent's handle exists, restarts, switched-off components, slow PATCHes,
failing removals and a core that goes down and comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from peerdeck import (
    ALL,
    Credentials,
    EnqueueOptions,
    Magnet,
    PeerdeckConnectionError,
    PeerdeckServerError,
    TorrentFile,
    TransferEvent,
    TransferEventKind,
    TransferState,
)
from peerdeck.tribler import TriblerActionError, TriblerBackend, TriblerClient, TriblerComponentOffError

from ..torrents import make_torrent
from .conftest import FAST, Core
from .server import API_KEY, PEER_KEY, FakeDownload, torrent_metadata

MAGNET_HASH = "4344503b7e797ebf31582327a5baae35b11bda01"
HANG_GUARD = 10.0
"""Seconds after which a test that waits for the core has failed (never a speed goal)."""


def seed(core: Core, name: str, **fields: Any) -> str:
    """A download the core already had (with its handle), shaped by ``fields``."""
    content, infohash = make_torrent(name, 20_000)
    download = FakeDownload(infohash=infohash, name=name, files=[(name, 20_000)], metainfo=content)
    for key, value in fields.items():
        setattr(download, key, value)
    core.server.downloads[infohash] = download
    return infohash


async def until(core: Core, condition: Callable[[], bool]) -> None:
    """Wait until the core reaches a state (the test fails if it never does)."""
    async with asyncio.timeout(HANG_GUARD):
        await core.server.wait_until(condition)


def states(transfers: Any) -> dict[str, TransferState]:
    return {tid: t.state for tid, t in transfers.items()}


# ---------------------------------------------------------------------- adding stopped


@pytest.mark.parametrize("magnet", [False, True], ids=["torrent", "magnet"])
async def test_enqueue_paused_stops_again_once_the_handle_exists(
    core: Core, backend: TriblerBackend, magnet: bool
) -> None:
    """A stop before libtorrent's handle only marks the download; the handle would start it."""
    core.server.handle_delay = 0.3
    content, infohash = make_torrent("a.bin")
    target = Magnet(f"magnet:?xt=urn:btih:{MAGNET_HASH}&dn=x") if magnet else TorrentFile(content)
    (added,) = await backend.enqueue(target, EnqueueOptions(start_paused=True))
    assert added == (MAGNET_HASH if magnet else infohash)
    download = core.server.downloads[added]
    await until(core, lambda: download.has_handle)
    assert (download.status, download.user_stopped) == ("STOPPED", True)
    stops = [r for r in core.server.requests if r == ("PATCH", f"/api/downloads/{added}")]
    assert len(stops) >= 2
    assert (await backend.transfers())[0].state is TransferState.PAUSED


async def test_enqueue_paused_reports_a_download_that_never_stops(core: Core, backend: TriblerBackend) -> None:
    core.server.handle_delay = None  # libtorrent never gets to it (the DHT is not ready, say)
    backend.pause_wait = 0.2
    content, infohash = make_torrent("a.bin")
    with pytest.raises(TriblerActionError, match=r"still EXIT_NODES after 0\.2 s") as caught:
        await backend.enqueue(TorrentFile(content), EnqueueOptions(start_paused=True))
    assert list(caught.value.failed) == [infohash]
    assert infohash in core.server.downloads  # added, and said so


# ---------------------------------------------------------------------- switched-off components


async def test_switched_off_component_is_not_supported_at_once(core: Core) -> None:
    core.server.components_off = {"/api/search"}
    async with TriblerClient(core.url, api_key=API_KEY, startup_wait=30, startup_retry_interval=0.01) as client:
        with pytest.raises(TriblerComponentOffError, match="switched off"):
            await client.remote_search("ubuntu")
    # The core has started: one more try (in case the component came up meanwhile), then the answer.
    assert core.server.requests.count(("PUT", "/api/search/remote")) == 2


async def test_search_without_content_discovery(core: Core, backend: TriblerBackend) -> None:
    """Local matches are still given; with none, the search says remote search is off."""
    core.server.components_off = {"/api/search"}
    core.server.local_catalogue = [torrent_metadata("Debian 12", 600_000_000)]
    async with asyncio.timeout(HANG_GUARD):
        hits = [hit async for hit in backend.search("debian", timeout=30)]
        assert [h.title for h in hits] == ["Debian 12"]
        with pytest.raises(TriblerComponentOffError):
            _ = [hit async for hit in backend.search("ubuntu", timeout=30)]


async def test_search_keeps_its_deadline_while_the_core_starts(core: Core) -> None:
    core.server.starting_requests = 1_000_000
    backend = TriblerBackend(core.url, Credentials(api_key=API_KEY), startup_wait=30, events_backoff=FAST)
    backend.client.startup_retry_interval = 0.01
    try:
        async with asyncio.timeout(HANG_GUARD):  # the core's own start-up wait is 30 s
            assert [hit async for hit in backend.search("debian", timeout=0.3)] == []
    finally:
        await backend.close()


async def test_search_without_peers_ends_at_once(core: Core, backend: TriblerBackend) -> None:
    core.server.search_peers = []
    async with asyncio.timeout(HANG_GUARD):
        assert [hit async for hit in backend.search("ubuntu", timeout=600)] == []
    assert ("PUT", "/api/search/remote") in core.server.requests


# ---------------------------------------------------------------------- restarts


async def test_restart_loading_window_changes_nothing(core: Core, backend: TriblerBackend) -> None:
    """Right after a restart every download reads STOPPED/EXIT_NODES with progress 0; that is no news."""
    seeding = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000, hops=1)
    plain = seed(core, "plain.bin", progress=0.4, hops=0)
    stopped = seed(core, "stopped.bin", status="STOPPED", progress=0.2, user_stopped=True, hops=0)
    before = states((await backend.update()).transfers)
    core.server.restart()
    assert (await backend.update()).events == ()  # checkpoints still loading
    core.server.checkpoints_loaded = True
    window = await backend.client.downloads()
    assert {r["status"] for r in window["downloads"]} == {"STOPPED", "EXIT_NODES"}
    assert {type(r["progress"]) for r in window["downloads"]} == {int}
    update = await backend.update()
    assert update.events == ()
    assert states(update.transfers) == before
    assert update.transfers[plain].progress == pytest.approx(0.4)
    core.server.attach_handles()
    update = await backend.update()
    assert update.events == ()
    assert (
        states(update.transfers)
        == before
        == {
            seeding: TransferState.COMPLETED,
            plain: TransferState.ACTIVE,
            stopped: TransferState.PAUSED,
        }
    )


async def test_restart_window_seen_first_by_a_restored_backend(core: Core) -> None:
    """A backend resumed from its saved state during the window announces nothing either."""
    finished = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000, hops=1)
    running = seed(core, "plain.bin", progress=0.4, hops=0)
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as first:
        await first.update()
        saved = first.export_state()
    core.server.restart()
    core.server.checkpoints_loaded = True
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as second:
        second.restore_state(saved)
        assert (await second.update()).events == ()
        core.server.attach_handles()
        update = await second.update()
    assert update.events == ()
    assert states(update.transfers) == {finished: TransferState.COMPLETED, running: TransferState.ACTIVE}


async def test_state_exported_before_the_first_look_restores_nothing(core: Core) -> None:
    """An export taken while checkpoints load must not restore as "primed, no downloads"."""
    old = seed(core, "old.bin", progress=0.4)
    core.server.checkpoints_loaded = False
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as first:
        await first.update()
        saved = first.export_state()
    core.server.checkpoints_loaded = True
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as second:
        second.restore_state(saved)
        assert (await second.update()).events == ()
        new = seed(core, "new.bin")
        events = (await second.update()).events
    assert [(e.kind, e.transfer.id) for e in events] == [(TransferEventKind.ADDED, new)]
    assert old != new


async def test_state_of_an_empty_core_still_announces_what_came_later(core: Core) -> None:
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as first:
        await first.update()
        saved = first.export_state()
    added = seed(core, "while-away.bin", status="SEEDING", progress=1.0)
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as second:
        second.restore_state(saved)
        events = (await second.update()).events
    assert [(e.kind, e.transfer.id) for e in events] == [
        (TransferEventKind.ADDED, added),
        (TransferEventKind.COMPLETED, added),
    ]


async def test_state_saved_by_older_releases_is_restored(core: Core) -> None:
    running = seed(core, "a.bin", progress=0.4)
    async with TriblerBackend(core.url, Credentials(api_key=API_KEY)) as backend:
        backend.restore_state({running: {"name": "a.bin", "state": "active", "done": False}})
        core.server.finish(running)
        events = (await backend.update()).events
    assert [(e.kind, e.previous_state) for e in events] == [(TransferEventKind.COMPLETED, TransferState.ACTIVE)]


# ---------------------------------------------------------------------- events across a restart


async def next_event(events: AsyncIterator[TransferEvent]) -> TransferEvent:
    async with asyncio.timeout(HANG_GUARD):
        return await anext(events)


async def test_events_survive_a_shutdown_and_resume_when_the_core_returns(core: Core, backend: TriblerBackend) -> None:
    """The stream is cut after the shutdown frames; while the core is down no read may end the
    iterator, and the first change after its return is announced once, without restart noise."""
    seeding = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000, hops=0)
    running = seed(core, "run.bin", progress=0.5, hops=0)
    await backend.update()
    backend.events_backoff = None  # the default backoff: reconnections are capped at the interval
    events = backend.events(interval=0.05)
    pending = asyncio.ensure_future(anext(events))
    try:
        await core.server.wait_streams(1)
        core.server.shut_down()
        dropped = len(core.server.requests)
        await until(core, lambda: len(core.server.requests) >= dropped + 3)  # reads failed while down
        assert not pending.done()
        core.server.restart()
        core.server.checkpoints_loaded = True
        await until(core, lambda: core.server.stream_count >= 2)
        core.server.attach_handles()
        core.server.finish(running)
        async with asyncio.timeout(HANG_GUARD):
            event = await pending
        assert (event.kind, event.transfer.id) == (TransferEventKind.COMPLETED, running)
        core.server.downloads[seeding].user_stopped = True
        core.server.set_status(seeding, "STOPPED")
        event = await next_event(events)
        assert (event.kind, event.transfer.id, event.transfer.state) == (
            TransferEventKind.STATE_CHANGED,
            seeding,
            TransferState.PAUSED,
        )
        assert event.previous_state is TransferState.COMPLETED
    finally:
        pending.cancel()
        await events.aclose()


async def test_shutdown_frames_then_a_cut_stream(core: Core, client: TriblerClient) -> None:
    """The real core's shutdown, as a plain client sees it: state frames, then a broken chunk."""
    async with (
        aiohttp.ClientSession(headers={"X-Api-Key": API_KEY}) as session,
        session.get(f"{core.url}/api/events") as response,
    ):
        await core.server.wait_streams(1)
        core.server.shut_down()
        received: list[bytes] = []

        async def drain() -> None:
            async for chunk in response.content.iter_any():
                received.append(chunk)

        with pytest.raises(aiohttp.ClientPayloadError):
            await drain()
    assert b"".join(received).count(b"event: tribler_shutdown_state") == 12
    with pytest.raises(PeerdeckConnectionError):
        await client.events_info()


# ---------------------------------------------------------------------- several downloads at once


async def test_pause_all_sends_changes_side_by_side(core: Core, backend: TriblerBackend) -> None:
    """Each PATCH waits for the core's alert tick; one at a time, 100 downloads take 100 ticks."""
    core.server.alert_tick = 0.05
    hashes = [seed(core, f"{index}.bin") for index in range(12)]
    await backend.pause(ALL)
    assert {core.server.downloads[h].status for h in hashes} == {"STOPPED"}
    assert 1 < core.server.max_in_flight <= backend.bulk_concurrency
    core.server.max_in_flight = 0
    await backend.resume(hashes)
    assert {core.server.downloads[h].status for h in hashes} == {"DOWNLOADING"}
    assert 1 < core.server.max_in_flight <= backend.bulk_concurrency


async def test_remove_all_carries_on_past_a_failure(core: Core, backend: TriblerBackend) -> None:
    streamed = seed(core, "streamed.mp4")
    others = [seed(core, f"{index}.bin") for index in range(3)]
    core.server.failing_removals[streamed] = "IndexError: list index out of range"
    with pytest.raises(TriblerActionError, match="1 of 4 downloads failed") as caught:
        await backend.remove(ALL)
    assert list(caught.value.failed) == [streamed]
    assert "list index out of range" in str(caught.value.failed[streamed])
    assert sorted(caught.value.done) == sorted(others)
    assert sorted(core.server.removed) == sorted(others)
    assert list(core.server.downloads) == [streamed]


async def test_one_download_failing_is_its_own_error(core: Core, backend: TriblerBackend) -> None:
    streamed = seed(core, "streamed.mp4")
    core.server.failing_removals[streamed] = "RuntimeError: invalid torrent handle used"
    with pytest.raises(PeerdeckServerError, match="invalid torrent handle"):
        await backend.remove([streamed])


# ---------------------------------------------------------------------- smaller differences


async def test_identity_is_the_core_key_not_the_empty_public_key(core: Core, backend: TriblerBackend) -> None:
    assert (await backend.client.events_info())["public_key"] == ""
    assert (await backend.info()).identity == PEER_KEY
    core.server.starting_requests = 1  # overlays are listed only once the core has started
    assert (await backend.info()).identity is None


async def test_metadata_transfer_has_no_size_yet(core: Core, backend: TriblerBackend) -> None:
    await backend.enqueue(Magnet(f"magnet:?xt=urn:btih:{MAGNET_HASH}&dn=x"))
    await until(core, lambda: core.server.downloads[MAGNET_HASH].status == "METADATA")
    (transfer,) = await backend.transfers()
    assert (transfer.raw["size"], transfer.size, transfer.done_bytes) == (0, None, None)


async def test_missing_torrent_path_is_named(client: TriblerClient, tmp_path: Path) -> None:
    missing = tmp_path / "gone.torrent"
    with pytest.raises(PeerdeckServerError, match=f"{missing} does not exist on the Tribler host"):
        await client.add_torrent_path(str(missing))


async def test_add_goes_through_handle_check_and_start(core: Core, backend: TriblerBackend) -> None:
    core.server.handle_delay = None
    content, infohash = make_torrent("a.bin")
    await backend.enqueue(TorrentFile(content))
    (waiting,) = await backend.transfers()
    assert (waiting.raw["status"], waiting.state) == ("EXIT_NODES", TransferState.QUEUED)
    core.server.attach_handles()
    assert [kw["status"] for topic, kw in core.server.notified if topic == "torrent_status_changed"] == [
        "HASHCHECKING",
        "DOWNLOADING",
    ]
    assert (await backend.transfers())[0].state is TransferState.ACTIVE
    assert infohash in core.server.downloads


async def test_recheck_returns_to_seeding_without_a_second_completion(core: Core, backend: TriblerBackend) -> None:
    seeding = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000)
    await backend.update()
    await backend.client.recheck(seeding)
    await until(core, lambda: core.server.downloads[seeding].status == "SEEDING")
    assert [kw["status"] for _, kw in core.server.notified] == ["HASHCHECKING", "SEEDING"]
    assert (await backend.update()).events == ()


async def test_finished_only_announced_when_bytes_came_this_session(core: Core, backend: TriblerBackend) -> None:
    running = seed(core, "run.bin", progress=0.5, hops=0)
    complete = seed(core, "complete.bin", progress=1.0, status="HASHCHECKING")
    core.server.finish(running)
    core.server.finish(complete)
    assert [kw["infohash"] for topic, kw in core.server.notified if topic == "torrent_finished"] == [running]
    # Safe seeding moves the finished plain download to the default hops.
    assert core.server.downloads[running].hops == 1


async def test_core_answers_bad_parameters_like_tribler(core: Core) -> None:
    headers = {"X-Api-Key": API_KEY}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.patch(f"{core.url}/api/downloads/not-hex", json={"state": "stop"}) as response:
            body = await response.json()
            assert response.status == 500
            assert body["error"]["handled"] is False
            assert "ValueError" in body["error"]["message"].splitlines()[-1]
        for query in ({"fts_text": "a", "first": "one"}, {"fts_text": "a", "sort_desc": "maybe"}):
            async with session.get(f"{core.url}/api/metadata/search/local", params=query) as response:
                assert response.status == 400
                assert (await response.json())["error"]["message"] == "Error processing request parameters"


async def test_record_types_match_the_core(core: Core, client: TriblerClient) -> None:
    seed(core, "a.bin", speed_down=1000, speed_up=10)
    (record,) = (await client.downloads())["downloads"]
    assert (type(record["speed_down"]), type(record["speed_up"])) == (int, int)
    assert (record["seeding_ratio"], type(record["seeding_ratio"])) == (2.0, float)
    assert type(record["progress"]) is float
    settings = await client.settings()
    assert {"api", "ipv8", "libtorrent", "content_discovery_community", "tunnel_community", "state_dir"} <= set(
        settings
    )
