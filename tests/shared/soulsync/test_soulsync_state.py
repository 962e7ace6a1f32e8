"""SoulSync's persisted event state: a task finished while the caller was away is announced once."""

from __future__ import annotations

from typing import Any

from peerdeck import Backend, Credentials, TransferEventKind
from peerdeck.soulsync import SoulSyncBackend

from .conftest import FakeClock, limiter
from .server import SoulSyncServer


async def completions(
    server: SoulSyncServer, api_key: str, clock: FakeClock, state: dict[str, Any] | None
) -> tuple[list[str], dict[str, Any]]:
    """One refresh of a fresh backend (restored from ``state``): completed ids and the new state."""
    backend = SoulSyncBackend(
        str(server.url), Credentials(api_key=api_key), rate_limiter=limiter(clock), clock=clock, sleep=clock.sleep
    )
    assert isinstance(backend, Backend)
    if state is not None:
        backend.restore_state(state)
    try:
        update = await backend.update()
    finally:
        await backend.close()
    done = [e.transfer.id for e in update.events if e.kind is TransferEventKind.COMPLETED]
    return done, backend.export_state()


async def test_completion_while_away_is_announced_once(server: SoulSyncServer, api_key: str, clock: FakeClock) -> None:
    server.advance_downloads = False
    task = server.add_task("downloading", username="peer", track_name="Song")
    done, state = await completions(server, api_key, clock, None)
    assert done == []
    task.status, task.progress = "completed", 1.0
    done, state = await completions(server, api_key, clock, state)
    assert done == [task.id]
    done, _ = await completions(server, api_key, clock, state)
    assert done == []


async def test_list_sizes_are_read_every_few_minutes(
    backend: SoulSyncBackend, server: SoulSyncServer, clock: FakeClock
) -> None:
    for n in range(3):
        await backend.client.add_to_wishlist({"id": str(n), "name": f"Track {n}", "artists": ["A"]})
    await backend.client.add_to_watchlist("a1", "A", source="spotify")
    await backend.client.add_to_watchlist("27", "B", source="deezer")
    status = await backend.status()
    assert (status.extra["wishlist_size"], status.extra["watchlist_size"]) == (3, 2)
    assert server.log[-1][2]["fields"] == "id"  # watchlist items have no artist_id: count them by id
    server.watchlists[1].pop()
    before = len(server.hits)
    status = await backend.status()
    assert len(server.hits) - before == 3  # the lists were not read again
    assert status.extra["watchlist_size"] == 2
    clock.now += backend.lists_interval
    status = await backend.status()
    assert (status.extra["wishlist_size"], status.extra["watchlist_size"]) == (3, 1)
