"""Transport failures and malformed answers, mocked with aioresponses (plus one real refused port)."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

from peerdeck import (
    Credentials,
    PeerdeckConnectionError,
    PeerdeckInvalidResponseError,
    PeerdeckNotSupportedError,
    PeerdeckServerError,
    PeerdeckTimeoutError,
)
from peerdeck.tribler import Backoff, TriblerBackend, TriblerClient

from .server import API_KEY

BASE = "http://127.0.0.1:8085"
ONE_TRY = Backoff(initial=0, max_attempts=1)


@pytest.fixture
async def client() -> AsyncIterator[TriblerClient]:
    async with TriblerClient(BASE, api_key=API_KEY, request_timeout=1.0) as tribler:
        yield tribler


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


async def test_timeout(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/downloads", exception=TimeoutError())
    with pytest.raises(PeerdeckTimeoutError, match="did not answer in time"):
        await client.downloads()


async def test_refused_on_a_closed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with TriblerClient(f"http://127.0.0.1:{port}", api_key=API_KEY) as client:
        with pytest.raises(PeerdeckConnectionError, match="cannot reach Tribler"):
            await client.events_info()


async def test_bad_json(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/events/info", body="{not json", content_type="application/json")
    with pytest.raises(PeerdeckInvalidResponseError, match="invalid JSON"):
        await client.events_info()


async def test_json_that_is_not_an_object(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/settings", payload=[1, 2])
    with pytest.raises(PeerdeckInvalidResponseError, match="no JSON object"):
        await client.settings()


@pytest.mark.parametrize("payload", [{"checkpoints": {}}, {"downloads": {}}])
async def test_downloads_without_a_list(mocked: aioresponses, client: TriblerClient, payload: object) -> None:
    mocked.get(f"{BASE}/api/downloads", payload=payload)
    with pytest.raises(PeerdeckInvalidResponseError, match="no downloads list"):
        await client.downloads()


async def test_settings_and_files_without_their_payload(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/settings", payload={"modified": True})
    mocked.get(f"{BASE}/api/downloads/{'a' * 40}/files", payload={"infohash": "a" * 40})
    with pytest.raises(PeerdeckInvalidResponseError, match="no settings"):
        await client.settings()
    with pytest.raises(PeerdeckInvalidResponseError, match="no files"):
        await client.files("a" * 40)


async def test_unhandled_500_shows_the_last_traceback_line(mocked: aioresponses, client: TriblerClient) -> None:
    traceback = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad infohash\n'
    mocked.get(f"{BASE}/api/settings", status=500, payload={"error": {"handled": False, "message": traceback}})
    with pytest.raises(PeerdeckServerError, match=r"answered 500 \(ValueError: bad infohash\)") as caught:
        await client.settings()
    assert caught.value.status == 500


async def test_502_from_a_proxy(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/statistics/tribler", status=502, body="<html>Bad Gateway</html>")
    with pytest.raises(PeerdeckServerError):
        await client.statistics_tribler()


async def test_add_that_did_not_start(mocked: aioresponses, client: TriblerClient) -> None:
    """With "ask download settings" on, Tribler may answer started=false without an info-hash."""
    mocked.put(f"{BASE}/api/downloads", payload={"started": False, "infohash": ""})
    with pytest.raises(PeerdeckInvalidResponseError, match="did not start"):
        await client.add_download("magnet:?xt=urn:btih:" + "a" * 40)


async def test_remote_search_without_uuid(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.put(re.compile(rf"{BASE}/api/search/remote\?.*"), payload={"peers": []})
    with pytest.raises(PeerdeckInvalidResponseError, match="request_uuid"):
        await client.remote_search("x")


async def test_html_404_probes_for_tribler_7(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/settings", status=404, body="<html>Not Found</html>")
    mocked.get(f"{BASE}/settings", status=404, body="<html>Not Found</html>")
    with pytest.raises(PeerdeckNotSupportedError, match="no such route"):
        await client.settings()


async def test_probe_failure_is_not_taken_for_tribler_7(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/settings", status=404, payload={"error": {"handled": True, "message": "Could not find"}})
    mocked.get(f"{BASE}/settings", exception=TimeoutError())
    with pytest.raises(PeerdeckNotSupportedError, match="no such route"):
        await client.settings()


async def test_event_stream_that_is_not_one(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/events", body="<html>login</html>", content_type="text/html")
    with pytest.raises(PeerdeckInvalidResponseError, match="not an event stream"):
        await anext(client.events(backoff=ONE_TRY))


async def test_event_stream_timeouts_give_up_after_max_attempts(mocked: aioresponses, client: TriblerClient) -> None:
    mocked.get(f"{BASE}/api/events", exception=TimeoutError(), repeat=True)
    with pytest.raises(PeerdeckConnectionError, match="failed 1 times"):
        await anext(client.events(backoff=ONE_TRY))


async def test_backend_events_surface_stream_errors(mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/api/events", status=500, payload={"error": {"handled": True, "message": "boom"}}, repeat=True)
    backend = TriblerBackend(BASE, Credentials(api_key=API_KEY), events_backoff=ONE_TRY)
    try:
        with pytest.raises(PeerdeckConnectionError, match="failed 1 times"):
            await anext(backend.events(interval=3600))
    finally:
        await backend.close()


async def test_search_fails_when_its_stream_cannot_open(mocked: aioresponses) -> None:
    mocked.get(f"{BASE}/api/events", status=500, payload={"error": {"handled": True, "message": "boom"}}, repeat=True)
    backend = TriblerBackend(BASE, Credentials(api_key=API_KEY), search_local=False, events_backoff=Backoff(initial=0))
    try:
        with pytest.raises(PeerdeckConnectionError, match="failed 3 times"):
            _ = [hit async for hit in backend.search("ubuntu", timeout=3600)]
    finally:
        await backend.close()
