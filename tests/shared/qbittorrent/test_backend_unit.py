"""qBittorrent's unified backend without a daemon: mapping, enqueue validation, search refusal."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aioresponses import aioresponses

from peerdeck import (
    ALL,
    Credentials,
    InvalidHashError,
    InvalidMagnetError,
    InvalidURLError,
    Magnet,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    RemoteFiles,
    SearchHit,
    TorrentFile,
    TorrentUrl,
    TransferState,
)
from peerdeck.qbittorrent import QBittorrentBackend, to_transfer
from peerdeck.qbittorrent.torrentfile import info_hash_v1

from ..samples import sample_json
from ..torrents import make_torrent

URL = "http://192.0.2.10:8080"
API = f"{URL}/api/v2"


@pytest.fixture
async def backend() -> AsyncIterator[QBittorrentBackend]:
    qbt = QBittorrentBackend(URL, Credentials("admin", "pw"))
    yield qbt
    await qbt.close()


def test_recorded_torrents_map_to_transfers() -> None:
    for record in sample_json("qbittorrent", "torrents_info"):
        transfer = to_transfer(record["hash"], record)
        assert transfer.name == record["name"]
        assert 0.0 <= transfer.progress <= 1.0
        assert transfer.size == record["size"]
        expected = {
            "pausedDL": TransferState.PAUSED,
            "pausedUP": TransferState.PAUSED,
            "stalledUP": TransferState.COMPLETED,
        }.get(record["state"], TransferState.ACTIVE)
        assert transfer.state is expected
        assert transfer.eta is None  # 8640000 means "infinite"
        assert transfer.added_at is not None


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("stoppedDL", TransferState.PAUSED),
        ("stoppedUP", TransferState.PAUSED),
        ("queuedDL", TransferState.QUEUED),
        ("downloading", TransferState.ACTIVE),
        ("metaDL", TransferState.ACTIVE),
        ("stalledDL", TransferState.ACTIVE),
        ("uploading", TransferState.COMPLETED),
        ("error", TransferState.FAILED),
        ("missingFiles", TransferState.FAILED),
    ],
)
def test_state_mapping_covers_4x_and_5x(state: str, expected: TransferState) -> None:
    assert to_transfer("a" * 40, {"state": state, "tags": "a, b"}).state is expected
    assert to_transfer("a" * 40, {"state": state, "tags": "a, b"}).tags == ("a", "b")


def test_info_hash_of_generated_torrent() -> None:
    content, expected = make_torrent("x.bin")
    assert info_hash_v1(content) == expected
    with pytest.raises(PeerdeckInputError):
        info_hash_v1(b"d4:infoi1")
    with pytest.raises(PeerdeckInputError):
        info_hash_v1(b"d3:fooi1ee")


async def test_enqueue_rejects_bad_input_before_any_request(backend: QBittorrentBackend) -> None:
    with aioresponses() as mocked:
        with pytest.raises(InvalidMagnetError):
            await backend.enqueue(Magnet("magnet:?dn=nothing"))
        with pytest.raises(InvalidURLError):
            await backend.enqueue(TorrentUrl("file:///etc/passwd"))
        with pytest.raises(PeerdeckInputError):
            await backend.enqueue(TorrentFile(b"not bencode"))
        with pytest.raises(PeerdeckInputError, match="no download link"):
            await backend.enqueue(SearchHit(id="1", title="x"))
        with pytest.raises(PeerdeckNotSupportedError):
            await backend.enqueue(RemoteFiles("user", (("a", 1),)))
        with pytest.raises(InvalidHashError):
            await backend.pause(["zz"])
        with pytest.raises(PeerdeckInputError):
            await backend.resume([])
        assert not mocked.requests


async def test_enqueue_magnet_returns_hash_also_for_base32(backend: QBittorrentBackend) -> None:
    hex_hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
    b32 = base64.b32encode(bytes.fromhex(hex_hash)).decode()
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": "SID=1"})
        mocked.get(f"{API}/app/webapiVersion", body="2.8.19")
        mocked.post(f"{API}/torrents/add", body="Ok.", content_type="text/plain", repeat=True)
        assert await backend.enqueue(Magnet(f"magnet:?xt=urn:btih:{hex_hash}&dn=x")) == [hex_hash]
        assert await backend.enqueue(Magnet(f"magnet:?xt=urn:btih:{b32}")) == [hex_hash]
        assert await backend.enqueue(TorrentUrl("https://example.org/a.torrent")) == []


async def test_search_without_plugins_is_not_supported(backend: QBittorrentBackend) -> None:
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": "SID=1"})
        mocked.get(f"{API}/search/plugins", payload=sample_json("qbittorrent", "search_plugins"))
        with pytest.raises(PeerdeckNotSupportedError, match="search plugin"):
            async for _hit in backend.search("debian"):
                pass
        # The refusal is detected from the plugin list: no search job was started.
        assert not [u for (m, u) in mocked.requests if u.path.endswith("search/start")]


async def test_search_streams_results_and_cleans_up(backend: QBittorrentBackend) -> None:
    result = {
        "fileName": "debian.iso",
        "fileUrl": "magnet:?xt=urn:btih:" + "a" * 40,
        "fileSize": 100,
        "nbSeeders": 5,
        "nbLeechers": 1,
        "siteUrl": "https://example.org",
        "descrLink": "https://example.org/1",
    }
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": "SID=1"})
        mocked.get(f"{API}/search/plugins", payload=[{"enabled": True, "name": "x"}])
        mocked.post(f"{API}/search/start", payload={"id": 3})
        mocked.get(
            f"{API}/search/results?id=3&limit=0&offset=0",
            payload={"status": "Running", "results": [result], "total": 1},
        )
        mocked.get(
            f"{API}/search/results?id=3&limit=0&offset=1",
            payload={"status": "Stopped", "results": [result], "total": 2},
        )
        mocked.post(f"{API}/search/stop", body="")
        mocked.post(f"{API}/search/delete", body="")
        hits = [hit async for hit in backend.search("debian", timeout=5)]
        assert [h.title for h in hits] == ["debian.iso", "debian.iso"]
        assert hits[0].seeders == 5 and hits[0].link and hits[0].link.startswith("magnet:")
        assert [u.path for (m, u) in mocked.requests if m == "POST"][-2:] == [
            "/api/v2/search/stop",
            "/api/v2/search/delete",
        ]


async def test_pause_all_sends_all(backend: QBittorrentBackend) -> None:
    with aioresponses() as mocked:
        mocked.post(f"{API}/auth/login", body="Ok.", headers={"Set-Cookie": "SID=1"})
        mocked.get(f"{API}/app/webapiVersion", body="2.8.19")
        mocked.post(f"{API}/torrents/pause", body="")
        await backend.pause(ALL)
        sent = next(v for (m, u), v in mocked.requests.items() if u.path.endswith("pause"))[0]
        assert sent.kwargs["data"] == {"hashes": "all"}
