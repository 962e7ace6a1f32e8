"""The unified backend over the conformance server: search, enqueue (and the 3.1.9 bug), cancel, status."""

from __future__ import annotations

import asyncio
import logging

import pytest

from peerdeck import ALL, Credentials, EnqueueOptions, Magnet, SearchHit, TextRequest, TransferState, create_backend
from peerdeck.backend import Backend
from peerdeck.exceptions import (
    PeerdeckInputError,
    PeerdeckNotFoundError,
    PeerdeckNotSupportedError,
    PeerdeckServerError,
)
from peerdeck.models import BackendKind, SearchKind, TransferEventKind
from peerdeck.soulsync import SoulSyncBackend
from peerdeck.soulsync.backend import search_hits, to_transfer
from peerdeck.soulsync.models import DownloadTask, MetadataResults

from .conftest import FakeClock, limiter
from .server import SoulSyncServer


def downloads_polls(server: SoulSyncServer) -> int:
    return sum(1 for entry in server.log if entry[1] == "/api/v1/downloads")


async def test_factory_builds_it(server: SoulSyncServer, api_key: str) -> None:
    backend = create_backend("soulsync", str(server.url), Credentials(api_key=api_key))
    try:
        assert isinstance(backend, SoulSyncBackend)
        assert isinstance(backend, Backend)
        assert backend.capabilities.search is SearchKind.METADATA
        assert not backend.capabilities.pause
        assert not backend.capabilities.resume
    finally:
        await backend.close()


async def test_info_checks_the_key(backend: SoulSyncBackend) -> None:
    info = await backend.info()
    assert info.kind is BackendKind.SOULSYNC
    assert info.name == "SoulSync"
    assert info.api_version == "v1"


async def test_search_yields_tracks_albums_and_artists(backend: SoulSyncBackend) -> None:
    hits = [hit async for hit in backend.search("Daft Punk")]
    kinds = [hit.id.partition(":")[0] for hit in hits]
    assert kinds == ["track", "track", "album", "album", "artist"]
    assert hits[0].title == "Daft Punk - Around the World"
    assert hits[0].source == "deezer"
    assert hits[-1].title == "Daft Punk"


