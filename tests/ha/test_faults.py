"""Fault suite: real qbittorrent-nox and syncthing daemons (and the slskd and Tribler conformance servers)
under Home Assistant's own test harness.

Each scenario breaks something the way it breaks in real life (a killed or stalled daemon, a
changed key, a ban, Home Assistant stopped or restarted at a bad moment, a burst of actions) and
asserts what a user sees: events a listener or an automation receives, a reauth flow or repair
issue, entity states. Outcomes are polled with generous deadlines, never timed; docs/reliability.md
has the table of scenarios and outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import pytest_socket
from aiohttp import web
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntry, ConfigEntryState, ConfigFlowResult
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.file import WriteError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.peerdeck import coordinator as coordinator_module
from custom_components.peerdeck import store as store_module
from custom_components.peerdeck.const import (
    CATCH_UP_DELAY,
    DEFAULT_SCAN_INTERVALS,
    DOMAIN,
)
from peerdeck import BackendKind, Credentials, PeerdeckAuthenticationError, PeerdeckBannedError, RemoteFiles
from peerdeck.qbittorrent import QBittorrentBackend, QBittorrentClient
from peerdeck.slskd import SlskdBackend, split_id
from peerdeck.syncthing import SyncthingBackend, SyncthingClient
from peerdeck.tribler import TriblerBackend
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, run_qbittorrent
from tests.shared.slskd import server as slskd_server
from tests.shared.syncthing.syncthing_daemons import SyncthingDaemon, running_pair
from tests.shared.torrents import make_torrent
from tests.shared.tribler import conftest as tribler_conformance
from tests.shared.tribler import server as tribler_server
from tests.shared.tribler.test_real_core import seed as seed_tribler

from . import test_qbittorrent_daemon as qbt
from . import test_syncthing_daemon as st

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("socket_enabled")]

FOLDER = st.FOLDER
SLSKD_SONG = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)
"""A file the slskd conformance server's peer ``alice`` shares."""


@pytest.fixture
def qbittorrent(socket_enabled: None, tmp_path: Path) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path) as daemon:
        yield daemon


@pytest.fixture
def pair(socket_enabled: None, tmp_path: Path) -> Iterator[tuple[SyncthingDaemon, SyncthingDaemon]]:
    with running_pair(tmp_path) as daemons:
        yield daemons


