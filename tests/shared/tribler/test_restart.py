"""A Tribler core that (re)starts: actions given before a download has its handle stick, a paused
add is never shown running, and what changed while the core loaded is announced once, at once
(issues 22 and 24)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import pytest

from peerdeck import (
    ALL,
    EnqueueOptions,
    PeerdeckNotFoundError,
    PeerdeckServerError,
    TorrentFile,
    TransferEvent,
    TransferEventKind,
    TransferState,
)
from peerdeck.tribler import TriblerBackend

from ..torrents import make_torrent
from .conftest import Core
from .test_real_core import HANG_GUARD, seed, until


async def restarted(core: Core, backend: TriblerBackend) -> None:
    """The backend knows the downloads; then the core restarts and has loaded its checkpoints,
    but libtorrent has no handle for any download yet."""
    await backend.update()
    core.server.restart()
    core.server.checkpoints_loaded = True


@pytest.mark.parametrize("handle_after", [0.0, 0.3], ids=["handle-at-once", "handle-later"])
async def test_a_pause_right_after_a_restart_sticks(core: Core, backend: TriblerBackend, handle_after: float) -> None:
    """Issue 24: a pause in the first second after a restart was lost (STOPPED → SEEDING a second later)."""
    seeding = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000, hops=0)
    await restarted(core, backend)
    pausing = asyncio.ensure_future(backend.pause([seeding]))
    await eventually(lambda: core.server.downloads[seeding].user_stopped)  # marked, no handle yet
    await asyncio.sleep(handle_after)
    core.server.attach_handles()
    async with asyncio.timeout(HANG_GUARD):
        await pausing
    assert core.server.downloads[seeding].status == "STOPPED"
    assert (await backend.transfers())[0].state is TransferState.PAUSED


async def test_a_pause_before_the_checkpoints_are_loaded_sticks(core: Core, backend: TriblerBackend) -> None:
    """Issue 24's pause at 0.2 to 0.5 s after a restart: the core answers, but has not loaded the download yet
    (404 "this download does not exist"); it then loads and runs as before the restart."""
    seeding = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000, hops=0)
    await backend.update()
    core.server.restart()  # checkpoints not loaded yet
    pausing = asyncio.ensure_future(backend.pause([seeding]))
    await until(core, lambda: reads(core) >= 3)  # waiting for the checkpoints
    core.server.checkpoints_loaded = True
    core.server.attach_handles()
    async with asyncio.timeout(HANG_GUARD):
        await pausing
    assert core.server.downloads[seeding].status == "STOPPED"


async def test_pause_all_before_the_checkpoints_are_loaded_pauses_every_download(
    core: Core, backend: TriblerBackend
) -> None:
    downloads = [seed(core, f"run{n}.bin", progress=0.5, hops=0) for n in range(2)]
    core.server.restart()
    pausing = asyncio.ensure_future(backend.pause(ALL))
    await until(core, lambda: reads(core) >= 2)
    core.server.checkpoints_loaded = True
    core.server.attach_handles()
    async with asyncio.timeout(HANG_GUARD):
        await pausing
    assert [core.server.downloads[d].status for d in downloads] == ["STOPPED", "STOPPED"]


async def test_a_pause_whose_download_never_loads_fails_clearly(core: Core, backend: TriblerBackend) -> None:
    seeding = seed(core, "seed.bin", status="SEEDING", progress=1.0, time_finished=1_700_000_000, hops=0)
    core.server.restart()
    backend.pause_wait = 0.2
    with pytest.raises(PeerdeckNotFoundError):
        async with asyncio.timeout(HANG_GUARD):
            await backend.pause([seeding])


async def test_a_resume_right_after_a_restart_sticks(core: Core, backend: TriblerBackend) -> None:
    stopped = seed(core, "stopped.bin", status="STOPPED", progress=0.3, user_stopped=True, hops=0)
    await restarted(core, backend)
    resuming = asyncio.ensure_future(backend.resume([stopped]))
    await eventually(lambda: not core.server.downloads[stopped].user_stopped)
    core.server.attach_handles()
    async with asyncio.timeout(HANG_GUARD):
        await resuming
    assert core.server.downloads[stopped].status == "DOWNLOADING"


async def test_a_removal_right_after_a_restart_deletes_the_data(core: Core, backend: TriblerBackend) -> None:
    """Without a handle Tribler only drops the record (``remove_download``): the data would stay."""
    running = seed(core, "run.bin", progress=0.5, hops=0)
    await restarted(core, backend)
    removing = asyncio.ensure_future(backend.remove([running], delete_data=True))
    await until(core, lambda: reads(core) >= 3)  # waiting for its handle
    assert running in core.server.downloads
    core.server.attach_handles()
    async with asyncio.timeout(HANG_GUARD):
        await removing
    assert core.server.removed == {running: True}


async def test_a_removal_whose_handle_never_comes_is_still_sent(core: Core, backend: TriblerBackend) -> None:
    running = seed(core, "run.bin", progress=0.5, hops=0)
    await restarted(core, backend)
    backend.pause_wait = 0.2
    async with asyncio.timeout(HANG_GUARD):
        await backend.remove([running])
    assert core.server.removed == {running: False}


async def test_pause_of_several_waits_only_for_those_without_a_handle(core: Core, backend: TriblerBackend) -> None:
    loaded = seed(core, "loaded.bin", progress=0.5, hops=0)
    waiting = seed(core, "waiting.bin", progress=0.5, hops=0)
    await restarted(core, backend)
    core.server.attach(loaded)
    pausing = asyncio.ensure_future(backend.pause([loaded, waiting]))
    await until(core, lambda: core.server.downloads[loaded].status == "STOPPED")
    core.server.attach(waiting)
    async with asyncio.timeout(HANG_GUARD):
        await pausing
    assert {d.status for d in core.server.downloads.values()} == {"STOPPED"}


def reads(core: Core) -> int:
    return core.server.requests.count(("GET", "/api/downloads"))


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until something on this side holds (the test fails if it never does)."""
    async with asyncio.timeout(HANG_GUARD):
        while not condition():  # noqa: ASYNC110 - the state lives in two places; polling is the plain way
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def following(core: Core, backend: TriblerBackend, interval: float) -> AsyncIterator[list[TransferEvent]]:
    """The backend's pushed events, collected into the list given while the block runs."""
    seen: list[TransferEvent] = []
    events = backend.events(interval=interval)
    assert isinstance(events, AsyncGenerator)

    async def collect() -> None:
        async for event in events:
            seen.append(event)

    follower = asyncio.ensure_future(collect())
    try:
        await core.server.wait_streams(1)
        yield seen
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await events.aclose()