async def test_search_stops_at_the_limit(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    hits = [hit async for hit in backend.search("Daft Punk", limit=3)]
    assert [h.id for h in hits] == ["track:3135556", "track:3135553", "album:302127"]
    searches = [entry[1] for entry in server.log if "/search/" in entry[1]]
    assert searches == ["/api/v1/search/tracks", "/api/v1/search/albums"]


async def test_search_ends_quietly_at_its_deadline(backend: SoulSyncBackend, clock: FakeClock) -> None:
    hits = []
    async for hit in backend.search("Daft Punk", timeout=10.0):
        hits.append(hit)
        clock.now += 11.0  # the caller was slow; the next catalogue is not asked
    assert [h.id.partition(":")[0] for h in hits] == ["track", "track"]


async def test_search_ends_quietly_when_a_catalogue_outlasts_the_deadline(backend: SoulSyncBackend) -> None:
    never = asyncio.Event()

    async def stalled(*args: object, **kwargs: object) -> None:
        await never.wait()

    backend.client.search_tracks = stalled  # type: ignore[assignment,method-assign]
    assert [hit async for hit in backend.search("Daft Punk", timeout=0.01)] == []


async def test_search_needs_text(backend: SoulSyncBackend) -> None:
    with pytest.raises(PeerdeckInputError):
        [hit async for hit in backend.search(" ")]


async def test_enqueue_survives_the_request_500_bug(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    assert server.request_bug
    ids = await backend.enqueue(TextRequest("Daft Punk - One More Time"))
    assert len(ids) == 1
    task = server.tasks[ids[0]]
    assert (task.artist_name, task.track_name) == ("Daft Punk", "One More Time")
    assert downloads_polls(server) == 2  # the snapshot before, then one look after


async def test_enqueue_waits_boundedly_for_a_late_task(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    server.request_task_after_polls = 3
    ids = await backend.enqueue(TextRequest("Boards of Canada - Roygbiv"))
    assert len(ids) == 1
    assert clock.slept == [2.0, 2.0]


async def test_enqueue_gives_up_quietly_when_no_task_appears(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.unmatched_queries.add("Nobody - Nothing")
    with caplog.at_level(logging.WARNING, logger="peerdeck.soulsync.backend"):
        ids = await backend.enqueue(TextRequest("Nobody - Nothing"))
    assert ids == []
    assert sum(clock.slept) == 20.0
    assert "3.1.9" in caplog.text


async def test_enqueue_raises_other_server_errors(backend: SoulSyncBackend) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise PeerdeckServerError("boom", 500, "DOWNLOAD_ERROR")

    backend.client.request = broken  # type: ignore[assignment,method-assign]
    with pytest.raises(PeerdeckServerError) as err:
        await backend.enqueue(TextRequest("Daft Punk - One More Time"))
    assert err.value.code == "DOWNLOAD_ERROR"


async def test_enqueue_on_a_fixed_soulsync_skips_the_snapshot(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.request_bug = False
    assert await backend.enqueue(TextRequest("Daft Punk - One More Time")) == []
    assert downloads_polls(server) == 1
    assert await backend.enqueue(TextRequest("Daft Punk - Around the World")) == []
    assert downloads_polls(server) == 1
    assert len(server.music_requests) == 2


async def test_enqueue_a_track_hit_sends_a_request(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    hit = await anext(backend.search("Around the World", limit=1))
    ids = await backend.enqueue(hit)
    assert len(ids) == 1
    assert [r["query"] for r in server.music_requests.values()] == ["Daft Punk - Around the World"]


async def test_enqueue_a_track_hit_through_the_wishlist(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    backend = SoulSyncBackend(
        str(server.url), Credentials(api_key=api_key), rate_limiter=limiter(clock), track_enqueue="wishlist"
    )
    try:
        hit = await anext(backend.search("One More Time", limit=1))
        assert await backend.enqueue(hit) == []
        assert await backend.enqueue(hit) == []  # duplicate and running run are both fine
        assert [t["name"] for t in server.wishlists[1]] == ["One More Time"]
        processing = [e for e in server.log if e[1] == "/api/v1/wishlist/process"]
        assert len(processing) == 2
        assert [t.track_name for t in server.tasks.values()] == ["One More Time"]
        with pytest.raises(PeerdeckInputError):
            await backend.enqueue(SearchHit(id="track:1", title="bare"))
    finally:
        await backend.close()


@pytest.mark.parametrize("kind", ["album", "artist"])
async def test_album_and_artist_hits_explain_themselves(backend: SoulSyncBackend, kind: str) -> None:
    with pytest.raises(PeerdeckNotSupportedError, match="watch"):
        await backend.enqueue(SearchHit(id=f"{kind}:1", title="Discovery"))


async def test_enqueue_refuses_what_soulsync_cannot_do(backend: SoulSyncBackend) -> None:
    with pytest.raises(PeerdeckNotSupportedError, match="TextRequest"):
        await backend.enqueue(Magnet("magnet:?xt=urn:btih:" + "a" * 40))
    with pytest.raises(PeerdeckNotSupportedError, match="paused"):
        await backend.enqueue(TextRequest("x"), EnqueueOptions(start_paused=True))
    with pytest.raises(PeerdeckInputError):
        await backend.enqueue(SearchHit(id="playlist:1", title="x"))
    with pytest.raises(PeerdeckInputError):
        await backend.enqueue(TextRequest("  "))


async def test_pause_and_resume_say_what_to_do_instead(backend: SoulSyncBackend) -> None:
    with pytest.raises(PeerdeckNotSupportedError, match="no pause") as err:
        await backend.pause(ALL)
    assert "remove(ALL)" in str(err.value)
    with pytest.raises(PeerdeckNotSupportedError, match="no pause"):
        await backend.resume(["x"])


async def test_remove_all_cancels_everything(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    tasks = [server.add_task("downloading", username="peer") for _ in range(2)]
    await backend.remove(ALL)
    assert [t.status for t in tasks] == ["cancelled", "cancelled"]


async def test_remove_one_explains_the_cancel_mismatch(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    task = server.add_task("downloading", username="alice", filename="@@music\\a.flac")
    with pytest.raises(PeerdeckNotSupportedError) as err:
        await backend.remove([task.id])
    assert "slskd" in str(err.value)
    assert "alice" in str(err.value)
    assert task.status == "downloading"


async def test_remove_one_without_source_or_unknown(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    searching = server.add_task("searching", track_name="Roygbiv")
    with pytest.raises(PeerdeckNotSupportedError, match="no Soulseek source"):
        await backend.remove([searching.id])
    with pytest.raises(PeerdeckNotFoundError):
        await backend.remove(["no-such-task"])
    with pytest.raises(PeerdeckInputError):
        await backend.remove([])
    with pytest.raises(PeerdeckNotSupportedError, match="keeps downloaded files"):
        await backend.remove(ALL, delete_data=True)


async def test_remove_one_passes_on_other_failures(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    task = server.add_task("downloading", username="alice")
    server.slskd_configured = False
    with pytest.raises(PeerdeckServerError) as err:
        await backend.remove([task.id])
    assert (err.value.status, err.value.code) == (503, "NOT_AVAILABLE")


async def test_status_does_not_trust_the_services_flags(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.advance_downloads = False
    server.add_task("downloading", username="peer")
    server.add_task("failed")
    assert not backend.tracker.primed
    status = await backend.status()
    assert backend.tracker.primed
    assert status.connected
    assert status.count(TransferState.ACTIVE) == 1
    assert status.count(TransferState.FAILED) == 1
    assert status.extra["active_downloads"] == 1
    assert status.extra["library_tracks"] == 4
    assert status.extra["reported_services"]["soulseek"] is True
    assert "soulseek" not in {k for k in status.extra if k != "reported_services"}


async def test_update_follows_a_request_to_completion_once(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    await backend.update()
    ids = await backend.enqueue(TextRequest("Daft Punk - One More Time"))
    seen: list[tuple[TransferEventKind, TransferState]] = []
    states = []
    for _ in range(6):
        update = await backend.update()
        transfer = update.transfers[ids[0]]
        states.append((transfer.state, transfer.progress))
        seen.extend((e.kind, e.transfer.state) for e in update.events)
    assert states[:5] == [
        (TransferState.ACTIVE, 0.0),
        (TransferState.ACTIVE, 0.5),
        (TransferState.ACTIVE, 0.99),  # downloaded, still being tagged and moved: not done yet
        (TransferState.COMPLETED, 1.0),
        (TransferState.COMPLETED, 1.0),
    ]
    completed = [index for index, (kind, _) in enumerate(seen) if kind is TransferEventKind.COMPLETED]
    assert len(completed) == 1
    assert seen[completed[0]][1] is TransferState.COMPLETED
    assert (TransferEventKind.ADDED, TransferState.ACTIVE) in seen
    done = (await backend.transfers())[0]
    assert done.name == "Daft Punk - One More Time"
    assert done.completed_at is not None
    assert done.size == 30_000_000


async def test_events_come_from_polling(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.add_task("queued", track_name="Roygbiv", artist_name="Boards of Canada")
    await backend.update()  # primes the tracker: the task is searching (queued)
    stream = backend.events(interval=0)
    event = await anext(stream)
    await stream.aclose()
    assert event.kind is TransferEventKind.STATE_CHANGED
    assert event.previous_state is TransferState.QUEUED
    assert event.transfer.state is TransferState.ACTIVE


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("queued", TransferState.QUEUED),
        ("searching", TransferState.QUEUED),
        ("downloading", TransferState.ACTIVE),
        ("post_processing", TransferState.ACTIVE),
        ("completed", TransferState.COMPLETED),
        ("failed", TransferState.FAILED),
        ("not_found", TransferState.FAILED),
        ("cancelled", TransferState.CANCELLED),
        ("something_new", TransferState.ACTIVE),
    ],
)
def test_state_mapping(status: str, state: TransferState) -> None:
    assert to_transfer(DownloadTask(id="t", status=status)).state is state


def test_transfer_names_and_times() -> None:
    by_file = to_transfer(DownloadTask(id="t", status="completed", filename="@@music\\Artist\\song.flac"))
    assert by_file.name == "song.flac"
    assert by_file.progress == 1.0
    assert by_file.completed_at is None
    sized = to_transfer(DownloadTask(id="t", status="post_processing", progress=100, size=1000))
    assert (sized.progress, sized.done_bytes) == (0.99, 1000)
    iso = to_transfer(DownloadTask(id="t", status="completed", status_change_time="2026-03-03T12:00:00"))
    assert iso.completed_at is not None and iso.completed_at.tzinfo is not None
    assert to_transfer(DownloadTask(id="bare", status="queued")).name == "bare"
    assert to_transfer(DownloadTask(id="t", status="queued", track_name="Solo")).name == "Solo"
    assert to_transfer(DownloadTask(id="t", status="completed", status_change_time="yesterday")).completed_at is None


def test_search_hits_read_every_artist_shape() -> None:
    results = MetadataResults(
        items=(
            {"id": 1, "name": "A", "artists": "Solo Artist"},
            {"id": 2, "name": "B", "artists": [{"name": "X"}, "Y"]},
            {"id": 3, "name": "C", "artists": None},
        ),
        source="",
    )
    hits = search_hits("tracks", results)
    assert [h.title for h in hits] == ["Solo Artist - A", "X, Y - B", "C"]
    assert [h.id for h in hits] == ["track:1", "track:2", "track:3"]
    assert hits[0].source is None
