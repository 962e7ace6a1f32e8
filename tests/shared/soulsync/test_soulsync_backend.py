"""The unified backend over the conformance server: search, enqueue (tracked or honestly not), cancel, status."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from peerdeck import (
    ALL,
    Credentials,
    Enqueued,
    EnqueueOptions,
    Magnet,
    SearchHit,
    TextRequest,
    TransferState,
    create_backend,
)
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
from peerdeck.soulsync.wishlist import is_future_release

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


@pytest.mark.parametrize("bug", [True, False])
async def test_a_text_request_is_reported_untracked_at_once(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock, bug: bool
) -> None:
    """SoulSync hands a /request straight to the Soulseek daemon: no task will ever be listed."""
    server.request_bug = bug  # 3.1.9 answers 500 although it took the job; a fixed one 202
    result = await backend.enqueue(TextRequest("Daft Punk - One More Time"))
    assert isinstance(result, Enqueued)
    assert result == []
    assert result.untracked
    assert result.notice is not None and "straight to the Soulseek daemon" in result.notice
    assert "not trackable through SoulSync" in result.notice
    assert clock.slept == []  # no wait for a task that cannot come
    assert downloads_polls(server) == 0
    assert [d["filename"] for d in server.soulseek_downloads] == ["@@music\\Daft Punk - One More Time.flac"]
    assert server.tasks == {}
    assert await backend.transfers() == []


async def test_enqueue_raises_other_server_errors(backend: SoulSyncBackend) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise PeerdeckServerError("boom", 500, "DOWNLOAD_ERROR")

    backend.client.request = broken  # type: ignore[assignment,method-assign]
    with pytest.raises(PeerdeckServerError) as err:
        await backend.enqueue(TextRequest("Daft Punk - One More Time"))
    assert err.value.code == "DOWNLOAD_ERROR"


async def test_a_track_hit_goes_through_the_wishlist_and_is_tracked(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    hit = await anext(backend.search("Around the World", limit=1))
    ids = await backend.enqueue(hit)
    assert isinstance(ids, Enqueued) and ids.notice is None and not ids.untracked
    assert len(ids) == 1
    task = server.tasks[ids[0]]
    assert (task.artist_name, task.track_name) == ("Daft Punk", "Around the World")
    assert [t["track_id"] for t in server.wishlists[1]] == ["3135556"]
    processing = [body for entry, body in zip(server.log, server.bodies, strict=True) if entry[1].endswith("/process")]
    assert processing == [b'{"track_ids": ["3135556"]}']  # this track alone, as JSON (else nothing starts)
    assert server.request_bodies == []
    assert clock.slept == []  # the batch's tasks appear at once


async def test_a_track_hit_as_a_request_is_untracked(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    backend = SoulSyncBackend(
        str(server.url), Credentials(api_key=api_key), rate_limiter=limiter(clock), track_enqueue="request"
    )
    try:
        hit = await anext(backend.search("Around the World", limit=1))
        result = await backend.enqueue(hit)
        assert isinstance(result, Enqueued) and result.untracked and result == []
        assert [r["query"] for r in server.music_requests.values()] == ["Daft Punk - Around the World"]
    finally:
        await backend.close()


async def test_two_picks_in_a_row_download_each_track_once(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    """Issue 24: B's wishlist run downloaded A a second time (SoulSync has no guard between runs)."""
    first = await anext(backend.search("Around the World", limit=1))
    second = await anext(backend.search("Roygbiv", limit=1))
    (a,) = await backend.enqueue(first)
    (b,) = await backend.enqueue(second)
    assert server.runs == [["3135556"], ["1109731"]]
    assert sorted(t.track_name or "" for t in server.tasks.values()) == ["Around the World", "Roygbiv"]
    assert (server.tasks[a].track_name, server.tasks[b].track_name) == ("Around the World", "Roygbiv")
    assert clock.slept == []


async def test_picking_a_track_being_downloaded_follows_that_download(
    backend: SoulSyncBackend, server: SoulSyncServer
) -> None:
    hit = await anext(backend.search("Around the World", limit=1))
    first = await backend.enqueue(hit)
    again = await backend.enqueue(hit)
    assert list(again) == list(first) and len(server.tasks) == 1
    assert again.notice is not None and "downloading this track already" in again.notice
    assert server.runs == [["3135556"]]