def restart(daemon: QBittorrentDaemon) -> subprocess.Popen[bytes]:
    """Start qbittorrent-nox again with the same profile (the fixture's process has ended)."""
    return subprocess.Popen(
        daemon.process.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


def crash(daemon: SyncthingDaemon) -> None:
    """SIGKILL syncthing's server process (``syncthing serve`` runs it as a child of a monitor process,
    which then exits too): a crash, not a shutdown."""
    assert daemon.process is not None
    pid = daemon.process.pid
    children = [
        child for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]
    assert children, "syncthing serve has no server process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    daemon.process.wait(timeout=15)


async def seed(hass: HomeAssistant, entry: ConfigEntry, daemon: QBittorrentDaemon, name: str) -> str:
    """Add a torrent whose data is already there (it completes at once); returns its hash."""
    content, info_hash = make_torrent(name, data_dir=daemon.save_path)
    torrent = daemon.save_path.parent / f"{name}.torrent"
    torrent.write_bytes(content)
    hass.config.allowlist_external_dirs = {str(torrent.parent)}
    await hass.services.async_call(
        DOMAIN, "enqueue", {"config_entry_id": entry.entry_id, "torrent_file": str(torrent)}, blocking=True
    )
    return info_hash


async def finished_elsewhere(daemon: QBittorrentDaemon, name: str) -> str:
    """A torrent another client adds (while Home Assistant does not look), once it has finished."""
    content, info_hash = make_torrent(name, data_dir=daemon.save_path)
    async with QBittorrentClient(daemon.url, username=daemon.username, password=daemon.password) as client:
        await client.torrents_add(torrent_files=[(name.replace(".bin", ".torrent"), content)])

        async def finished() -> bool:
            rows = await client.torrents_info(hashes=[info_hash])
            return bool(rows) and float(rows[0]["progress"]) >= 1.0

        await qbt.until(finished)
    return info_hash


async def refreshed(hass: HomeAssistant, entry: ConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_killed_daemon_comes_back_without_duplicate_events(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    added = async_capture_events(hass, "peerdeck_transfer_added")
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    entry = await qbt.add_entry(hass, qbittorrent)
    info_hash = await seed(hass, entry, qbittorrent, "before-kill.bin")
    await qbt.until(qbt.counted(hass, entry, "transfers_completed", "1"))

    qbittorrent.process.send_signal(signal.SIGKILL)
    qbittorrent.process.wait(timeout=15)
    await refreshed(hass, entry)
    assert qbt.state_of(hass, entry, "sensor", "download_speed") == STATE_UNAVAILABLE

    process = restart(qbittorrent)
    try:
        await qbt.until(qbt.counted(hass, entry, "transfers_total", "1"))
        for _ in range(3):
            await refreshed(hass, entry)
        assert [e.data["id"] for e in added] == [info_hash]
        assert [e.data["id"] for e in completed] == [info_hash]
        assert entry.state is ConfigEntryState.LOADED
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        stop(process)


async def test_stalled_daemon_goes_unavailable_and_recovers(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    entry = await qbt.add_entry(hass, qbittorrent)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "timeout": 1})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    os.kill(qbittorrent.process.pid, signal.SIGSTOP)
    try:
        await refreshed(hass, entry)
        assert qbt.state_of(hass, entry, "sensor", "download_speed") == STATE_UNAVAILABLE
    finally:
        os.kill(qbittorrent.process.pid, signal.SIGCONT)
    await qbt.until(qbt.counted(hass, entry, "transfers_total", "0"))
    assert qbt.state_of(hass, entry, "sensor", "download_speed") == "0.0"
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # a stall is no credential problem
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_ban_raises_a_repair_issue_cleared_after_the_ban(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    entry = await qbt.add_entry(hass, qbittorrent)
    # Another tool on this host fails its logins until qBittorrent bans the address.
    for _ in range(6):
        async with QBittorrentClient(qbittorrent.url, username="admin", password="wrong") as intruder:
            with pytest.raises((PeerdeckAuthenticationError, PeerdeckBannedError)):
                await intruder.login()
    backend = entry.runtime_data.backend
    assert isinstance(backend, QBittorrentBackend)
    await backend.client.logout()  # our session ends: the next refresh must log in
    await refreshed(hass, entry)
    issue_id = f"banned_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "banned"
    assert qbt.state_of(hass, entry, "sensor", "download_speed") == STATE_UNAVAILABLE
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # the password is right: no reauth

    # Restarting qBittorrent lifts the ban (as its expiry would).
    stop(qbittorrent.process)
    process = restart(qbittorrent)
    try:
        await qbt.until(qbt.counted(hass, entry, "transfers_total", "0"))
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        stop(process)


async def test_completion_while_home_assistant_is_stopped_reaches_an_automation(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    entry = await qbt.add_entry(hass, qbittorrent)
    assert await hass.config_entries.async_unload(entry.entry_id)  # Home Assistant stops

    info_hash = await finished_elsewhere(qbittorrent, "while-stopped.bin")

    # Home Assistant starts: the automation attaches its trigger only once it has started.
    hass.set_state(CoreState.not_running)
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: {
                "triggers": {"trigger": "event", "event_type": "peerdeck_transfer_completed"},
                "actions": {"event": "automation_saw_completion", "event_data": {"id": "{{ trigger.event.data.id }}"}},
            }
        },
    )
    seen = async_capture_events(hass, "automation_saw_completion")
    listened = async_capture_events(hass, "peerdeck_transfer_completed")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert listened == []
    await hass.async_start()  # START, the startup jobs (automations arm their triggers), then STARTED
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CATCH_UP_DELAY))
    await hass.async_block_till_done()
    assert [e.data["id"] for e in seen] == [info_hash]
    assert [e.data["id"] for e in listened] == [info_hash]

    # And only once: not again after another restart of Home Assistant.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await refreshed(hass, entry)
    assert len(seen) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_concurrent_action_burst_is_consistent(hass: HomeAssistant, qbittorrent: QBittorrentDaemon) -> None:
    entry = await qbt.add_entry(hass, qbittorrent)
    hashes = [await seed(hass, entry, qbittorrent, f"burst-{index}.bin") for index in range(3)]
    await qbt.until(qbt.counted(hass, entry, "transfers_total", "3"))
    calls = [
        hass.services.async_call(
            DOMAIN,
            "pause" if index % 2 else "resume",
            {"config_entry_id": entry.entry_id, "ids": hashes},
            blocking=True,
        )
        for index in range(30)
    ]
    await asyncio.gather(*calls)
    await hass.services.async_call(DOMAIN, "pause", {"config_entry_id": entry.entry_id, "ids": hashes}, blocking=True)
    await qbt.until(qbt.counted(hass, entry, "transfers_paused", "3"))
    assert entry.state is ConfigEntryState.LOADED
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"banned_{entry.entry_id}")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_failed_event_store_write_is_retried_and_nothing_is_announced_twice(
    hass: HomeAssistant, hass_storage: dict[str, Any], qbittorrent: QBittorrentDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In real time, with the gap between writes and the retry's delay shortened to a second."""
    monkeypatch.setattr(coordinator_module, "SAVE_MIN_GAP", 1.0)
    monkeypatch.setattr(store_module, "SAVE_RETRY_DELAY", 1.0)
    entry = await qbt.add_entry(hass, qbittorrent)
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    key = f"{DOMAIN}.{entry.entry_id}.transfers"
    refused: list[dict[str, Any]] = []

    async def disk_full(store: Store[Any], data: dict[str, Any]) -> None:
        if "data_func" in data:  # taken as Store takes it
            data["data"] = data.pop("data_func")()
        refused.append(data["data"])
        raise WriteError("[Errno 28] No space left on device")

    def done(state: dict[str, Any], info_hash: str) -> bool:
        return bool(state.get(info_hash, {}).get("done"))

    with patch.object(Store, "_async_write_data", disk_full):  # .storage refuses writes
        info_hash = await seed(hass, entry, qbittorrent, "while-the-disk-is-full.bin")
        await qbt.until(qbt.counted(hass, entry, "transfers_completed", "1"))
        await qbt.until(lambda: asyncio.sleep(0, any(done(state, info_hash) for state in refused)))
        assert not done(hass_storage.get(key, {}).get("data", {}), info_hash)
    # Space is freed: the write is tried again, with no new event to prompt it.
    await qbt.until(lambda: asyncio.sleep(0, done(hass_storage.get(key, {}).get("data", {}), info_hash)))
    assert hass_storage[key]["data"][info_hash]["done"] is True

    await hass.config_entries.async_reload(entry.entry_id)  # the next start announces nothing again
    await hass.async_block_till_done()
    await refreshed(hass, entry)
    assert [e.data["id"] for e in completed] == [info_hash]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_stalled_daemon_does_not_hold_up_the_start_and_its_catch_up_comes_once(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coordinator_module, "SETUP_WAIT", 0.5)
    entry = await qbt.add_entry(hass, qbittorrent)
    assert await hass.config_entries.async_unload(entry.entry_id)  # Home Assistant stops
    added = async_capture_events(hass, "peerdeck_transfer_added")
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    info_hash = await finished_elsewhere(qbittorrent, "while-stopped.bin")

    os.kill(qbittorrent.process.pid, signal.SIGSTOP)  # it answers nothing while Home Assistant starts
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is ConfigEntryState.LOADED
        assert qbt.state_of(hass, entry, "sensor", "transfers_total") == STATE_UNAVAILABLE
        assert qbt.state_of(hass, entry, "event", "transfer") == STATE_UNAVAILABLE
        assert added == completed == []
    finally:
        os.kill(qbittorrent.process.pid, signal.SIGCONT)
    await qbt.until(qbt.counted(hass, entry, "transfers_total", "1"))
    await hass.async_block_till_done()
    assert [e.data["id"] for e in added] == [e.data["id"] for e in completed] == [info_hash]
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await refreshed(hass, entry)
    assert len(completed) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def flow_to(hass: HomeAssistant, daemon: QBittorrentDaemon, url: str) -> ConfigFlowResult:
    """The config flow for a qBittorrent at ``url``, answered as a user would."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"kind": "qbittorrent"})
    login = {"username": daemon.username, "password": daemon.password}
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, **login, "advanced": {"verify_ssl": True, "timeout": 10}}
    )


async def test_one_qbittorrent_is_one_entry_whatever_its_url_says(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    entry = await qbt.add_entry(hass, qbittorrent)  # http://127.0.0.1:<port>
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1", "::ffff:127.0.0.1"])  # the harness allows loopback only
    # (Host names such as localhost go through Home Assistant's resolver, which this test harness binds to
    # another event loop: test_config_flow.py covers them.)
    for host in ("[::ffff:127.0.0.1]", "[::ffff:7f00:1]"):
        result = await flow_to(hass, qbittorrent, f"http://{host}:{qbittorrent.port}")
        assert result["type"] is FlowResultType.ABORT, (host, result.get("errors"))
        assert result["reason"] == "already_configured_address"
        assert result["description_placeholders"] == {"daemon": "qBittorrent", "title": entry.title}
    assert hass.config_entries.async_entries(DOMAIN) == [entry]
    assert await hass.config_entries.async_unload(entry.entry_id)


@contextlib.asynccontextmanager
async def forwarder(port: int) -> AsyncIterator[int]:
    """A reverse proxy on another port that passes the Host header on unchanged; yields its port."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


async def test_a_proxy_on_another_port_is_named_a_host_header_mismatch(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    async with forwarder(qbittorrent.port) as port:
        result = await flow_to(hass, qbittorrent, f"http://127.0.0.1:{port}")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "host_rejected"}  # not invalid_auth: the password is right
    # That was no failed login: the right URL still logs in (no step towards a ban).
    result = await flow_to(hass, qbittorrent, qbittorrent.url)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_killed_syncthing_shows_unavailable_within_a_refresh_interval(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon]
) -> None:
    a, b = pair
    entry = await st.add_entry(hass, b)
    peer = f"device:{a.device_id}"
    interval = timedelta(seconds=DEFAULT_SCAN_INTERVALS[BackendKind.SYNCTHING])  # the refresh interval set

    async def next_refresh() -> None:
        async_fire_time_changed(hass, dt_util.utcnow() + interval + timedelta(seconds=1))
        await hass.async_block_till_done()

    await hass.async_add_executor_job(crash, b)
    for _ in range(100):  # no refresh is asked for: the scheduled ones must notice
        await next_refresh()
        if st.state(hass, entry, "sensor", FOLDER, "folder_state") == STATE_UNAVAILABLE:
            break
        await asyncio.sleep(0.2)
    assert st.state(hass, entry, "binary_sensor", peer, "connected") == STATE_UNAVAILABLE

    await hass.async_add_executor_job(b.start)
    for _ in range(150):
        await next_refresh()
        if st.state(hass, entry, "sensor", FOLDER, "folder_state") == "idle":
            break
        await asyncio.sleep(0.2)
    assert st.state(hass, entry, "sensor", FOLDER, "folder_state") == "idle"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_changed_syncthing_key_starts_reauth_without_the_backstop_poll(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon]
) -> None:
    _, b = pair
    entry = await st.add_entry(hass, b)
    async with SyncthingClient(b.url, api_key=b.api_key) as client:
        await client.config_section_patch("gui", {"apiKey": "a-new-key-the-entry-does-not-know"})

    def reauth_started() -> bool:
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        return [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]

    await st.until(hass, reauth_started)  # the event stream noticed; no refresh was asked for
    assert st.state(hass, entry, "sensor", FOLDER, "folder_state") == STATE_UNAVAILABLE
    assert await hass.config_entries.async_unload(entry.entry_id)


