"""slskd's documented quirks: names with ``/``, url_base, JWT renewal, 429s, enqueue per version, states."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckForbiddenError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
    TransferState,
)
from peerdeck.slskd import SlskdClient, parse_flags, transfer_state
from peerdeck.slskd.backend import flatten
from peerdeck.slskd.states import is_retryable, search_is_complete, server_is_online

from .conftest import Running, Starter
from .server import Config

SONG = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)


async def test_username_with_slash_and_spaces(client: SlskdClient, slskd: Running) -> None:
    slskd.server.peers["dj/slash man"].hold = True
    result = await client.transfers_enqueue("dj/slash man", [("Shared/Blue Song (remix).flac", 30_000_000)])
    transfer_id = result.enqueued[0]["id"]
    record = await client.transfers_download("dj/slash man", transfer_id)
    assert record["username"] == "dj/slash man"
    assert ("GET", f"/api/v0/transfers/downloads/dj/slash man/{transfer_id}") in slskd.server.requests
    await client.transfers_cancel_download("dj/slash man", transfer_id, remove=True)
    # From 0.24.2 removing a record that is not finished is skipped: still listed, cancelled.
    [listed] = flatten(await client.transfers_downloads())
    assert listed["id"] == transfer_id
    for _ in range(100):
        if (await client.transfers_download("dj/slash man", transfer_id))["state"] == "Completed, Cancelled":
            break
        await asyncio.sleep(0.02)
    await client.transfers_cancel_download("dj/slash man", transfer_id, remove=True)
    assert flatten(await client.transfers_downloads()) == []


async def test_url_base_is_kept(start_slskd: Starter) -> None:
    running = await start_slskd(Config(url_base="/slskd"))
    assert running.url.endswith("/slskd")
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        assert await client.application_version() == "0.26.0.0"
        assert await client.health() == "Healthy"
    assert ("GET", "/slskd/api/v0/application/version") in running.server.requests


async def test_wrong_api_key_is_an_authentication_error(slskd: Running) -> None:
    async with SlskdClient(slskd.url, api_key="wrong-key-0123456789") as client:
        with pytest.raises(PeerdeckAuthenticationError) as err:
            await client.application_state()
    assert "wrong-key" not in str(err.value)


async def test_jwt_login_and_renewal_after_restart(slskd: Running) -> None:
    async with SlskdClient(slskd.url, username="slskd", password="slskd") as client:
        assert client.uses_jwt
        await client.server_state()
        assert slskd.server.logins == 1
        slskd.server.restart()  # every JWT dies: slskd signs with a random key per start
        assert (await client.server_state())["isLoggedIn"] is True
        assert slskd.server.logins == 2


async def test_jwt_renewed_before_it_expires(start_slskd: Starter) -> None:
    running = await start_slskd(Config(jwt_ttl=30.0))  # inside the client's renewal margin
    async with SlskdClient(running.url, username="slskd", password="slskd") as client:
        await client.server_state()
        await client.server_state()
    assert running.server.logins == 2


async def test_wrong_password_and_headless(start_slskd: Starter) -> None:
    running = await start_slskd()
    async with SlskdClient(running.url, username="slskd", password="nope") as client:
        with pytest.raises(PeerdeckAuthenticationError) as err:
            await client.server_state()
    assert "nope" not in str(err.value)
    headless = await start_slskd(Config(headless=True))
    async with SlskdClient(headless.url, username="slskd", password="slskd") as client:
        with pytest.raises(PeerdeckForbiddenError, match="API key"):
            await client.server_state()


async def test_server_answers_429_to_concurrent_searches(slskd: Running) -> None:
    slskd.server.config.operation_delay = 0.2
    headers = {"X-API-Key": slskd.api_key}
    async with aiohttp.ClientSession() as session:

        async def post(text: str) -> int:
            async with session.post(f"{slskd.url}/api/v0/searches", json={"searchText": text}, headers=headers) as r:
                return r.status

        statuses = await asyncio.gather(post("one"), post("two"))
    assert sorted(statuses) == [200, 429]


async def test_client_serialises_searches_and_enqueues(slskd: Running) -> None:
    slskd.server.config.operation_delay = 0.05
    slskd.server.peers["alice"].hold = True
    async with SlskdClient(slskd.url, api_key=slskd.api_key, rate_limit_retries=0) as client:
        searches = await asyncio.gather(*(client.searches_create(f"blue {i}") for i in range(3)))
        files = [(f"@@music\\x\\{i}.mp3", 1) for i in range(4)]
        enqueues = await asyncio.gather(*(client.transfers_enqueue("alice", [f]) for f in files))
    assert len({s["id"] for s in searches}) == 3
    assert all(e.enqueued for e in enqueues)
    assert slskd.server.max_search_busy == 1
    assert slskd.server.max_enqueue_busy == 1


async def test_429_from_another_client_is_retried_with_backoff(slskd: Running) -> None:
    slskd.server.config.operation_delay = 0.15
    headers = {"X-API-Key": slskd.api_key}
    async with (
        aiohttp.ClientSession() as session,
        SlskdClient(slskd.url, api_key=slskd.api_key, rate_limit_backoff=0.1) as client,
    ):
        other = asyncio.create_task(
            session.post(f"{slskd.url}/api/v0/searches", json={"searchText": "web ui"}, headers=headers)
        )
        await asyncio.sleep(0.05)
        started = time.monotonic()
        mine = await client.searches_create("blue")
        (await other).release()
    assert mine["searchText"] == "blue"
    assert time.monotonic() - started >= 0.1
    assert ("POST", "/api/v0/searches") in slskd.server.requests


async def test_429_retries_are_bounded(slskd: Running) -> None:
    slskd.server.search_busy = 1  # a search that never finishes being created
    async with SlskdClient(slskd.url, api_key=slskd.api_key, rate_limit_retries=2, rate_limit_backoff=0.01) as c:
        with pytest.raises(PeerdeckRateLimitedError, match="Only one concurrent operation"):
            await c.searches_create("blue")
    assert slskd.server.requests.count(("POST", "/api/v0/searches")) == 3


@pytest.mark.parametrize(
    ("version", "has_records"),
    [("0.22.5", False), ("0.23.2", False), ("0.24.0", True), ("0.25.1", True)],
)
async def test_enqueue_uses_per_user_route_before_026(start_slskd: Starter, version: str, has_records: bool) -> None:
    running = await start_slskd(Config(version=version))
    running.server.peers["alice"].hold = True
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        result = await client.transfers_enqueue("alice", [SONG])
        again = await client.transfers_enqueue("alice", [SONG])
        records = flatten(await client.transfers_downloads())
    assert not result.via_batches
    assert bool(result.enqueued) is has_records
    assert len(records) == 1
    assert again.failed[0].filename == SONG[0]
    assert ("POST", "/api/v0/transfers/downloads/batches") not in running.server.requests


async def test_per_user_enqueue_failures_on_026_are_empty_tuples(client: SlskdClient, slskd: Running) -> None:
    slskd.server.peers["alice"].hold = True
    await client.transfers_enqueue_legacy("alice", [SONG])
    again = await client.transfers_enqueue_legacy("alice", [SONG])
    assert again.enqueued == ()
    assert len(again.failed) == 1
    assert again.failed[0].message is None


async def test_old_slskd_has_no_batches_route(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.25.1"))
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        # Before 0.26 the POST reaches the per-user route as the user "batches" and fails binding.
        with pytest.raises(PeerdeckResponseError, match="not valid") as err:
            await client.transfers_enqueue_batch("alice", [SONG])
    assert err.value.status == 400


async def test_offline_user_on_per_user_route_is_a_server_error(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.25.1"))
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        with pytest.raises(PeerdeckServerError, match="appears to be offline") as err:
            await client.transfers_enqueue("offline user", [("x\\Blue.mp3", 1)])
    assert err.value.status == 500


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Requested", TransferState.QUEUED),
        ("Queued, Locally", TransferState.QUEUED),
        ("Queued, Remotely", TransferState.QUEUED),
        ("Initializing", TransferState.ACTIVE),
        ("InProgress", TransferState.ACTIVE),
        ("Completed, Succeeded", TransferState.COMPLETED),
        ("Succeeded, Completed", TransferState.COMPLETED),
        ("Completed, Cancelled", TransferState.CANCELLED),
        ("Completed, TimedOut", TransferState.FAILED),
        ("Completed, Errored", TransferState.FAILED),
        ("Completed, Rejected", TransferState.FAILED),
        ("Completed, Aborted", TransferState.FAILED),
        (None, TransferState.QUEUED),
    ],
)
def test_transfer_state_strings(text: str | None, state: TransferState) -> None:
    assert transfer_state(text) is state


def test_numeric_states_are_never_trusted() -> None:
    # 1024 meant Locally before Aborted was inserted, and Aborted after: numbers are ambiguous.
    assert parse_flags(1024) == frozenset()
    assert parse_flags(" Completed ,  Succeeded ") == {"Completed", "Succeeded"}
    assert is_retryable("Completed, Errored")
    assert not is_retryable("Completed, Succeeded")
    assert not is_retryable("InProgress")
    assert search_is_complete("Completed, ResponseLimitReached")
    assert not search_is_complete("InProgress")
    assert server_is_online("Connected, LoggedIn")
    assert not server_is_online("Connected, LoggingIn")
