"""The cheap tick's first reads go out together (one wait, one wake-up), with one login and typed errors."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import yarl
from aioresponses import CallbackResult, aioresponses

from peerdeck import Credentials, PeerdeckResponseError
from peerdeck.qbittorrent import QBittorrentBackend

URL = "http://192.0.2.10:8080"
API = f"{URL}/api/v2"
HASH = "c" * 40
LOG = re.compile(rf"^{re.escape(API)}/log/main\?.*$")
MAINDATA = re.compile(rf"^{re.escape(API)}/sync/maindata\?.*$")
ACTIVE = f"{API}/torrents/info?filter=active"
LOGIN = f"{API}/auth/login"
LINE = {"id": 3, "timestamp": 1000, "message": "started", "type": 1}


class InFlight:
    """Answers after a short wait, counting how many requests were waiting at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def answer(self, payload: Any, status: int = 200, *, after: float = 0.05) -> Any:
        async def callback(url: Any, **_: Any) -> CallbackResult:
            self.now += 1
            self.peak = max(self.peak, self.now)
            await asyncio.sleep(after)
            self.now -= 1
            return CallbackResult(status=status, payload=payload)

        return callback


async def started(mocked: aioresponses, credentials: Credentials, version: str) -> QBittorrentBackend:
    """A backend after its first (full) read of one seeding torrent."""
    backend = QBittorrentBackend(URL, credentials)
    mocked.post(LOGIN, body="Ok.", headers={"Set-Cookie": "SID=1"}, repeat=True)
    mocked.get(f"{API}/app/webapiVersion", body=version, repeat=True)
    mocked.get(LOG, payload=[LINE])
    seeding = {"name": "debian.iso", "state": "stalledUP", "progress": 1.0, "category": "tv"}
    mocked.get(MAINDATA, payload={"rid": 1, "full_update": True, "torrents": {HASH: seeding}})
    await backend.update()
    return backend


@pytest.mark.parametrize(("version", "reads"), [("2.8.19", 3), ("2.11.4", 4)])
async def test_the_reads_known_before_any_answer_wait_together(version: str, reads: int) -> None:
    """Rates, the log, the moving torrents (and 5.x's count) are waited for at once, not one after another."""
    with aioresponses() as mocked:
        backend = await started(mocked, Credentials(api_key="key"), version)
        flight = InFlight()
        mocked.get(f"{API}/transfer/info", callback=flight.answer({"dl_info_data": 1, "up_info_data": 1}))
        mocked.get(LOG, callback=flight.answer([LINE]))
        mocked.get(ACTIVE, callback=flight.answer([]))
        mocked.get(f"{API}/torrents/count", callback=flight.answer(1))
        update = await backend.update()
    await backend.close()
    assert flight.peak == reads
    assert update.transfers[HASH].category == "tv"
    assert backend.full_reads == 1, "nothing changed: no full read"


async def test_reads_sent_together_log_in_once_when_the_session_expired() -> None:
    """Each read meets the expired session (403), one later than the others: one new login, not one per read
    (a second login would also void the first's session, and qBittorrent bans after failed ones)."""
    with aioresponses() as mocked:
        backend = await started(mocked, Credentials("admin", "pw"), "2.8.19")
        flight = InFlight()
        mocked.get(f"{API}/transfer/info", callback=flight.answer("Forbidden", status=403, after=0.0))
        mocked.get(f"{API}/transfer/info", payload={"dl_info_data": 1, "up_info_data": 1})
        mocked.get(LOG, callback=flight.answer("Forbidden", status=403, after=0.05))
        mocked.get(LOG, payload=[LINE], repeat=True)
        mocked.get(ACTIVE, callback=flight.answer("Forbidden", status=403, after=0.1))
        mocked.get(ACTIVE, payload=[])
        mocked.get(MAINDATA, payload={"rid": 2, "full_update": False, "torrents": {}})
        await backend.update()
        logins = len(mocked.requests[("POST", yarl.URL(LOGIN))])
    await backend.close()
    assert flight.peak == 3, "the three reads were sent with the expired session"
    assert logins == 2, "the first login, then one for the expired session"


async def test_a_failing_read_cancels_the_others_and_raises_its_own_error() -> None:
    with aioresponses() as mocked:
        backend = await started(mocked, Credentials(api_key="key"), "2.8.19")
        slow = InFlight()
        mocked.get(f"{API}/transfer/info", status=500)
        mocked.get(LOG, callback=slow.answer([LINE]))
        mocked.get(ACTIVE, callback=slow.answer([]))
        with pytest.raises(PeerdeckResponseError) as raised:
            await backend.update()
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    await backend.close()
    assert raised.value.status == 500
    assert left == [], "no read left running against the daemon"
