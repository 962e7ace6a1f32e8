"""End to end against a real qbittorrent-nox on 127.0.0.1: flow, entities, outage, reauth, exact events."""

from __future__ import annotations

import asyncio
import math
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.peerdeck.const import DOMAIN, SPEED_MODE_MAX_AGE, WATCHED_EXACT_MAX_AGE
from peerdeck import PeerdeckError, TransferState
from peerdeck.qbittorrent import QBittorrentBackend, QBittorrentClient
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, run_qbittorrent
from tests.shared.torrents import make_torrent

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture
def qbittorrent(socket_enabled: None, tmp_path: Path) -> Iterator[QBittorrentDaemon]:
    with run_qbittorrent(tmp_path) as daemon:
        yield daemon


async def until(check: Callable[[], Awaitable[bool]], attempts: int = 150) -> None:
    """Retry ``check`` (which refreshes what it looks at) until it holds."""
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the condition never held")


async def add_entry(hass: HomeAssistant, daemon: QBittorrentDaemon) -> ConfigEntry:
    """Go through the config flow as a user would."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"kind": "qbittorrent"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "url": daemon.url,
            "username": daemon.username,
            "password": daemon.password,
            "advanced": {"verify_ssl": True, "timeout": 10},
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


def entity(hass: HomeAssistant, entry: ConfigEntry, platform: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert found is not None
    return found


def state_of(hass: HomeAssistant, entry: ConfigEntry, platform: str, key: str) -> str:
    return hass.states.get(entity(hass, entry, platform, key)).state


def counted(hass: HomeAssistant, entry: ConfigEntry, key: str, expected: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        await entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
        return state_of(hass, entry, "sensor", key) == expected

    return check


async def test_entities_follow_the_daemon(hass: HomeAssistant, qbittorrent: QBittorrentDaemon) -> None:
    entry = await add_entry(hass, qbittorrent)
    assert entry.unique_id is None
    assert state_of(hass, entry, "sensor", "transfers_total") == "0"
    # What the daemon itself says (4.5 on loopback says "firewalled", 5.3 "disconnected").
    async with QBittorrentClient(qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password) as qbt:
        assert state_of(hass, entry, "sensor", "connection") == (await qbt.transfer_info())["connection_status"]
    assert float(state_of(hass, entry, "sensor", "free_space")) >= 0  # qBittorrent says 0 until it has looked
    assert state_of(hass, entry, "sensor", "alltime_download") == "0.0"
    assert state_of(hass, entry, "switch", "alternative_speed") == STATE_OFF

    content, info_hash = make_torrent("seeded.bin", data_dir=qbittorrent.save_path)
    torrent = qbittorrent.save_path.parent / "seeded.torrent"
    torrent.write_bytes(content)
    hass.config.allowlist_external_dirs = {str(torrent.parent)}
    answer = await hass.services.async_call(
        DOMAIN,
        "enqueue",
        {"config_entry_id": entry.entry_id, "torrent_file": str(torrent), "category": "iso", "tags": ["a"]},
        blocking=True,
        return_response=True,
    )
    assert answer == {"ids": [info_hash]}
    await until(counted(hass, entry, "transfers_completed", "1"))
    assert state_of(hass, entry, "sensor", "transfers_total") == "1"

    await hass.services.async_call(
        DOMAIN, "pause", {"config_entry_id": entry.entry_id, "ids": [info_hash]}, blocking=True
    )
    await until(counted(hass, entry, "transfers_paused", "1"))
    listed = await hass.services.async_call(
        DOMAIN,
        "get_transfers",
        {"config_entry_id": entry.entry_id, "states": ["paused"]},
        blocking=True,
        return_response=True,
    )
    assert [(t["id"], t["category"], t["tags"]) for t in listed["transfers"]] == [(info_hash, "iso", ["a"])]

    switch = entity(hass, entry, "switch", "alternative_speed")
    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True)
    assert hass.states.get(switch).state == STATE_ON
    await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True)
    assert hass.states.get(switch).state == STATE_OFF
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity(hass, entry, "button", "reannounce")}, blocking=True
    )

    await hass.services.async_call(
        DOMAIN, "remove", {"config_entry_id": entry.entry_id, "ids": [info_hash], "delete_data": False}, blocking=True
    )
    await until(counted(hass, entry, "transfers_total", "0"))
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_alternative_speed_set_elsewhere_is_read_at_core_pace(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    """Neither transfer/info nor the log shows the mode: it is asked for every SPEED_MODE_MAX_AGE s, not each
    refresh (each request costs Home Assistant more than the daemon); a toggle through Peerdeck shows at once."""
    entry = await add_entry(hass, qbittorrent)
    coordinator = entry.runtime_data.coordinator
    async with QBittorrentClient(
        qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password
    ) as other:
        await other.transfer_set_speed_limits_mode(True)  # the web UI
        await coordinator.async_refresh()
        assert state_of(hass, entry, "switch", "alternative_speed") == STATE_OFF
        coordinator._speed_mode_read -= SPEED_MODE_MAX_AGE  # that long later
        await coordinator.async_refresh()
        assert state_of(hass, entry, "switch", "alternative_speed") == STATE_ON
        switch = entity(hass, entry, "switch", "alternative_speed")
        await hass.services.async_call(SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True)
        assert hass.states.get(switch).state == STATE_OFF
        assert not await other.transfer_speed_limits_mode()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_outage_and_recovery(hass: HomeAssistant, qbittorrent: QBittorrentDaemon) -> None:
    entry = await add_entry(hass, qbittorrent)
    coordinator = entry.runtime_data.coordinator
    qbittorrent.process.send_signal(signal.SIGTERM)
    qbittorrent.process.wait(timeout=15)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state_of(hass, entry, "sensor", "download_speed") == STATE_UNAVAILABLE

    restarted = subprocess.Popen(  # noqa: ASYNC220 - starting a test daemon
        qbittorrent.process.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:

        async def back() -> bool:
            await coordinator.async_refresh()
            await hass.async_block_till_done()
            return state_of(hass, entry, "sensor", "download_speed") != STATE_UNAVAILABLE

        await until(back)
        assert state_of(hass, entry, "sensor", "download_speed") == "0.0"
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=15)


async def test_password_change_starts_reauth(hass: HomeAssistant, qbittorrent: QBittorrentDaemon) -> None:
    entry = await add_entry(hass, qbittorrent)
    backend = entry.runtime_data.backend
    assert isinstance(backend, QBittorrentBackend)
    await backend.client.app_set_preferences({"web_ui_password": "a-new-password"})
    await backend.client.logout()  # the session ends, as it does when it expires

    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"username": qbittorrent.username, "password": "a-new-password"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["password"] == "a-new-password"
    assert state_of(hass, entry, "sensor", "download_speed") == "0.0"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_one_completion_event_per_torrent_across_restarts(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    entry = await add_entry(hass, qbittorrent)

    first, first_hash = make_torrent("while-up.bin", data_dir=qbittorrent.save_path)
    torrent = qbittorrent.save_path.parent / "while-up.torrent"
    torrent.write_bytes(first)
    hass.config.allowlist_external_dirs = {str(torrent.parent)}
    await hass.services.async_call(
        DOMAIN, "enqueue", {"config_entry_id": entry.entry_id, "torrent_file": str(torrent)}, blocking=True
    )

    async def first_done() -> bool:
        await entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
        return len(completed) >= 1

    await until(first_done)
    assert [event.data["id"] for event in completed] == [first_hash]

    # Home Assistant stops; meanwhile a torrent is added and finishes.
    assert await hass.config_entries.async_unload(entry.entry_id)
    second, second_hash = make_torrent("while-down.bin", data_dir=qbittorrent.save_path)
    async with QBittorrentClient(
        qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password
    ) as client:
        await client.torrents_add(torrent_files=[("while-down.torrent", second)])

        async def second_finished() -> bool:
            rows = await client.torrents_info(hashes=[second_hash])
            return bool(rows) and float(rows[0]["progress"]) >= 1.0

        await until(second_finished)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(event.data["id"] for event in completed) == sorted([first_hash, second_hash])
    for _ in range(3):
        await entry.runtime_data.coordinator.async_refresh()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert len(completed) == 2
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_moving_torrents_figures_are_read_while_the_card_is_open(
    hass: HomeAssistant,
    qbittorrent: QBittorrentDaemon,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sensors count states, so the moving torrents' list is read only for the card and get_transfers."""
    entry = await add_entry(hass, qbittorrent)
    coordinator = entry.runtime_data.coordinator
    client = coordinator.backend.client
    filters: list[str | None] = []
    listing = client.torrents_info

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        filters.append(kwargs.get("status_filter"))
        return await listing(*args, **kwargs)

    monkeypatch.setattr(client, "torrents_info", recorded)

    async def reads_moving() -> bool:
        filters.clear()
        await coordinator.async_refresh()
        return "active" in filters

    assert not await reads_moving()
    card = await hass_ws_client(hass)
    await card.send_json_auto_id({"type": "peerdeck/transfers/subscribe", "entry_id": entry.entry_id})
    assert (await card.receive_json())["success"]
    assert await reads_moving()
    assert await reads_moving()
    await card.close()
    await hass.async_block_till_done()
    assert not await reads_moving()

    full_reads = coordinator.backend.full_reads
    await hass.services.async_call(
        DOMAIN, "get_transfers", {"config_entry_id": entry.entry_id}, blocking=True, return_response=True
    )
    assert coordinator.backend.full_reads == full_reads + 1, "get_transfers answers with fresh figures and categories"
    assert not await reads_moving()