SYNC_SIZE = 4 << 20
"""Bytes B receives at 128 KiB/s: a sync of about 30 s, long enough to break in the middle."""


async def start_slow_sync(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon], entry: ConfigEntry, tmp_path: Path
) -> None:
    """Let B receive ``SYNC_SIZE`` bytes from A slowly, and wait until B's entities show it syncing."""
    _, b = pair
    async with SyncthingClient(b.url, api_key=b.api_key) as client:
        await client.config_section_patch("options", {"maxRecvKbps": 128, "limitBandwidthInLan": True})
    changes = async_capture_events(hass, "state_changed")
    folder_state = st.entity_id(hass, entry, "sensor", FOLDER, "folder_state")
    completion = st.entity_id(hass, entry, "sensor", FOLDER, "completion")
    (tmp_path / "data-a" / "big.bin").write_bytes(os.urandom(SYNC_SIZE))

    def syncing() -> bool:
        for change in changes:
            new = change.data["new_state"]
            if change.data["entity_id"] == folder_state and new.state in ("sync_preparing", "syncing"):
                return True
            if change.data["entity_id"] == completion and new.state not in ("100.0", "100", STATE_UNAVAILABLE):
                return True
        return False

    await st.until(hass, syncing)


async def test_syncthing_restarted_between_two_polls_is_followed_again(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart that no failed poll showed leaves the event cursor above the new process's ids, which
    Syncthing answers by waiting for them: every change until then would be missed."""
    _, b = pair
    follow = SyncthingBackend.__init__

    def quick_polls(self: SyncthingBackend, *args: Any, **kwargs: Any) -> None:
        follow(self, *args, **{**kwargs, "event_timeout": 1})

    monkeypatch.setattr(SyncthingBackend, "__init__", quick_polls)
    entry = await st.add_entry(hass, b)
    backend = entry.runtime_data.backend
    assert isinstance(backend, SyncthingBackend)
    backend.stream.since += 1_000  # what the restart leaves
    await asyncio.sleep(2)  # the poll in flight ends; the next one waits above the daemon's newest id
    async with SyncthingClient(b.url, api_key=b.api_key) as client:
        await client.config_folder_patch(FOLDER.removeprefix("folder:"), {"paused": True})
    await st.until(hass, lambda: st.state(hass, entry, "sensor", FOLDER, "folder_state") == "paused")
    assert backend.stream.restarts == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_syncthing_restart_mid_sync_gives_one_completion(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon], tmp_path: Path
) -> None:
    _, b = pair
    entry = await st.add_entry(hass, b)
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    await start_slow_sync(hass, pair, entry, tmp_path)

    await hass.async_add_executor_job(b.stop)
    await hass.async_add_executor_job(b.start)
    await st.until(
        hass, lambda: any(e.data["id"] == FOLDER for e in completed), refresh=entry
    )  # the coordinator's retry refreshes, as it would
    for _ in range(3):
        await refreshed(hass, entry)
    assert [e.data["id"] for e in completed if e.data["id"] == FOLDER] == [FOLDER]
    assert (tmp_path / "data-b" / "big.bin").stat().st_size == SYNC_SIZE
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_home_assistant_restart_mid_sync_gives_one_completion(
    hass: HomeAssistant, pair: tuple[SyncthingDaemon, SyncthingDaemon], tmp_path: Path
) -> None:
    _, b = pair
    entry = await st.add_entry(hass, b)
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    await start_slow_sync(hass, pair, entry, tmp_path)

    # Home Assistant restarts: the entry unloads, and is set up again from the same storage.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await st.until(hass, lambda: any(e.data["id"] == FOLDER for e in completed), refresh=entry)
    for _ in range(3):
        await refreshed(hass, entry)
    assert [e.data["id"] for e in completed if e.data["id"] == FOLDER] == [FOLDER]
    assert await hass.config_entries.async_unload(entry.entry_id)


@contextlib.asynccontextmanager
async def entry_for(hass: HomeAssistant, kind: str, backend: Any) -> AsyncIterator[MockConfigEntry]:
    """A loaded entry whose backend (against a conformance server) is ``backend``."""
    entry = MockConfigEntry(
        domain=DOMAIN, title=kind, data={"kind": kind, "url": "http://127.0.0.1", "api_key": "k"}, minor_version=2
    )
    entry.add_to_hass(hass)
    with patch("custom_components.peerdeck.helpers.create_backend", return_value=backend):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield entry
        assert await hass.config_entries.async_unload(entry.entry_id)


def shown_version(hass: HomeAssistant, entry: ConfigEntry) -> str | None:
    """The version the daemon's device shows."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(device.sw_version for device in devices if (DOMAIN, entry.entry_id) in device.identifiers)


async def test_slskd_upgraded_while_a_download_finishes_is_reconciled_once(hass: HomeAssistant) -> None:
    server = slskd_server.SlskdConformance(slskd_server.Config(version="0.25.1"))
    runner = web.AppRunner(server.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    server.peers["alice"].hold = True
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    assert server.config.api_key is not None
    backend = SlskdBackend(f"http://127.0.0.1:{runner.addresses[0][1]}", Credentials(api_key=server.config.api_key))
    try:
        async with entry_for(hass, "slskd", backend) as entry:
            [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SLSKD_SONG,)))
            await refreshed(hass, entry)
            server.restart(version="0.26.0")  # upgraded; the download goes on and finishes
            server.peers["alice"].hold = False
            record = server.downloads[split_id(transfer_id)[1]]
            for _ in range(150):
                if "Succeeded" in record["state"]:
                    break
                await asyncio.sleep(0.02)
            await refreshed(hass, entry)  # one refresh: the completion, and the new version
            assert [e.data["id"] for e in completed] == [transfer_id]
            assert shown_version(hass, entry) == "0.26.0"
            await refreshed(hass, entry)
            assert len(completed) == 1
    finally:
        await runner.cleanup()


