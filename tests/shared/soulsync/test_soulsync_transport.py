"""Transport failures and malformed answers, with aioresponses (no server involved)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses

from peerdeck.exceptions import (
    PeerdeckConnectionError,
    PeerdeckInvalidResponseError,
    PeerdeckNotSupportedError,
    PeerdeckRateLimitedError,
    PeerdeckResponseError,
    PeerdeckServerError,
    PeerdeckTimeoutError,
)
from peerdeck.soulsync import RateLimiter, SoulSyncClient

BASE = "http://soulsync.test:8008"
STATUS = re.compile(rf"^{re.escape(BASE)}/api/v1/system/status.*$")


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[SoulSyncClient]:
    async with SoulSyncClient(BASE, api_key="sk_test", rate_limiter=RateLimiter(1000)) as c:
        yield c


def ok(data: object) -> dict[str, object]:
    return {"success": True, "data": data, "error": None, "pagination": None}


async def test_timeout(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, exception=TimeoutError())
    with pytest.raises(PeerdeckTimeoutError, match="did not answer in time"):
        await client.system_status()


async def test_connection_refused(mocked: aioresponses, client: SoulSyncClient) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("soulsync.test", 8008, False, True, None, None, None),
        ConnectionRefusedError(111, "Connection refused"),
    )
    mocked.get(STATUS, exception=refused)
    with pytest.raises(PeerdeckConnectionError, match="cannot reach SoulSync") as err:
        await client.system_status()
    assert not isinstance(err.value, PeerdeckTimeoutError)


async def test_bad_json(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, body="{not json", content_type="application/json")
    with pytest.raises(PeerdeckInvalidResponseError, match="invalid JSON"):
        await client.system_status()


async def test_proxy_5xx_without_envelope(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, status=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html")
    with pytest.raises(PeerdeckServerError) as err:
        await client.system_status()
    assert (err.value.status, err.value.code) == (502, None)


async def test_envelope_5xx_keeps_the_code(mocked: aioresponses, client: SoulSyncClient) -> None:
    body = {"success": False, "data": None, "error": {"code": "SYSTEM_ERROR", "message": "db locked"}}
    mocked.get(STATUS, status=500, payload=body)
    with pytest.raises(PeerdeckServerError, match="db locked") as err:
        await client.system_status()
    assert err.value.code == "SYSTEM_ERROR"


async def test_html_429_from_a_proxy_is_still_rate_limited(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, status=429, body="<html>slow down</html>", content_type="text/html")
    with pytest.raises(PeerdeckRateLimitedError) as err:
        await client.system_status()
    assert err.value.retry_after == 60.0


async def test_a_retry_after_header_wins(mocked: aioresponses, client: SoulSyncClient) -> None:
    body = {"success": False, "data": None, "error": {"code": "RATE_LIMITED", "message": "Too many requests."}}
    mocked.get(STATUS, status=429, payload=body, headers={"Retry-After": "5"})
    with pytest.raises(PeerdeckRateLimitedError) as err:
        await client.system_status()
    assert err.value.retry_after == 5.0


async def test_answer_without_envelope(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, payload={"uptime": "1h"})
    with pytest.raises(PeerdeckInvalidResponseError, match="envelope"):
        await client.system_status()


async def test_success_false_with_200(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, payload={"success": False, "data": None, "error": {"code": "ODD", "message": "odd"}})
    with pytest.raises(PeerdeckResponseError) as err:
        await client.system_status()
    assert (err.value.status, err.value.code) == (200, "ODD")


async def test_data_of_the_wrong_shape(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, payload=ok(["not", "an", "object"]))
    with pytest.raises(PeerdeckInvalidResponseError, match="object was expected"):
        await client.system_status()
    mocked.get(re.compile(rf"^{re.escape(BASE)}/api/v1/downloads.*$"), payload=ok({"downloads": "many"}))
    with pytest.raises(PeerdeckInvalidResponseError, match="'downloads' is not a list"):
        await client.downloads()


async def test_new_key_without_key(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.post(f"{BASE}/api/v1/api-keys", payload=ok({"id": "x"}), status=201)
    with pytest.raises(PeerdeckInvalidResponseError, match="new API key"):
        await client.create_api_key("bot")


async def test_key_never_appears_in_errors(mocked: aioresponses) -> None:
    async with SoulSyncClient(BASE, api_key="sk_secret", key_in_query=True, rate_limiter=RateLimiter(10)) as client:
        mocked.get(STATUS, status=503, body="down", content_type="text/plain")
        with pytest.raises(PeerdeckServerError) as err:
            await client.system_status()
    assert "sk_secret" not in str(err.value)


async def test_json_404_that_is_not_an_envelope(mocked: aioresponses, client: SoulSyncClient) -> None:
    mocked.get(STATUS, status=404, payload={"detail": "gone"})
    with pytest.raises(PeerdeckNotSupportedError, match="no such route"):
        await client.system_status()
