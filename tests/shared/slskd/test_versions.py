"""Routes and answers that differ between slskd versions, each reached by the one path its version has."""

from __future__ import annotations

import aiohttp
import pytest

from peerdeck import Credentials, EnqueueOptions, PeerdeckInputError, PeerdeckNotSupportedError, RemoteFiles
from peerdeck.slskd import SlskdBackend, SlskdClient

from .conftest import Running, Starter
from .server import Config, Peer

SONG = ("@@music\\Artist\\Album\\01 - Blue Song.mp3", 8_000_000)
ALBUM = [(f"Music\\Album\\0{i} - Song.mp3", 1_000 + i) for i in range(1, 4)]


async def test_per_user_enqueue_on_023_neither_times_out_nor_fails_falsely(start_slskd: Starter) -> None:
    """0.22 to 0.23 answer only once the peer queued every file, and 500 if one was refused."""
    files = dict(ALBUM[:2])  # the third is not shared: the peer refuses it
    running = await start_slskd(Config(version="0.23.2"), [Peer("alice", files=files, enqueue_delay=0.4, hold=True)])
    backend = SlskdBackend(running.url, Credentials(api_key=running.api_key), request_timeout=1.0)
    async with backend:
        ids = await backend.enqueue(RemoteFiles("alice", tuple(ALBUM)))
        names = sorted(t.name for t in await backend.transfers() if t.id in ids)
    assert names == ["01 - Song.mp3", "02 - Song.mp3"]


async def test_options_routes_by_version(start_slskd: Starter) -> None:
    old = await start_slskd(Config(version="0.24.3", remote_configuration=True))
    async with SlskdClient(old.url, username="slskd", password="slskd") as admin:
        await admin.options_yaml_update("soulseek:\n  description: old\n")
        with pytest.raises(PeerdeckNotSupportedError, match=r"0\.24\.4"):
            await admin.options_patch({"soulseek": {"description": "x"}})
    assert old.server.yaml == "soulseek:\n  description: old\n"
    assert ("POST", "/api/v0/options/yaml") in old.server.requests
    new = await start_slskd(Config(version="0.24.4", remote_configuration=True))
    async with SlskdClient(new.url, username="slskd", password="slskd") as admin:
        await admin.options_yaml_update("soulseek:\n  description: new\n")
    assert ("PUT", "/api/v0/options/yaml") in new.server.requests


async def test_telemetry_routes_by_version(start_slskd: Starter) -> None:
    early = await start_slskd(Config(version="0.24.1"))
    async with SlskdClient(early.url, api_key=early.api_key) as client:
        assert await client.telemetry_kpis() == {"downloads": 0, "uploads": 1}
        with pytest.raises(PeerdeckNotSupportedError, match="reports"):
            await client.telemetry_transfer_summary()
    assert ("GET", "/api/v0/telemetry/metrics/kpi") in early.server.requests
    before = await start_slskd(Config(version="0.23.2"))
    async with SlskdClient(before.url, api_key=before.api_key) as client:
        with pytest.raises(PeerdeckNotSupportedError, match="telemetry"):
            await client.telemetry_metrics()


async def test_directory_answer_is_one_object_before_0223(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.22.2"))
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        [directory] = await client.user_directory("alice", "@@music\\Artist\\Album")
    assert directory["fileCount"] == 2


async def test_a_name_with_a_slash_before_0242_is_refused_not_misrouted(start_slskd: Starter) -> None:
    running = await start_slskd(Config(version="0.24.1"))
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        with pytest.raises(PeerdeckNotSupportedError, match="'/'"):
            await client.transfers_enqueue("dj/slash man", [("Shared/Blue Song (remix).flac", 30_000_000)])
        with pytest.raises(PeerdeckNotSupportedError):
            await client.user_info("dj/slash man")
    assert not running.server.downloads


async def test_files_routes_take_base64_as_is(start_slskd: Starter) -> None:
    running = await start_slskd(Config(remote_file_management=True))
    running.server.files["downloads"]["Album>/x.flac"] = 5  # base64 of "Album>" holds a '+'
    async with SlskdClient(running.url, api_key=running.api_key) as client:
        listed = await client.files_downloads("Album>")
        assert [f["name"] for f in listed["files"]] == ["x.flac"]
        with pytest.raises(PeerdeckInputError, match="base64"):
            await client.files_downloads("Album?")  # its base64 holds a '/', which no route can carry


async def test_a_batch_destination_is_relative_and_external_ids_are_not_kept(slskd: Running) -> None:
    async with SlskdBackend(slskd.url, Credentials(api_key=slskd.api_key)) as backend:
        for bad in ("/music/albums", "C:\\music", "../outside"):
            with pytest.raises(PeerdeckInputError, match="relative folder"):
                await backend.enqueue(RemoteFiles("alice", (SONG,)), EnqueueOptions(save_path=bad))
        result = await backend.client.transfers_enqueue_batch("alice", [SONG], destination="Albums", external_id="x1")
    assert slskd.server.batches[str(result.batch_id)]["options"] == {"destination": "Albums"}
    headers = {"X-API-Key": slskd.api_key}
    body = {"username": "alice", "files": [{"filename": SONG[0], "size": SONG[1]}], "options": {"destination": "/x"}}
    url = f"{slskd.url}/api/v0/transfers/downloads/batches"
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as answer:
        assert answer.status == 400