async def test_tribler_upgraded_while_a_download_finishes_is_reconciled_once(hass: HomeAssistant) -> None:
    server = tribler_server.TriblerServer()
    app = server.app()
    async for url in tribler_server.serve(app):
        server.url = url
        core = tribler_conformance.Core(server, app, url)
        running = seed_tribler(core, "run.bin", progress=0.5, hops=0)
        backend = TriblerBackend(
            url, Credentials(api_key=tribler_server.API_KEY), startup_wait=5.0, events_backoff=tribler_conformance.FAST
        )
        backend.client.startup_retry_interval = 0.01
        completed = async_capture_events(hass, "peerdeck_transfer_completed")
        async with entry_for(hass, "tribler", backend) as entry:
            await server.wait_streams(1)
            server.shut_down()
            server.version = "8.5.0"  # upgraded
            server.restart()
            finished = server.downloads[running]
            finished.status, finished.progress = "SEEDING", 1.0
            server.checkpoints_loaded = True
            server.attach_handles()
            server.notify("torrent_finished", infohash=running, name="run.bin", hidden=False)
            for _ in range(150):
                if completed and shown_version(hass, entry) == "8.5.0":
                    break
                await asyncio.sleep(0.1)
            await refreshed(hass, entry)
            assert [e.data["id"] for e in completed] == [running]
            assert shown_version(hass, entry) == "8.5.0"


async def test_reauth_after_a_password_change_recovers(hass: HomeAssistant, qbittorrent: QBittorrentDaemon) -> None:
    entry = await qbt.add_entry(hass, qbittorrent)
    backend = entry.runtime_data.backend
    assert isinstance(backend, QBittorrentBackend)
    await backend.client.app_set_preferences({"web_ui_password": "changed-by-the-user"})
    await backend.client.logout()
    for _ in range(3):  # refreshes keep failing, but log in at most once: never a ban
        await refreshed(hass, entry)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"banned_{entry.entry_id}")
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"username": qbittorrent.username, "password": "changed-by-the-user"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert qbt.state_of(hass, entry, "sensor", "download_speed") == "0.0"
    assert await hass.config_entries.async_unload(entry.entry_id)