def start_again(daemon: QBittorrentDaemon) -> subprocess.Popen[bytes]:
    """Start qbittorrent-nox again with the same profile (the fixture's process has ended)."""
    return subprocess.Popen(
        daemon.process.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


async def lengthen_log(other: QBittorrentClient, count: int) -> None:
    """Make qBittorrent log more lines than it logs when it starts: add and remove torrents elsewhere."""
    for index in range(count):
        content, info_hash = make_torrent(f"filler-{index}.bin")
        await other.torrents_add(torrent_files=[(f"filler-{index}.torrent", content)], stopped=True)
        await until(lambda h=info_hash: listed(other, h))
        await other.torrents_delete([info_hash])
        await until(lambda h=info_hash: gone(other, h))


async def listed(client: QBittorrentClient, info_hash: str) -> bool:
    return bool(await client.torrents_info(hashes=[info_hash]))


async def gone(client: QBittorrentClient, info_hash: str) -> bool:
    return not await listed(client, info_hash)


async def waiting(client: QBittorrentClient, info_hash: str) -> bool:
    """Whether a download without peers or data is loaded and waiting (qBittorrent keeps it over a restart)."""
    rows = await client.torrents_info(hashes=[info_hash])
    return bool(rows) and rows[0]["state"] == "stalledDL"


async def loaded(client: QBittorrentClient, info_hash: str) -> bool:
    """Whether a restarted qBittorrent has loaded the torrent: waiting for data, or done with it already."""
    return await waiting(client, info_hash) or await finished(client, info_hash)


async def finished(client: QBittorrentClient, info_hash: str) -> bool:
    rows = await client.torrents_info(hashes=[info_hash])
    return bool(rows) and float(rows[0]["progress"]) >= 1.0


async def restarted(daemon: QBittorrentDaemon, log_cursor: int) -> tuple[subprocess.Popen[bytes], QBittorrentClient]:
    """Stop qBittorrent and start it again; returns it and a client of someone else. The new log must
    not have reached the old one's last id (the case that blinded Peerdeck)."""
    daemon.process.send_signal(signal.SIGTERM)
    daemon.process.wait(timeout=15)
    process = start_again(daemon)
    other = QBittorrentClient(daemon.url, username=daemon.username, password=daemon.password)

    async def answers() -> bool:
        try:
            await other.app_version()
        except PeerdeckError:  # still starting
            return False
        return True

    await until(answers)
    assert int((await other.log_main())[-1]["id"]) < log_cursor
    return process, other


async def test_download_finished_after_a_daemon_restart_is_announced_in_one_refresh(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon, tmp_path: Path
) -> None:
    """Issue 22: qBittorrent numbers its log from 0 again after a restart; the cursor must not blind us."""
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    entry = await add_entry(hass, qbittorrent)
    coordinator = entry.runtime_data.coordinator
    staging = tmp_path / "staging"
    content, info_hash = make_torrent("after-restart.bin", data_dir=staging)
    async with QBittorrentClient(qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password) as qb:
        await lengthen_log(qb, 12)
        await qb.torrents_add(torrent_files=[("after-restart.torrent", content)])  # its data is not there yet
        await until(lambda: waiting(qb, info_hash))
        cursor = int((await qb.log_main())[-1]["id"])
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert coordinator.data.transfers[info_hash].progress < 1.0

    (staging / "after-restart.bin").rename(qbittorrent.save_path / "after-restart.bin")
    process, other = await restarted(qbittorrent, cursor)
    try:
        async with other:
            # restored by qBittorrent (slow on a loaded machine; it may find the data itself while it loads)
            await until(lambda: loaded(other, info_hash), attempts=450)
            await other.torrents_recheck([info_hash])  # someone rechecks it: it finds its data and finishes
            await until(lambda: finished(other, info_hash))
        assert completed == []
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert [event.data["id"] for event in completed] == [info_hash]
        assert coordinator.data.transfers[info_hash].state is TransferState.COMPLETED
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert len(completed) == 1
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


async def test_torrent_added_elsewhere_after_a_daemon_restart_is_announced_in_one_refresh(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    added = async_capture_events(hass, "peerdeck_transfer_added")
    completed = async_capture_events(hass, "peerdeck_transfer_completed")
    entry = await add_entry(hass, qbittorrent)
    coordinator = entry.runtime_data.coordinator
    async with QBittorrentClient(qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password) as qb:
        await lengthen_log(qb, 12)
        cursor = int((await qb.log_main())[-1]["id"])
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    added.clear()

    process, other = await restarted(qbittorrent, cursor)
    try:
        content, info_hash = make_torrent("added-elsewhere.bin", data_dir=qbittorrent.save_path)
        async with other:
            await other.torrents_add(torrent_files=[("added-elsewhere.torrent", content)], category="tv")
            await until(lambda: finished(other, info_hash))
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert [(e.data["id"], e.data["category"]) for e in added] == [(info_hash, "tv")]
        assert [e.data["id"] for e in completed] == [info_hash]
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert len(added) == 1
        assert len(completed) == 1
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


async def test_categories_and_tags_changed_elsewhere_are_exact_in_get_transfers(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon
) -> None:
    """qBittorrent logs nothing for a category or tag change; automations routing by category read them."""
    entry = await add_entry(hass, qbittorrent)
    coordinator = entry.runtime_data.coordinator
    content, info_hash = make_torrent("routed.bin", data_dir=qbittorrent.save_path)
    async with QBittorrentClient(qbittorrent.url, username=qbittorrent.username, password=qbittorrent.password) as qb:
        await qb.torrents_add(torrent_files=[("routed.torrent", content)], category="tv")
        await until(lambda: finished(qb, info_hash))
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert coordinator.data.transfers[info_hash].category == "tv"
        await qb.torrents_create_category("rss-3")
        await qb.torrents_set_category([info_hash], "rss-3")
        await qb.torrents_add_tags([info_hash], ["keep"])
    await coordinator.async_refresh()  # a tick: nothing in the log, no full read
    listed = await hass.services.async_call(
        DOMAIN, "get_transfers", {"config_entry_id": entry.entry_id}, blocking=True, return_response=True
    )
    assert [(t["id"], t["category"], t["tags"]) for t in listed["transfers"]] == [(info_hash, "rss-3", ["keep"])]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_open_card_keeps_categories_fresh(
    hass: HomeAssistant, qbittorrent: QBittorrentDaemon, hass_ws_client: WebSocketGenerator
) -> None:
    entry = await add_entry(hass, qbittorrent)
    backend = entry.runtime_data.backend
    assert isinstance(backend, QBittorrentBackend)
    assert backend.exact_max_age == math.inf, "nobody looks: categories wait for a read that needs them"
    card = await hass_ws_client(hass)
    await card.send_json_auto_id({"type": "peerdeck/transfers/subscribe", "entry_id": entry.entry_id})
    assert (await card.receive_json())["success"]
    assert backend.exact_max_age == WATCHED_EXACT_MAX_AGE
    await card.close()
    await hass.async_block_till_done()
    assert backend.exact_max_age == math.inf
    assert await hass.config_entries.async_unload(entry.entry_id)
