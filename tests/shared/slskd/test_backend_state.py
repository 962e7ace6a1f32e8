"""slskd's persisted event state: a download finished while the caller was away is announced once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from peerdeck import Backend, Credentials, RemoteFiles, TransferEventKind
from peerdeck.slskd import SlskdBackend, split_id

from .conftest import Running

SONG = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)


async def completions(slskd: Running, state: dict[str, Any] | None) -> tuple[list[str], dict[str, Any]]:
    """One refresh of a fresh backend (restored from ``state``): completed ids and the new state."""
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key)) as backend:
        assert isinstance(backend, Backend)
        if state is not None:
            backend.restore_state(state)
        update = await backend.update()
    done = [e.transfer.id for e in update.events if e.kind is TransferEventKind.COMPLETED]
    return done, backend.export_state()


async def finished(slskd: Running, transfer_id: str, *, then_clear: bool = False) -> None:
    """Wait until slskd lists the download as succeeded; ``then_clear`` drops the finished records after."""
    username, raw_id = split_id(transfer_id)
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key)) as backend:
        for _ in range(500):
            if (await backend.client.transfers_download(username, raw_id))["state"] == "Completed, Succeeded":
                break
            await asyncio.sleep(0.02)
        if then_clear:
            await backend.client.transfers_clear_completed_downloads()


@pytest.mark.parametrize("cleared", [False, True], ids=["listed", "cleared"])
async def test_completion_while_away_is_announced_once(slskd: Running, cleared: bool) -> None:
    """A download that finished while the caller (Home Assistant, the bot) was down is announced once;
    also when it was cleared from slskd's list meanwhile: slskd's event log is read on from where the
    last process stopped reading it."""
    slskd.server.peers["alice"].hold = True
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key)) as backend:
        [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
    done, state = await completions(slskd, None)
    assert done == []
    assert state["transfers"][transfer_id]["done"] is False
    slskd.server.peers["alice"].hold = False
    await finished(slskd, transfer_id, then_clear=cleared)
    done, state = await completions(slskd, state)
    assert done == [transfer_id]
    done, _ = await completions(slskd, state)
    assert done == []


async def test_status_carries_server_state_and_share_counts(slskd: Running) -> None:
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key)) as backend:
        status = await backend.status()
    assert status.extra["server_state"] == "Connected, LoggedIn"
    assert (status.extra["shared_directories"], status.extra["shared_files"]) == (2, 3)


async def test_a_state_saved_before_the_event_log_position_still_restores(slskd: Running) -> None:
    """The flat tracker state earlier releases saved: announced completions stay announced."""
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key)) as backend:
        [transfer_id] = await backend.enqueue(RemoteFiles("alice", (SONG,)))
    await finished(slskd, transfer_id)
    flat = {transfer_id: {"name": "01 - Blue Song.mp3", "state": "completed", "done": True}}
    done, state = await completions(slskd, flat)
    assert done == []
    assert state["transfers"][transfer_id]["done"] is True and "event_log" in state
