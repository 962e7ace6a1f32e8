"""Tribler's persisted event state: a download finished while the caller was away is announced once."""

from __future__ import annotations

from typing import Any

from peerdeck import Backend, Credentials, TransferEventKind
from peerdeck.tribler import TriblerBackend

from .conftest import Core
from .server import API_KEY, FakeDownload

INFOHASH = "d" * 40


async def completions(core: Core, state: dict[str, Any] | None) -> tuple[list[str], dict[str, Any]]:
    """One refresh of a fresh backend (restored from ``state``): completed ids and the new state."""
    backend = TriblerBackend(core.url, Credentials(api_key=API_KEY), startup_wait=5.0)
    assert isinstance(backend, Backend)
    if state is not None:
        backend.restore_state(state)
    try:
        update = await backend.update()
    finally:
        await backend.close()
    done = [e.transfer.id for e in update.events if e.kind is TransferEventKind.COMPLETED]
    return done, backend.export_state()


async def test_completion_while_away_is_announced_once(core: Core) -> None:
    core.server.downloads[INFOHASH] = FakeDownload(INFOHASH, "ubuntu.iso", files=[("ubuntu.iso", 1000)], progress=0.3)
    done, state = await completions(core, None)
    assert done == []
    assert state["transfers"][INFOHASH]["done"] is False
    core.server.finish(INFOHASH)
    done, state = await completions(core, state)
    assert done == [INFOHASH]
    done, _ = await completions(core, state)
    assert done == []
