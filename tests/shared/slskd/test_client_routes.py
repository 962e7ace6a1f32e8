"""Every route of the slskd client against the conformance server (one test per API area)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from peerdeck import (
    PeerdeckAuthenticationError,
    PeerdeckConflictError,
    PeerdeckForbiddenError,
    PeerdeckInputError,
    PeerdeckNotFoundError,
    PeerdeckResponseError,
)
from peerdeck.slskd import SlskdClient, event_data
from peerdeck.slskd.backend import flatten

from .conftest import Running, Starter
from .server import Config, relay_credential


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 3.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_application_and_server(client: SlskdClient, slskd: Running) -> None:
    state = await client.application_state()
    assert state["version"]["current"] == "0.26.0"
    assert state["server"]["state"] == "Connected, LoggedIn"
    assert await client.application_version() == "0.26.0.0"  # a release build's four-part version
    assert await client.version() == (0, 26, 0)
    latest = await client.application_check_updates(force_check=True)
    assert latest["isUpdateAvailable"] is False
    await client.application_gc()
    assert await client.health() == "Healthy"

    assert (await client.server_state())["isLoggedIn"] is True
    await client.server_disconnect("maintenance")
    assert (await client.server_state())["state"] == "Disconnected"
    assert await client.server_connect() is True
    assert (await client.server_state())["isConnected"] is True
    types = [e["type"] for e in (await client.events()).events]
    assert types[:2] == ["SoulseekClientConnected", "SoulseekClientDisconnected"]


async def test_application_restart_and_shutdown_need_a_jwt(start_slskd: Starter) -> None:
    running = await start_slskd()
    async with SlskdClient(running.url, api_key=running.api_key) as keyed:
        with pytest.raises(PeerdeckAuthenticationError):
            await keyed.application_restart()
    async with SlskdClient(running.url, username="slskd", password="slskd") as admin:
        await admin.application_restart()
        await admin.application_shutdown()
    assert ("PUT", "/api/v0/application") in running.server.requests


async def test_session_routes(client: SlskdClient, slskd: Running) -> None:
    assert await client.session_enabled() is True
    assert await client.session_check() is True
    answer = await client.session_login("slskd", "slskd")
    assert answer["tokenType"] == "Bearer"
    assert answer["expires"] > answer["issued"]
    with pytest.raises(PeerdeckAuthenticationError, match="username or password"):
        await client.session_login("slskd", "wrong")
    async with SlskdClient(slskd.url, api_key="not-the-key-0000000") as stranger:
        assert await stranger.session_check() is False
        assert await stranger.session_enabled() is True


async def test_search_routes(client: SlskdClient, slskd: Running) -> None:
    created = await client.searches_create("blue song", search_timeout=100, response_limit=10)
    assert created["state"] == "Requested"
    search_id = created["id"]
    done = await wait_for(lambda: _completed(client, search_id))
    assert done["state"] == "Completed, TimedOut"
    assert done["responseCount"] == 2
    assert "endedAt" in done
    with_responses = await client.search(search_id, include_responses=True)
    assert {r["username"] for r in with_responses["responses"]} == {"alice", "dj/slash man"}
    responses = await client.search_responses(search_id)
    slash = next(r for r in responses if r["username"] == "dj/slash man")
    assert [f["filename"] for f in slash["files"]] == ["Shared/Blue Song (remix).flac"]
    assert slash["hasFreeUploadSlot"] is False
    assert [s["id"] for s in await client.searches()] == [search_id]
    await client.search_stop(search_id)
    await client.search_delete(search_id)
    with pytest.raises(PeerdeckNotFoundError):
        await client.search(search_id)
    with pytest.raises(PeerdeckInputError):
        await client.searches_create("   ")


async def test_search_states_limit_and_cancel(client: SlskdClient) -> None:
    limited = await client.searches_create("blue", response_limit=1, search_timeout=5000)
    done = await wait_for(lambda: _completed(client, limited["id"]))
    assert done["state"] == "Completed, ResponseLimitReached"
    [first] = await client.search_responses(limited["id"])
    assert first["username"] == "alice"
    broad = await client.searches_create("blue", search_timeout=50)
    await wait_for(lambda: _completed(client, broad["id"]))
    slash = next(r for r in await client.search_responses(broad["id"]) if r["username"] == "dj/slash man")
    assert slash["lockedFileCount"] == 1
    assert slash["lockedFiles"][0]["isLocked"] is True
    running = await client.searches_create("blue", search_timeout=60000)
    await wait_for(lambda: _state_is(client, running["id"], "InProgress"))
    await client.search_stop(running["id"])
    assert (await client.search(running["id"]))["state"] == "Completed, Cancelled"
    with pytest.raises(PeerdeckConflictError):
        await client.searches_create("again", search_id=running["id"])


async def _completed(client: SlskdClient, search_id: str) -> dict[str, Any] | None:
    """The search once slskd has written its responses (``endedAt`` comes with them)."""
    record = await client.search(search_id)
    return record if record["isComplete"] and "endedAt" in record else None


async def _state_is(client: SlskdClient, search_id: str, state: str) -> bool:
    return bool((await client.search(search_id))["state"] == state)


async def test_transfer_routes(client: SlskdClient, slskd: Running) -> None:
    slskd.server.peers["alice"].hold = True
    song = "@@music\\Artist\\Album\\01 - Blue Song.mp3"
    result = await client.transfers_enqueue("alice", [(song, 8_000_000)])
    assert result.via_batches
    [record] = result.enqueued
    assert record["state"] == "Queued, Locally"
    assert result.batch_id is not None
    batch = await client.transfers_batch(result.batch_id)
    assert batch["username"] == "alice"
    assert [t["id"] for t in batch["transfers"]] == [record["id"]]

    assert (await client.transfers_download("alice", record["id"]))["filename"] == song
    assert await client.transfers_queue_position("alice", record["id"]) == 1
    grouped = await client.transfers_user_downloads("alice")
    assert grouped["directories"][0]["directory"] == "@@music\\Artist\\Album"
    assert [t["id"] for t in flatten(await client.transfers_downloads())] == [record["id"]]

    await client.transfers_cancel_download("alice", record["id"])
    cancelled = await wait_for(lambda: _final(client, "alice", record["id"]))  # cancelling is asynchronous
    assert cancelled["state"] == "Completed, Cancelled"
    await client.transfers_clear_completed_downloads()
    assert flatten(await client.transfers_downloads()) == []
    assert len(flatten(await client.transfers_downloads(include_removed=True))) == 1
    with pytest.raises(PeerdeckNotFoundError):
        await client.transfers_user_downloads("alice")

    uploads = flatten(await client.transfers_uploads())
    upload = uploads[0]
    assert (await client.transfers_user_uploads("leecher"))["username"] == "leecher"
    assert (await client.transfers_upload("leecher", upload["id"]))["state"] == "InProgress"
    await client.transfers_cancel_upload("leecher", upload["id"], remove=True)
    assert flatten(await client.transfers_uploads()) == []
    await client.transfers_clear_completed_uploads()
    assert len(flatten(await client.transfers_uploads(include_removed=True))) == 1


async def test_transfer_state_machine_and_completion_event(client: SlskdClient) -> None:
    seen: list[str] = []
    result = await client.transfers_enqueue("alice", [("@@music\\Artist\\Album\\02 - Red Song.mp3", 9_000_000)])
    transfer_id = result.enqueued[0]["id"]

    async def finished() -> dict[str, Any] | None:
        record = await client.transfers_download("alice", transfer_id)
        if not seen or seen[-1] != record["state"]:
            seen.append(record["state"])
        return record if "Completed" in record["state"] else None

    final = await wait_for(finished)
    assert final["state"] == "Completed, Succeeded"
    assert final["percentComplete"] == 100.0
    assert seen[0] == "Queued, Locally"
    assert "InProgress" in seen
    [event] = [e for e in (await client.events()).events if e["type"] == "DownloadFileComplete"]
    assert event_data(event)["transfer"]["id"] == transfer_id


async def test_rejected_and_errored_transfers(client: SlskdClient, slskd: Running) -> None:
    slskd.server.peers["alice"].errored.add("@@music\\Artist\\Album\\02 - Red Song.mp3")
    result = await client.transfers_enqueue(
        "alice", [("@@music\\Artist\\Album\\02 - Red Song.mp3", 9_000_000), ("not\\shared.mp3", 5)]
    )
    ids = {t["filename"]: t["id"] for t in result.enqueued}
    errored = await wait_for(lambda: _final(client, "alice", ids["@@music\\Artist\\Album\\02 - Red Song.mp3"]))
    rejected = await wait_for(lambda: _final(client, "alice", ids["not\\shared.mp3"]))
    assert errored["state"] == "Completed, Errored"
    assert rejected["state"] == "Completed, Rejected"
    assert rejected["exception"] == "File not shared."


async def _final(client: SlskdClient, username: str, transfer_id: str) -> dict[str, Any] | None:
    record = await client.transfers_download(username, transfer_id)
    return record if "Completed" in record["state"] else None


async def test_batch_statuses_and_errors(client: SlskdClient, slskd: Running) -> None:
    slskd.server.peers["alice"].hold = True
    song = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)
    other = ("@@music\\Artist\\Album\\02 - Red Song.mp3", 9_000_000)
    first = await client.transfers_enqueue_batch("alice", [song], destination="Albums/Blue")
    assert first.raw["batch"]["options"] == {"destination": "Albums/Blue"}
    partial = await client.transfers_enqueue_batch("alice", [song, other])
    assert len(partial.enqueued) == 1
    assert partial.failed[0].filename == song[0]
    assert partial.failed[0].message
    none = await client.transfers_enqueue_batch("alice", [song])
    assert none.enqueued == ()
    with pytest.raises(PeerdeckNotFoundError, match="offline"):
        await client.transfers_enqueue_batch("offline user", [("x\\Blue.mp3", 1)])
    with pytest.raises(PeerdeckConflictError):
        await client.transfers_enqueue_batch("alice", [("new.mp3", 1)], batch_id=first.batch_id)
    with pytest.raises(PeerdeckResponseError, match="repeated") as err:
        await client.transfers_enqueue_batch("alice", [song, song])
    assert err.value.status == 400
    with pytest.raises(PeerdeckInputError):
        await client.transfers_enqueue_batch("alice", [])


async def test_user_routes(client: SlskdClient, slskd: Running) -> None:
    name = "dj/slash man"
    assert (await client.user_endpoint(name))["port"] > 0
    assert (await client.user_info(name))["queueLength"] == 5
    assert (await client.user_status(name))["presence"] == "Online"
    browse = await client.user_browse(name)
    assert browse["directories"][0]["name"] == "Shared"
    [directory] = await client.user_directory(name, "Shared")
    assert directory["fileCount"] == 2
    with pytest.raises(PeerdeckNotFoundError):
        await client.user_browse_status(name)
    slskd.server.peers[name].browse_delay = 0.3
    browsing = asyncio.create_task(client.user_browse(name, time_limit=5))
    status = await wait_for(lambda: _browse_status(client, name))
    assert status["username"] == name
    await browsing
    with pytest.raises(PeerdeckNotFoundError, match="offline"):
        await client.user_info("offline user")


async def _browse_status(client: SlskdClient, name: str) -> dict[str, Any] | None:
    try:
        return await client.user_browse_status(name)
    except PeerdeckNotFoundError:
        return None


async def test_conversation_routes(client: SlskdClient) -> None:
    [bob] = await client.conversations()
    assert bob["hasUnAcknowledgedMessages"] is True
    assert (await client.conversations(unacknowledged_only=True))[0]["username"] == "bob"
    assert (await client.conversation("bob"))["messages"][0]["message"] == "hello"
    assert "messages" not in await client.conversation("bob", include_messages=False)
    assert len(await client.conversation_messages("bob", unacknowledged_only=True)) == 1
    await client.conversation_acknowledge("bob", 1)
    assert await client.conversation_messages("bob", unacknowledged_only=True) == []
    await client.conversation_send("us/er two", "hi there")
    assert (await client.conversation_messages("us/er two"))[0]["message"] == "hi there"
    await client.conversation_acknowledge_all("us/er two")
    await client.conversation_close("us/er two")
    assert [c["username"] for c in await client.conversations()] == ["bob"]
    assert {c["username"] for c in await client.conversations(include_inactive=True)} == {"bob", "us/er two"}
    with pytest.raises(PeerdeckNotFoundError):
        await client.conversation_acknowledge("bob", 99)


async def test_room_routes(client: SlskdClient) -> None:
    assert {r["name"] for r in await client.rooms_available()} >= {"indie", "a/b room"}
    room = await client.room_join("a/b room")
    assert room is not None
    assert room["isPrivate"] is True
    assert await client.room_join("a/b room") is None
    assert await client.rooms_joined() == ["a/b room"]
    await client.room_send("a/b room", "hello room")
    assert (await client.room_messages("a/b room"))[0]["message"] == "hello room"
    await client.room_set_ticker("a/b room", "now playing")
    await client.room_add_member("a/b room", "bob")
    assert (await client.room("a/b room"))["members"] == ["bob"]
    assert (await client.room_users("a/b room"))[0]["username"] == "me"
    await client.room_leave("a/b room")
    with pytest.raises(PeerdeckNotFoundError):
        await client.room("a/b room")


async def test_event_routes(client: SlskdClient) -> None:
    raised = await client.event_raise("noop")
    assert raised["type"] == "Noop"
    sample = await client.event_raise("DownloadFileComplete", "x-")
    assert sample["localFilename"] == "x-local.file"
    page = await client.events(limit=1)
    assert page.total == 2
    assert len(page.events) == 1
    assert event_data(page.events[0])["remoteFilename"] == "x-remote.file"
    with pytest.raises(PeerdeckResponseError, match="Unknown event type"):
        await client.event_raise("Bogus")


async def test_file_routes(start_slskd: Starter) -> None:
    running = await start_slskd(Config(remote_file_management=True))
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        root = await client.files_downloads()
        assert root["directories"][0]["name"] == "Album One"
        deep = await client.files_downloads(recursive=True)
        assert len(deep["directories"][0]["files"]) == 2
        album = await client.files_downloads("Album One")
        assert {f["name"] for f in album["files"]} == {"01 - Intro.flac", "02 - Song.flac"}
        await client.files_delete_download_file("Album One/01 - Intro.flac")
        assert [f["name"] for f in (await client.files_downloads("Album One"))["files"]] == ["02 - Song.flac"]
        await client.files_delete_download_directory("Album One")
        with pytest.raises(PeerdeckNotFoundError):
            await client.files_downloads("Album One")
        assert (await client.files_incomplete("Partial"))["files"][0]["length"] == 1_000_000
        assert (await client.files_incomplete())["directories"][0]["name"] == "Partial"
        await client.files_delete_incomplete_file("Partial/03 - Track.mp3")
        with pytest.raises(PeerdeckNotFoundError):
            await client.files_delete_incomplete_directory("Partial")


async def test_file_deletion_needs_remote_file_management(client: SlskdClient) -> None:
    with pytest.raises(PeerdeckForbiddenError):
        await client.files_delete_download_file("Album One/01 - Intro.flac")


async def test_logs_options_and_shares(client: SlskdClient) -> None:
    assert (await client.logs())[0]["level"] == "Information"
    assert (await client.options())["web"]["authentication"]["password"] == "*****"
    assert "soulseek" in await client.options_startup()
    with pytest.raises(PeerdeckForbiddenError):
        await client.options_patch({"soulseek": {"description": "x"}})

    shares = await client.shares()
    assert shares["local"][0]["id"] == "music"
    assert (await client.share("music"))["localPath"] == "/music"
    assert (await client.shares_contents())[0]["fileCount"] == 2
    assert (await client.share_contents("music"))[0]["name"] == "@@music\\Album"
    assert await client.shares_cancel_scan() is False
    await client.shares_rescan()
    with pytest.raises(PeerdeckConflictError, match="already in progress"):
        await client.shares_rescan()
    assert await client.shares_cancel_scan() is True


async def test_remote_configuration_routes(start_slskd: Starter) -> None:
    running = await start_slskd(Config(remote_configuration=True, debug=True))
    async with SlskdClient(running.url, api_key=running.api_key) as keyed:
        assert await keyed.options_patch({"flags": {"optimistic": True}}) == {"flags": {"optimistic": True}}
        with pytest.raises(PeerdeckAuthenticationError):
            await keyed.options_yaml()
    async with SlskdClient(running.url, username="slskd", password="slskd") as admin:
        assert "username: me" in await admin.options_yaml()
        assert await admin.options_yaml_location() == "/app/slskd.yml"
        assert "YamlConfigurationProvider" in await admin.options_debug()
        assert await admin.options_yaml_validate("soulseek:\n  description: hi\n") is None
        assert await admin.options_yaml_validate("not yaml") is not None
        await admin.options_yaml_update("soulseek:\n  description: hi\n")
        assert "description: hi" in await admin.options_yaml()
        with pytest.raises(PeerdeckResponseError, match="not a YAML mapping"):
            await admin.options_yaml_update("broken")


async def test_telemetry_routes(client: SlskdClient, slskd: Running) -> None:
    result = await client.transfers_enqueue("alice", [("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)])
    await wait_for(lambda: _final(client, "alice", result.enqueued[0]["id"]))
    assert (await client.telemetry_metrics())["slskd_transfers_downloads_total"] == 1
    assert (await client.telemetry_kpis())["downloads"] == 1
    summary = await client.telemetry_transfer_summary(direction="Download")
    assert summary["Download"]["Succeeded"]["count"] == 1
    assert await client.telemetry_transfer_histogram(interval=60)
    with pytest.raises(PeerdeckInputError):
        await client.telemetry_transfer_histogram(interval=60, buckets=10)
    board = await client.telemetry_transfer_leaderboard("Download")
    assert board[0]["username"] == "alice"
    with pytest.raises(PeerdeckResponseError, match="Invalid direction"):
        await client.telemetry_transfer_leaderboard("Sideways")
    assert (await client.telemetry_user_transfers("alice"))["download"]["count"] == 1
    assert await client.telemetry_transfer_exceptions("Download") == []
    assert await client.telemetry_transfer_exceptions_pareto("Upload") == []
    assert (await client.telemetry_transfer_directories(limit=5))[0]["path"] == "@@music\\Artist\\Album"


async def test_relay_routes(start_slskd: Starter) -> None:
    running = await start_slskd(Config(relay_agents={"agent1": "s3cret"}))
    token = str(uuid.uuid4())
    credential = relay_credential("s3cret", token)
    running.server.relay_files[token] = ("Album/01.flac", b"FLAC-bytes")
    async with SlskdClient(running.url, api_key=running.api_key) as keyed:
        data = await keyed.relay_download_file(token, "Album/01.flac", agent="agent1", credential=credential)
        assert data == b"FLAC-bytes"
        await keyed.relay_upload_file(token, "song.mp3", b"ID3", agent="agent1", credential=credential)
        assert running.server.relay_received[token] == ("song.mp3", b"ID3")
        await keyed.relay_upload_shares(token, b"sqlite", agent="agent1", credential=credential)
        assert running.server.relay_received[token] == ("shares", b"sqlite")
        with pytest.raises(PeerdeckAuthenticationError):
            await keyed.relay_download_file(token, "Album/01.flac", agent="agent1", credential="forged")
        with pytest.raises(PeerdeckAuthenticationError):
            await keyed.relay_connect()
    async with SlskdClient(running.url, username="slskd", password="slskd") as admin:
        await admin.relay_connect()
        await admin.relay_disconnect()