async def test_a_hit_during_the_automatic_run(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    server.auto_wishlist_running = True
    hit = await anext(backend.search("Roygbiv", limit=1))
    result = await backend.enqueue(hit)
    assert isinstance(result, Enqueued) and result == [] and not result.pending
    assert result.notice is not None and "waits on the wishlist for its next run" in result.notice
    assert [t["name"] for t in (entry["track_data"] for entry in server.wishlists[1])] == ["Roygbiv"]
    with pytest.raises(PeerdeckInputError):
        await backend.enqueue(SearchHit(id="track:1", title="bare"))


async def test_process_wishlist_reports_what_really_started(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    empty = await backend.process_wishlist()
    assert empty == [] and empty.notice is not None and "empty" in empty.notice
    assert not any(entry[1].endswith("/process") for entry in server.log)
    for query in ("Around the World", "Roygbiv"):
        hit = await anext(backend.search(query, limit=1))
        await backend.client.add_to_wishlist(hit.raw)
    started = await backend.process_wishlist()
    assert sorted(server.tasks[t].track_name or "" for t in started) == ["Around the World", "Roygbiv"]
    assert started.notice is None and not started.pending


async def test_process_wishlist_during_the_automatic_run(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    hit = await anext(backend.search("Roygbiv", limit=1))
    await backend.client.add_to_wishlist(hit.raw)
    server.auto_wishlist_running = True
    running = await backend.process_wishlist()
    assert running == [] and not running.pending
    assert running.notice is not None and "automatic wishlist run is going" in running.notice
    assert server.runs == []


async def test_the_button_pressed_twice_starts_nothing_twice(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    """Issue 24: every manual run re-downloaded every wishlist track that was not completed yet."""
    for query in ("Around the World", "Roygbiv"):
        hit = await anext(backend.search(query, limit=1))
        await backend.client.add_to_wishlist(hit.raw)
    first = await backend.process_wishlist()
    again = await backend.process_wishlist()
    assert len(first) == 2 and again == [] and not again.pending
    assert again.notice is not None and "every track on the wishlist already (2 downloads)" in again.notice
    assert len(server.runs) == 1 and len(server.tasks) == 2


async def test_the_button_after_a_pick_sends_only_the_other_tracks(
    backend: SoulSyncBackend, server: SoulSyncServer
) -> None:
    picked = await anext(backend.search("Around the World", limit=1))
    (task_id,) = await backend.enqueue(picked)
    other = await anext(backend.search("Roygbiv", limit=1))
    await backend.client.add_to_wishlist(other.raw)
    started = await backend.process_wishlist()
    assert [server.tasks[t].track_name for t in started] == ["Roygbiv"]
    assert server.runs == [["3135556"], ["1109731"]]
    assert [t.track_name for t in server.tasks.values()].count("Around the World") == 1
    assert task_id not in started


async def test_a_finished_attempt_does_not_block_a_new_run(backend: SoulSyncBackend, server: SoulSyncServer) -> None:
    hit = await anext(backend.search("Roygbiv", limit=1))
    await backend.client.add_to_wishlist(hit.raw)
    server.add_task("failed", track_name="Roygbiv", artist_name="Boards of Canada")
    started = await backend.process_wishlist()
    assert len(started) == 1 and server.runs == [["1109731"]]


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


async def test_remove_all_clears_the_soulseek_daemon_not_soulsync(
    backend: SoulSyncBackend, server: SoulSyncServer
) -> None:
    server.advance_downloads = False
    tasks = [server.add_task("downloading", username="peer") for _ in range(2)]
    await backend.enqueue(TextRequest("Daft Punk - One More Time"))
    assert len(server.soulseek_downloads) == 1
    await backend.remove(ALL)
    assert server.soulseek_downloads == []
    assert [t.status for t in tasks] == ["downloading", "downloading"]  # SoulSync's own list is untouched
    assert {t.state for t in await backend.transfers()} == {TransferState.ACTIVE}


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


async def test_update_follows_a_wishlist_download_to_completion_once(
    backend: SoulSyncBackend, server: SoulSyncServer
) -> None:
    await backend.update()
    hit = await anext(backend.search("One More Time", limit=1))
    ids = await backend.enqueue(hit)
    seen: list[tuple[TransferEventKind, TransferState]] = []
    states = []
    for _ in range(6):
        update = await backend.update()
        transfer = update.transfers[ids[0]]
        states.append((transfer.state, transfer.progress, transfer.progress_known, transfer.size))
        seen.extend((e.kind, e.transfer.state) for e in update.events)
    # SoulSync lists progress 0 and no size, even once the task is completed: unknown, not 0 %.
    assert states[:4] == [
        (TransferState.ACTIVE, 0.0, False, None),  # downloading
        (TransferState.ACTIVE, 0.0, False, None),  # post_processing
        (TransferState.COMPLETED, 1.0, True, None),
        (TransferState.COMPLETED, 1.0, True, None),
    ]
    completed = [index for index, (kind, _) in enumerate(seen) if kind is TransferEventKind.COMPLETED]
    assert len(completed) == 1
    assert (TransferEventKind.ADDED, TransferState.ACTIVE) in seen
    done = (await backend.transfers())[0]
    assert done.name == "Daft Punk - One More Time"
    assert done.raw["album_name"]["name"] == "Discovery"  # 3.1.9 lists the album object here
    assert done.completed_at is not None
    assert (done.raw["progress"], done.raw["size"], done.done_bytes) == (0, None, None)


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
    assert (by_file.progress, by_file.progress_known) == (1.0, True)
    assert by_file.completed_at is None
    iso = to_transfer(DownloadTask(id="t", status="completed", status_change_time="2026-03-03T12:00:00"))
    assert iso.completed_at is not None and iso.completed_at.tzinfo is not None
    assert to_transfer(DownloadTask(id="bare", status="queued")).name == "bare"
    assert to_transfer(DownloadTask(id="t", status="queued", track_name="Solo")).name == "Solo"
    assert to_transfer(DownloadTask(id="t", status="completed", status_change_time="yesterday")).completed_at is None


def test_progress_is_unknown_until_completed_never_made_up() -> None:
    listed = to_transfer(DownloadTask(id="t", status="post_processing", progress=0, size=None))
    assert (listed.progress, listed.progress_known, listed.done_bytes) == (0.0, False, None)
    # A percentage a later SoulSync might list is taken, but not as done before "completed".
    later = to_transfer(DownloadTask(id="t", status="post_processing", progress=100, size=1000))
    assert (later.progress, later.progress_known, later.done_bytes) == (0.99, True, None)
    halfway = to_transfer(DownloadTask(id="t", status="downloading", progress=50))
    assert (halfway.progress, halfway.progress_known) == (0.5, True)


@pytest.mark.parametrize(
    ("album", "name"),
    [
        ("Discovery", "Discovery"),
        ({"album_type": "album", "name": "Discovery", "id": "302127"}, "Discovery"),
        (None, None),
    ],
)
def test_album_name_is_a_string_or_an_object(album: object, name: str | None) -> None:
    task = DownloadTask.from_json({"id": "t", "status": "searching", "album_name": album})
    assert task.album_name == name


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


DISCOVERY = {"id": "302127", "name": "Discovery", "album_type": "album", "release_date": "2001-03-12"}
DISCOVERY_TRACKS = ("One More Time", "Aerodynamic", "Digital Love", "Harder, Better, Faster, Stronger", "Crescendolls")


async def wishlist_album(backend: SoulSyncBackend, count: int) -> None:
    for number, name in enumerate(DISCOVERY_TRACKS[:count], start=3135553):
        track = {"id": str(number), "name": name, "artists": [{"name": "Daft Punk"}], "album": DISCOVERY}
        await backend.client.add_to_wishlist(track)


@pytest.mark.parametrize("count", [2, 5])
async def test_an_album_search_is_not_nothing_started(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock, count: int
) -> None:
    """Issue 24: the album's tasks appear ~45 s later; that is a running search, not a failure, and a
    second press meanwhile must not start the album search again."""
    await backend.update()
    await wishlist_album(backend, count)
    started = await backend.process_wishlist()
    assert started == [] and started.pending
    assert started.notice is not None and "searching for 'Discovery' as whole albums" in started.notice
    assert clock.slept == []  # nothing to wait for now: the album search takes about a minute
    again = await backend.process_wishlist()
    assert again == [] and again.pending and len(server.runs) == 1
    assert again.notice is not None and f"still searching for {count} of the wishlist's tracks" in again.notice
    clock.now += 46.0
    events = (await backend.update()).events
    assert sorted(e.transfer.name for e in events if e.kind is TransferEventKind.ADDED) == sorted(
        f"Daft Punk - {name}" for name in DISCOVERY_TRACKS[:count]
    )
    after = await backend.process_wishlist()  # the album is downloading now: still nothing twice
    assert after == [] and not after.pending and len(server.runs) == 1
    assert [t.track_name for t in server.tasks.values()].count("One More Time") == 1


async def test_an_album_and_a_single_in_one_run(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    await wishlist_album(backend, 2)
    single = await anext(backend.search("Roygbiv", limit=1))
    await backend.client.add_to_wishlist(single.raw)
    started = await backend.process_wishlist()
    assert [server.tasks[t].track_name for t in started] == ["Roygbiv"]
    assert started.pending and started.notice is not None and "'Discovery'" in started.notice
    assert clock.slept == []


async def test_a_run_whose_tasks_never_come_ends_in_a_warning(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.settings["wishlist"] = {"album_bundle_min_tracks": 1}  # every track searched as an album
    hit = await anext(backend.search("Roygbiv", limit=1))
    server.album_search_seconds_override = 10_000.0
    result = await backend.enqueue(hit)
    assert result == [] and result.pending
    assert result.notice is not None and "'Roygbiv'" in result.notice  # SoulSync names the album after the track
    assert (await backend.enqueue(hit)).pending and len(server.runs) == 1  # not searched twice meanwhile
    clock.now += backend.album_timeout
    await backend.update()
    assert "started no download for 'Roygbiv'" in caplog.text
    await backend.enqueue(hit)
    assert len(server.runs) == 2  # after the bound the track may be asked for again


async def test_a_pick_refused_as_a_duplicate_runs_the_entry_soulsync_has(
    backend: SoulSyncBackend, server: SoulSyncServer
) -> None:
    """With ``wishlist.allow_duplicate_tracks`` off SoulSync answers 409 to the same song under another id."""
    await backend.client.add_to_wishlist({"id": "other-id", "name": "Roygbiv", "artists": ["Boards of Canada"]})
    server.refuse_duplicates = True
    hit = await anext(backend.search("Roygbiv", limit=1))
    (task_id,) = await backend.enqueue(hit)
    assert server.runs == [["other-id"]]
    assert server.tasks[task_id].track_name == "Roygbiv"


async def test_an_older_download_of_the_same_song_is_not_the_awaited_one(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    server.add_task("completed", track_name="Roygbiv", artist_name="Boards of Canada")  # fetched last week
    server.settings["wishlist"] = {"album_bundle_min_tracks": 1}
    hit = await anext(backend.search("Roygbiv", limit=1))
    assert (await backend.enqueue(hit)).pending
    await backend.update()
    again = await backend.enqueue(hit)
    assert again.pending and len(server.runs) == 1  # still awaited: not started twice
    clock.now += 46.0
    await backend.update()  # the album search ends: this run's task is listed
    (task_id,) = await backend.enqueue(hit)
    assert server.tasks[task_id].status != "completed" and len(server.runs) == 1


async def test_a_wishlist_run_for_another_profile_is_refused_before_anything_changes(
    server: SoulSyncServer, api_key: str, clock: FakeClock
) -> None:
    """A run started through the API always downloads profile 1's wishlist (SoulSync 3.1.9 takes the run's
    profile from the session, and an API client has none): profile 2's pick would add the track and then
    run admin's wishlist, downloading nothing of it, or something admin had waiting."""
    backend = SoulSyncBackend(
        str(server.url),
        Credentials(api_key=api_key),
        profile_id=2,
        rate_limiter=limiter(clock),
        clock=clock,
        sleep=clock.sleep,
    )
    try:
        await backend.client.add_to_wishlist({"id": "earlier", "name": "Roygbiv", "artists": ["Boards of Canada"]})
        hit = await anext(backend.search("Around the World", limit=1))
        with pytest.raises(PeerdeckNotSupportedError, match="profile 1"):
            await backend.enqueue(hit)
        with pytest.raises(PeerdeckNotSupportedError, match="profile 1"):
            await backend.process_wishlist()
        assert server.runs == [] and server.tasks == {}
        assert [t["track_id"] for t in server.wishlists[2]] == ["earlier"]  # the pick added nothing
    finally:
        await backend.close()


async def test_the_button_leaves_unreleased_tracks_for_later_as_soulsync_does(
    backend: SoulSyncBackend, server: SoulSyncServer
) -> None:
    """SoulSync's own run skips tracks whose album is announced but not out yet (a watchlist scan adds them),
    but an explicit ``track_ids`` selection overrides that: the button must not ask for them early."""
    released = await anext(backend.search("Roygbiv", limit=1))
    await backend.client.add_to_wishlist(released.raw)
    announced = {"id": "announced-1", "name": "Next Single", "artists": [{"name": "Boards of Canada"}]}
    announced["album"] = {"id": "next-lp", "name": "Next LP", "release_date": f"{datetime.now(UTC).year + 1}-12-31"}
    await backend.client.add_to_wishlist(announced)
    started = await backend.process_wishlist()
    assert [server.tasks[t].track_name for t in started] == ["Roygbiv"]
    assert server.runs == [["1109731"]]
    assert started.notice is not None and "1 track on the wishlist is not released yet" in started.notice
    again = await backend.process_wishlist()
    assert again == [] and len(server.runs) == 1
    assert again.notice is not None and "not released yet" in again.notice


@pytest.mark.parametrize(
    ("text", "future"),
    [
        ("2027", True),
        ("2026", False),
        ("2026-07", True),
        ("2026-06", False),
        ("2026-06-16", True),
        ("2026-06-15", False),  # released today
        ("2026-13-01", False),  # a wrong month falls back to the year
        ("2026-09-31", True),  # no such day: the month decides
        ("2026-06-31", False),
        ("", False),
        ("soon", False),
    ],
)
def test_future_releases_at_their_precision(text: str, future: bool) -> None:
    assert is_future_release(text, today=date(2026, 6, 15)) is future
