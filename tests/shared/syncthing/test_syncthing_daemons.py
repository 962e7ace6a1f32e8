"""Two real syncthing daemons on 127.0.0.1 that sync with each other (they must start: no skips)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from peerdeck import Credentials, TransferEvent, TransferEventKind, TransferState, Update
from peerdeck.exceptions import PeerdeckAuthenticationError, PeerdeckForbiddenError, PeerdeckNotFoundError
from peerdeck.syncthing import SyncthingBackend, SyncthingClient
from peerdeck.syncthing.events import parse_time

from .syncthing_daemons import SyncthingDaemon

pytestmark = pytest.mark.daemon

Pair = tuple[SyncthingDaemon, SyncthingDaemon]


@asynccontextmanager
async def counted_backend(daemon: SyncthingDaemon) -> AsyncIterator[tuple[SyncthingBackend, Counter[str]]]:
    """A backend on ``daemon`` whose session counts requests by path."""
    paths: Counter[str] = Counter()

    async def on_start(session: object, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
        paths[params.url.path] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        backend = SyncthingBackend(
            daemon.url, Credentials(api_key=daemon.api_key), session=session, event_timeout=5, file_events=True
        )
        try:
            yield backend, paths
        finally:
            await backend.close()


async def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.1)


async def until_event(
    events: AsyncIterator[TransferEvent], match: Callable[[TransferEvent], bool], seconds: float
) -> TransferEvent:
    async with asyncio.timeout(seconds):
        async for event in events:
            if match(event):
                return event
    raise AssertionError("the event stream ended")


def is_completion(transfer_id: str) -> Callable[[TransferEvent], bool]:
    return lambda e: e.kind is TransferEventKind.COMPLETED and e.transfer.id == transfer_id


async def scan(daemon: SyncthingDaemon) -> None:
    async with SyncthingClient(daemon.url, api_key=daemon.api_key) as client:
        await client.db_scan("shared")


async def test_file_written_on_a_completes_on_b_by_polling(pair: Pair, tmp_path: Path) -> None:
    a, b = pair
    async with counted_backend(b) as (backend, paths):
        first = await backend.update()
        assert set(first.transfers) == {"folder:shared", f"device:{a.device_id}"}
        await wait_for(lambda: backend.stream.connected, 5, "the event stream")
        (tmp_path / "data-a" / "poll.txt").write_text("written on A")
        await scan(a)
        seen: list[TransferEvent] = []
        deadline = time.monotonic() + 30
        while not any(is_completion("folder:shared")(e) for e in seen):
            assert time.monotonic() < deadline, f"no folder completion; events: {seen}"
            seen.extend((await backend.update()).events)
            await asyncio.sleep(0.2)
        assert (tmp_path / "data-b" / "poll.txt").read_text() == "written on A"
        assert any(is_completion("file:shared:poll.txt")(e) for e in seen)
        update = await backend.update()
        assert update.transfers["folder:shared"].state is TransferState.COMPLETED
        assert update.transfers["folder:shared"].progress == 1.0
        assert update.status.extra["peers"]["connected"] == 1
        await quiet_requests(paths)


async def quiet_requests(paths: Counter[str], seconds: float = 6.0) -> None:
    """Once nothing changes, only the event long poll asks anything (no db/status, no completion)."""
    await asyncio.sleep(1)  # the last change's reads
    before = Counter(paths)
    await asyncio.sleep(seconds)
    asked = {path for path, n in (paths - before).items() if n}
    assert asked <= {"/rest/events"}, asked


async def until_update(backend: SyncthingBackend, check: Callable[[Update], bool], seconds: float, what: str) -> Update:
    deadline = time.monotonic() + seconds
    while not check(update := await backend.update()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}: {update.transfers}")
        await asyncio.sleep(0.1)
    return update


async def test_folder_counts_errors_and_daemon_details_follow_real_events(pair: Pair, tmp_path: Path) -> None:
    a, b = pair
    folder, peer = "folder:shared", f"device:{a.device_id}"
    async with counted_backend(b) as (backend, paths), SyncthingClient(b.url, api_key=b.api_key) as client:
        first = await until_update(
            backend, lambda u: u.transfers[peer].raw["connection_type"] != "", 20, "the peer's connection"
        )
        assert first.transfers[peer].raw["connection_type"].startswith("tcp")  # loopback: direct, never a relay
        version = str((await client.system_version())["version"]).removeprefix("v")
        started = parse_time((await client.system_status())["startTime"])
        extra = first.status.extra
        assert (extra["version"], extra["start_time"]) == (version, started)
        assert (extra["discovery"], extra["relays"]) == ("disabled", "disabled")  # as the test daemons are set up
        assert first.transfers[folder].raw["last_scan"] is not None
        files = first.transfers[folder].raw["global_files"]
        reads = (paths["/rest/db/status"], paths["/rest/system/status"])
        assert reads[0] == 1  # one folder, read once by the snapshot

        (tmp_path / "data-a" / "counted.txt").write_text("one more file")
        await scan(a)
        synced = await until_update(
            backend,
            lambda u: (
                u.transfers[folder].raw["local_files"] == files + 1 and u.transfers[folder].raw["need_items"] == 0
            ),
            30,
            "the new file on B",
        )
        assert synced.transfers[folder].raw["global_files"] == files + 1
        assert synced.transfers[folder].raw["local_bytes"] == synced.transfers[folder].raw["global_bytes"] > 0
        assert paths["/rest/system/status"] == reads[1]
        await quiet_requests(paths)

        # Syncthing stops a folder whose marker is gone (a missing disk, say): its error shows, with its text
        shutil.rmtree(
            tmp_path / "data-b" / ".stfolder"
        )  # seen at the next rescan (every 2 s here); 1.29 keeps a file in it
        failed = await until_update(backend, lambda u: u.transfers[folder].state is TransferState.FAILED, 30, "error")
        assert "marker" in str(failed.transfers[folder].raw["last_error"])
        (tmp_path / "data-b" / ".stfolder").mkdir()
        await scan(b)
        await until_update(backend, lambda u: u.transfers[folder].raw["last_error"] is None, 30, "the error to clear")


async def test_completion_arrives_through_the_event_stream(pair: Pair, tmp_path: Path) -> None:
    a, b = pair
    async with counted_backend(b) as (backend, _):
        events = aiter(backend.events())
        waiter = asyncio.create_task(until_event(events, is_completion("folder:shared"), 30))
        await wait_for(lambda: backend.stream.connected, 10, "the event stream")
        (tmp_path / "data-a" / "pushed.bin").write_bytes(b"x" * 200_000)
        await scan(a)
        done = await waiter
        # A 200 kB file syncs over loopback within milliseconds: on a busy machine the backend may never see the
        # folder syncing, and the completion then comes from the stream's FolderCompletion alone.
        assert done.previous_state in (TransferState.ACTIVE, TransferState.QUEUED, TransferState.COMPLETED)
        assert (tmp_path / "data-b" / "pushed.bin").stat().st_size == 200_000


async def test_pause_and_resume_a_folder_and_a_device(pair: Pair) -> None:
    a, b = pair
    async with counted_backend(b) as (backend, _):
        await backend.update()
        events = aiter(backend.events())
        folder, device = "folder:shared", f"device:{a.device_id}"

        def became(transfer_id: str, state: TransferState) -> Callable[[TransferEvent], bool]:
            return lambda e: e.transfer.id == transfer_id and e.transfer.state is state

        pending = asyncio.create_task(until_event(events, became(folder, TransferState.PAUSED), 15))
        await asyncio.sleep(0)
        await backend.pause([folder])
        await pending
        assert {t.id: t.state for t in await backend.transfers()}[folder] is TransferState.PAUSED
        pending = asyncio.create_task(until_event(events, became(folder, TransferState.COMPLETED), 15))
        await asyncio.sleep(0)
        await backend.resume([folder])
        await pending

        pending = asyncio.create_task(until_event(events, became(device, TransferState.PAUSED), 15))
        await asyncio.sleep(0)
        await backend.pause([device])
        await pending
        assert (await backend.update()).status.extra["peers"]["paused"] == 1
        pending = asyncio.create_task(until_event(events, became(device, TransferState.COMPLETED), 30))
        await asyncio.sleep(0)
        await backend.resume([device])
        await pending  # reconnects within the reconnection interval (2 s in these daemons)
        assert (await backend.update()).status.extra["peers"]["connected"] == 1


async def test_restart_of_b_loses_no_completion(pair: Pair, tmp_path: Path) -> None:
    a, b = pair
    async with counted_backend(b) as (backend, _):
        await backend.update()
        events = aiter(backend.events())
        waiter = asyncio.create_task(until_event(events, is_completion("folder:shared"), 60))
        await wait_for(lambda: backend.stream.connected, 10, "the event stream")
        b.stop()
        await wait_for(lambda: not backend.stream.connected, 15, "the stream to notice the outage")
        (tmp_path / "data-a" / "while-b-was-down.txt").write_text("missed?")
        await scan(a)
        await asyncio.to_thread(b.start)
        done = await waiter
        assert done.transfer.state is TransferState.COMPLETED
        assert (tmp_path / "data-b" / "while-b-was-down.txt").read_text() == "missed?"
        assert backend.stream.reconnects >= 1
        update = await backend.update()
        assert update.status.connected
        assert update.transfers["folder:shared"].state is TransferState.COMPLETED


async def test_a_cursor_above_the_daemons_newest_id_is_found_and_resynced(pair: Pair) -> None:
    """What a restart between two polls leaves (no request failed): a cursor above the new process's
    ids, which Syncthing answers by waiting for them. The next empty poll must find it."""
    _, b = pair
    async with aiohttp.ClientSession() as session:
        backend = SyncthingBackend(b.url, Credentials(api_key=b.api_key), session=session, event_timeout=1)
        try:
            await backend.update()
            await wait_for(lambda: backend.stream.connected, 10, "the event stream")
            backend.stream.since += 1_000
            await asyncio.sleep(2)  # the poll in flight (old cursor) ends; the next waits above the newest id
            async with SyncthingClient(b.url, api_key=b.api_key) as client:
                await client.config_folder_patch("shared", {"paused": True})

            async def paused() -> bool:
                return (await backend.update()).transfers["folder:shared"].state is TransferState.PAUSED

            deadline = time.monotonic() + 15
            while not await paused():
                assert time.monotonic() < deadline, "the paused folder never showed: the stream is blind"
                await asyncio.sleep(0.2)
            assert backend.stream.restarts == 1
        finally:
            await backend.close()


async def test_client_routes_on_a_real_daemon(pair: Pair, tmp_path: Path) -> None:
    a, b = pair
    (tmp_path / "data-a" / "sub").mkdir()
    (tmp_path / "data-a" / "sub" / "r.txt").write_text("route")
    async with SyncthingClient(a.url, api_key=a.api_key) as client:
        assert await client.system_ping()
        assert (await client.system_status())["myID"] == a.device_id
        assert (await client.version_tuple())[0] == 1
        assert "facilities" in await client.log_levels()
        assert {f["id"] for f in await client.config_folders()} == {"shared"}
        assert (await client.config_device(b.device_id))["name"] == "B"
        assert (await client.config_options())["globalAnnounceEnabled"] is False
        assert await client.config_restart_required() is False
        await client.db_scan("shared", subs=["sub"])
        file = await client.db_file("shared", "sub/r.txt")
        assert file["global"]["size"] == 5
        assert "page" in await client.db_need("shared", page=1, perpage=10)
        assert (await client.db_completion("shared", b.device_id))["globalItems"] >= 0
        assert isinstance(await client.db_browse("shared", levels=1), list)
        assert "queued" in await client.db_prio("shared", "sub/r.txt")
        assert isinstance(await client.stats_folder(), dict)
        assert isinstance(await client.system_error(), list)
        assert len(await client.svc_random_string(12)) == 12
        newest = await client.events(since=0, limit=1, timeout=0)
        assert len(newest) == 1
        started = time.monotonic()
        assert await client.events(since=newest[0]["id"] + 10_000, timeout=1, events=["FolderPaused"]) == []
        assert time.monotonic() - started >= 0.9
        with pytest.raises(PeerdeckNotFoundError):
            await client.db_completion("no-such-folder")
        with pytest.raises(PeerdeckForbiddenError, match="host check"):
            await client._request("GET", "rest/system/ping", headers={"Host": "example.com"})
    async with SyncthingClient(a.url, api_key="wrong") as wrong:
        with pytest.raises(PeerdeckAuthenticationError, match="API Key"):
            await wrong.system_status()


def test_a_gui_port_taken_before_the_first_start_moves_to_a_free_one(tmp_path: Path) -> None:
    """The harness picks free ports, but another test run may take one before syncthing listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        daemon = SyncthingDaemon(tmp_path / "a", "A", gui_port=int(taken.getsockname()[1]))
        daemon.generate()
        try:
            daemon.start()
            assert daemon.gui_port != taken.getsockname()[1]
            assert daemon.answered
        finally:
            daemon.stop()
