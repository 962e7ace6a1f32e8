"""The demo end to end: ``scripts/demo --headless`` brings up real daemons and a real Home Assistant.

Checks through Home Assistant's REST API that Peerdeck's entities carry real values and that an action
reaches the daemon, screenshots the dashboard with headless Chromium into ``docs/screenshot.png``,
then stops the demo with Ctrl-C (SIGINT) and checks no process is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from scripts.demo_support.browser import Browser
from scripts.demo_support.homeassistant import HomeAssistantApi, Login

ROOT = Path(__file__).resolve().parents[2]
# The demo runs on the stack these tests run on; today's stack (inside its forky root) makes the README's screenshot.
CURRENT_STACK = bool(os.environ.get("PEERDECK_IN_CURRENT_STACK"))
STACK = "current" if CURRENT_STACK else "floor"
READY_TIMEOUT = 300.0
STOP_TIMEOUT = 90.0

pytestmark = pytest.mark.daemon


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def _wait(predicate: Any, timeout: float, what: str, step: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(step)
    raise AssertionError(f"{what} within {timeout:.0f} s (last seen: {last!r})")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """The running demo's ready file; stopped with SIGINT afterwards, which must leave nothing behind."""
    ready, log = tmp_path / "ready.json", tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
            [
                str(ROOT / "scripts" / "demo"),
                "--stack",
                STACK,
                "--headless",
                "--ready-file",
                str(ready),
                "--exit-after",
                "900",
                "--workdir",
                str(tmp_path / "demo"),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    info: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready.exists():
            if process.poll() is not None:
                pytest.fail(f"the demo exited with {process.returncode} before it was ready:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the demo was not ready within {READY_TIMEOUT:.0f} s:\n{_tail(log)}")
            await asyncio.sleep(0.5)
        info = json.loads(ready.read_text())
        yield info
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        deadline = time.monotonic() + STOP_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a process
            await asyncio.sleep(0.5)
        assert process.returncode == 0, f"the demo did not stop cleanly:\n{_tail(log)}"
        pids = [info["pids"]["homeassistant"], *info["pids"]["daemons"]]
        assert not [pid for pid in pids if _alive(pid)], f"processes left behind:\n{_tail(log)}"
        assert "everything stopped" in log.read_text()
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        for pid in [info.get("pids", {}).get("homeassistant"), *info.get("pids", {}).get("daemons", [])]:
            if pid and _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


async def test_demo_end_to_end(demo: dict[str, Any], tmp_path: Path) -> None:
    """Entities with real values, an action that reaches qBittorrent, and a screenshot of the dashboard."""
    assert demo["url"].startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, demo["url"])
        api.token = demo["token"]
        qbt_entry, syncthing_entry = (entry["entry_id"] for entry in demo["entries"])

        (registry,) = await api.websocket({"type": "config/entity_registry/list"})
        ours = [e for e in registry if e["platform"] == "peerdeck" and not e["disabled_by"]]
        by_key = {
            (e["config_entry_id"], e["unique_id"].removeprefix(f"{e['config_entry_id']}_")): e["entity_id"]
            for e in ours
        }
        assert any(entry == syncthing_entry for entry, _ in by_key), "no Syncthing entities"

        async def states() -> dict[str, dict[str, Any]]:
            return {s["entity_id"]: s for s in await api.states()}

        # Real values from the real qBittorrent: 7 demo torrents, two finished ones seeding from disk,
        # one added paused, and bytes flowing from the seeder.
        total = by_key[(qbt_entry, "transfers_total")]
        now = await states()
        assert now[total]["state"] == str(len(demo["qbittorrent"]["hashes"]))
        assert now[by_key[(qbt_entry, "connection")]]["state"] in ("connected", "firewalled")
        for (entry, _), entity_id in by_key.items():
            if entry == syncthing_entry and entity_id.startswith("sensor."):
                assert now[entity_id]["state"] != "unavailable", entity_id
        download = by_key[(qbt_entry, "download_speed")]

        async def downloading() -> float:
            value = (await states())[download]["state"]
            return float(value) if value not in ("unknown", "unavailable") else 0.0

        await _wait(downloading, 90, "qBittorrent's download speed did not rise above 0")

        # An action through REST reaches the daemon: pause a waiting torrent, see it paused in Home
        # Assistant (response of get_transfers and the paused-transfers sensor), resume it.
        waiting = demo["qbittorrent"]["hashes"]["rare-bootleg.ogg"]
        paused_count = by_key[(qbt_entry, "transfers_paused")]
        before = int((await states())[paused_count]["state"])

        async def state_of(transfer_id: str) -> str | None:
            reply = await api.call_service_response("peerdeck", "get_transfers", {"config_entry_id": qbt_entry})
            transfers = reply["service_response"]["transfers"]
            return next((t["state"] for t in transfers if t["id"] == transfer_id), None)

        await api.call_service("peerdeck", "pause", {"config_entry_id": qbt_entry, "ids": [waiting]})

        async def paused() -> bool:
            return await state_of(waiting) == "paused" and int((await states())[paused_count]["state"]) == before + 1

        await _wait(paused, 45, "the paused torrent did not show as paused")
        await api.call_service("peerdeck", "resume", {"config_entry_id": qbt_entry, "ids": [waiting]})

        async def resumed() -> bool:
            return await state_of(waiting) not in ("paused", None)

        await _wait(resumed, 45, "the resumed torrent stayed paused")

        # The dashboard, as a logged-in user sees it.
        code = await api.login_code(Login())
        screenshot = ROOT / "docs" / "screenshot.png" if CURRENT_STACK else tmp_path / "screenshot.png"
        async with Browser() as browser:
            rendered = await browser.screenshot(
                session,
                api.frontend_login_url(code, demo["dashboard"].removeprefix(demo["url"])),
                screenshot,
                min_tiles=10,
            )
        assert "Download speed" in rendered["text"], rendered
        assert screenshot.stat().st_size > 20_000