async def test_a_paused_add_is_announced_paused(core: Core, backend: TriblerBackend) -> None:
    """Issue 24: it was announced added and active, then paused two seconds later."""
    core.server.handle_delay = 0.3
    content, infohash = make_torrent("a.bin")
    await backend.update()
    async with following(core, backend, 0.05) as seen:
        async with asyncio.timeout(HANG_GUARD):
            await backend.enqueue(TorrentFile(content), EnqueueOptions(start_paused=True))
        before = reads(core)
        await until(core, lambda: reads(core) >= before + 2)
    assert [(e.kind, e.transfer.state) for e in seen if e.transfer.id == infohash] == [
        (TransferEventKind.ADDED, TransferState.PAUSED)
    ]
    statuses = [kw["status"] for topic, kw in core.server.notified if topic == "torrent_status_changed"]
    assert "DOWNLOADING" in statuses  # the handle did start it: the frames said so, the events did not


async def test_what_changed_while_the_core_loaded_is_announced_once_at_once(
    core: Core, backend: TriblerBackend
) -> None:
    """Issue 22: after a restart the frames of a download that finished, and of one added elsewhere,
    can all come while checkpoints still load (the reads then say nothing), and a stopped download
    sends no frame when its handle comes. They must not wait for the next reconciling read (an hour
    here), and each is announced exactly once."""
    running = seed(core, "run.bin", progress=0.5, hops=0)
    seed(core, "stopped.bin", status="STOPPED", progress=0.2, user_stopped=True, hops=0)
    await backend.update()
    async with following(core, backend, 3600) as seen:
        await until(core, lambda: reads(core) >= 2)  # the update's, then the first stream's
        before = reads(core)
        core.server.shut_down()
        core.server.restart()  # checkpoints load
        await until(core, lambda: core.server.stream_count >= 2 and reads(core) > before)  # the new stream's read
        loading = reads(core)
        # Its handle came at once and it finished: one burst of frames (here one frame, so one read).
        finished = core.server.downloads[running]
        finished.has_handle, finished.status, finished.progress = True, "SEEDING", 1.0
        elsewhere = seed(core, "elsewhere.bin", progress=0.1, hops=0)  # another client added it meanwhile
        core.server.notify("torrent_finished", infohash=running, name="run.bin", hidden=False)
        await until(core, lambda: reads(core) > loading)  # the frame's read: still loading, it says nothing
        core.server.checkpoints_loaded = True
        core.server.attach_handles()  # the stopped download: STOPPED again, no frame
        await eventually(lambda: len(seen) >= 2)
    assert sorted((e.kind.value, e.transfer.id) for e in seen) == sorted(
        [(TransferEventKind.COMPLETED.value, running), (TransferEventKind.ADDED.value, elsewhere)]
    )
    assert (await backend.update()).events == ()  # and never again


async def test_a_streamed_download_cannot_be_removed_until_tribler_restarts(
    core: Core, backend: TriblerBackend
) -> None:
    """Issue 24: the real 8.4.3 core answered 500 to removing a download it had streamed."""
    streamed = seed(core, "film.mp4")
    assert [chunk async for chunk in backend.client.stream(streamed, 0, end=99)]
    with pytest.raises(PeerdeckServerError, match="restart Tribler"):
        await backend.remove([streamed])
    assert streamed in core.server.downloads
    core.server.restart()
    core.server.checkpoints_loaded = True
    core.server.attach_handles()
    await backend.remove([streamed])
    assert streamed not in core.server.downloads
