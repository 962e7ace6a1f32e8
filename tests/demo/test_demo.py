"""The demo end to end: ``scripts/demo --headless`` brings up real daemons and a real Home Assistant.

Checks through Home Assistant's REST API that Peerdeck's entities carry real values and that an action
reaches the daemon; then, in headless Chromium, that the dashboard's Peerdeck card shows the real
torrents with their progress, that its sparkline moves, that its pause and resume buttons act on
qBittorrent itself and that no tile name is cut off; screenshots (light and dark) go into ``docs/``.
Then it stops the demo with Ctrl-C (SIGINT) and checks no process is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.peerdeck.websocket import QBITTORRENT_STATUS
from peerdeck.qbittorrent import QBittorrentClient
from scripts.demo_support.browser import (
    Browser,
    Page,
    card_box,
    card_state,
    click_row_button,
    in_card,
    tile_texts,
    wait_for_dashboard,
)
from scripts.demo_support.homeassistant import HomeAssistantApi, Login
from tests.shared.qbittorrent.daemon import PASSWORD, USERNAME

ROOT = Path(__file__).resolve().parents[2]
# The demo runs on the stack these tests run on; only today's stack (inside its forky root) writes the README's
# screenshots into docs/.
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


async def _wait(
    predicate: Any, timeout: float, what: str, step: float = 1.0, explain: Callable[[], str] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(step)
    raise AssertionError(f"{what} within {timeout:.0f} s (last seen: {explain() if explain else repr(last)})")


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
        observed: dict[str, Any] = {}

        async def paused_shown() -> int:
            return int((await states())[paused_count]["state"])

        # First the sensor agrees with qBittorrent (a torrent added stopped reads its resume data for a moment
        # before it turns paused, silently; Peerdeck sees that within a refresh).
        async with QBittorrentClient(demo["qbittorrent"]["url"], username=USERNAME, password=PASSWORD) as qbt:

            async def sensor_agrees() -> bool:
                records = await qbt.torrents_info()
                observed["daemon"] = sum(str(r["state"]).startswith(("paused", "stopped")) for r in records)
                observed["sensor"] = await paused_shown()
                return bool(observed["daemon"] == observed["sensor"])

            await _wait(
                sensor_agrees, 30, "the paused count did not agree with qBittorrent", explain=lambda: str(observed)
            )
        before = observed["sensor"]

        async def state_of(transfer_id: str) -> str | None:
            reply = await api.call_service_response("peerdeck", "get_transfers", {"config_entry_id": qbt_entry})
            transfers = reply["service_response"]["transfers"]
            return next((t["state"] for t in transfers if t["id"] == transfer_id), None)

        await api.call_service("peerdeck", "pause", {"config_entry_id": qbt_entry, "ids": [waiting]})

        async def paused() -> bool:
            observed["answer"], observed["sensor"] = await state_of(waiting), await paused_shown()
            return bool((observed["answer"], observed["sensor"]) == ("paused", before + 1))

        await _wait(paused, 45, "the paused torrent did not show as paused", explain=lambda: f"{observed}, {before=}")
        await api.call_service("peerdeck", "resume", {"config_entry_id": qbt_entry, "ids": [waiting]})

        async def resumed() -> bool:
            return await state_of(waiting) not in ("paused", None)

        await _wait(resumed, 45, "the resumed torrent stayed paused")

        # The dashboard, as a logged-in user sees it: led by Peerdeck's card, fed live by the integration.
        shots = ROOT / "docs" if CURRENT_STACK else tmp_path
        screenshot, screenshot_dark = shots / "screenshot.png", shots / "screenshot-dark.png"
        card_shot, card_shot_dark = shots / "card.png", shots / "card-dark.png"
        reply = await api.call_service_response("peerdeck", "get_transfers", {"config_entry_id": qbt_entry})
        progress = {t["name"]: t["progress"] for t in reply["service_response"]["transfers"]}
        path = demo["dashboard"].removeprefix(demo["url"])
        async with Browser() as browser:
            async with browser.page(session, width=1440, height=1400) as page:
                await page.open(api.frontend_login_url(await api.login_code(Login()), path))
                rendered = await wait_for_dashboard(page, min_tiles=10)
                assert "Download speed" in rendered["text"], rendered

                async def card_rows() -> dict[str, Any] | None:
                    state = await card_state(page)
                    names = {row["name"] for row in (state or {}).get("rows", [])}
                    return state if state and set(progress) <= names else None

                card = await _wait(card_rows, 60, "the card did not show every qBittorrent torrent")
                shown = {row["name"]: row for row in card["rows"]}
                for name, fraction in progress.items():  # real names, real progress (active ones move on)
                    assert abs(int(shown[name]["percent"].rstrip("%")) - round(fraction * 100)) <= 10, (name, card)
                assert shown["holiday-photos-2026.tar"]["percent"] == "100%"
                assert shown["rare-bootleg.ogg"]["percent"] == "0%"
                assert shown["lecture-recordings.zip"]["toggle"] == "resume"

                # A new user adds the card from the card picker: it is listed there, and its visual editor
                # renders Home Assistant's own form (entry picker, columns, states, sort, …) with no YAML.
                picker = await page.evaluate(EDITOR_CHECK)
                assert picker == {"listed": True, "fields": 7}, picker

                texts = await tile_texts(page)
                assert len(texts["names"]) >= 10, texts
                assert not set(texts["names"]) & set(texts["cut"]), f"tile names cut off: {texts}"

                # The sparkline moves while the seeder serves: new samples, and rates above zero among them.
                before = card["down"]

                async def moved() -> bool:
                    now = await card_state(page)
                    if not now or now["down"] == before:
                        return False
                    heights = [float(point.split(",")[1]) for line in ("down", "up") for point in now[line].split()]
                    return min(heights, default=98.0) < 98.0  # 98 is a rate of zero

                await _wait(moved, 60, "the sparkline did not move", step=2.0)
                await page.screenshot(screenshot)
                await page.screenshot(card_shot, clip=await card_box(page))

                # Clicking a row's pause pauses that torrent in qBittorrent itself; resume brings it back.
                async with QBittorrentClient(demo["qbittorrent"]["url"], username=USERNAME, password=PASSWORD) as qbt:

                    async def daemon_paused() -> bool | None:
                        (torrent,) = await qbt.torrents_info(hashes=[waiting])
                        return str(torrent["state"]).startswith(("paused", "stopped"))  # 4.x / 5.x names

                    async def shows(action: str) -> bool:
                        now = await card_state(page)
                        rows = {row["name"]: row for row in (now or {}).get("rows", [])}
                        return rows.get("rare-bootleg.ogg", {}).get("toggle") == action

                    # The card tells the state qBittorrent tells (a torrent with no peer is "stalled", not "active").
                    (waiting_torrent,) = await qbt.torrents_info(hashes=[waiting])
                    now_shown = {row["name"]: row for row in ((await card_state(page)) or {}).get("rows", [])}
                    expected_status = QBITTORRENT_STATUS[str(waiting_torrent["state"])]
                    assert now_shown["rare-bootleg.ogg"]["state"] == expected_status, (waiting_torrent, now_shown)
                    # The row shows "Pausing…" at once, then the paused state the daemon reports, read back by the
                    # action itself (not by the next 10-s refresh); a watcher in the page notes when each showed.
                    await in_card(page, TRACE_ROW.replace("NAME", json.dumps("rare-bootleg.ogg")))
                    clicked = time.monotonic()
                    await click_row_button(page, "rare-bootleg.ogg", "pause")
                    await _wait(daemon_paused, 45, "clicking pause did not pause the torrent in qBittorrent", step=0.05)
                    daemon_ms = (time.monotonic() - clicked) * 1000
                    await _wait(lambda: shows("resume"), 45, "the card did not show the torrent paused")
                    trace = await in_card(page, "return { click: window.__clickAt, trace: window.__trace };")
                    seen = [state for _, state in trace["trace"]]
                    assert any(state.startswith("pause|") for state in seen), trace  # pending, before …
                    confirmed_at = next(at for at, state in trace["trace"] if state.endswith("|paused"))
                    pending_at = next(at for at, state in trace["trace"] if state.startswith("pause|"))
                    assert trace["click"] <= pending_at < confirmed_at, trace  # … the confirmed state
                    print(
                        f"card: pending {pending_at - trace['click']:.0f} ms, "
                        f"confirmed {confirmed_at - trace['click']:.0f} ms after the click; "
                        f"qBittorrent's API showed it paused {daemon_ms:.0f} ms after the click"
                    )
                    await click_row_button(page, "rare-bootleg.ogg", "resume")

                    async def daemon_resumed() -> bool:
                        return not await daemon_paused()

                    await _wait(daemon_resumed, 45, "clicking resume did not resume the torrent in qBittorrent")

                    # A row's details, from what Peerdeck read from qBittorrent: where it is saved, ratio, peers.
                    details = await in_card(page, DETAILS.replace("NAME", json.dumps("linux-distro.iso")))
                    assert details["title"] == "linux-distro.iso", details
                    for label in ("StateSeeding", "Saved in", "Share ratio", "Seeds (in swarm)", "Added"):
                        assert label in details["text"], details

                    # Add by magnet from the card's own field, see it in the list and in qBittorrent, delete it.
                    new_hash, new_name = secrets.token_hex(20), "peerdeck-added-by-the-card"
                    await in_card(
                        page, "root.querySelector('.open-add').click(); root.querySelector('.add-link').focus();"
                    )
                    await page.send("Input.insertText", text=f"magnet:?xt=urn:btih:{new_hash}&dn={new_name}")
                    await in_card(page, "root.querySelector('.add-panel').requestSubmit();")

                    async def in_qbittorrent() -> bool:
                        return bool(await qbt.torrents_info(hashes=[new_hash]))

                    await _wait(in_qbittorrent, 45, "the magnet added in the card did not reach qBittorrent")
                    await _wait(lambda: card_has(page, new_name), 45, "the added torrent did not show in the card")
                    await click_row_button(page, new_name, "delete")
                    await in_card(page, "root.querySelector('dialog.confirm-delete .confirm').click();")

                    async def gone_from_qbittorrent() -> bool:
                        return not await qbt.torrents_info(hashes=[new_hash])

                    await _wait(gone_from_qbittorrent, 45, "deleting in the card did not remove the torrent")
                    # Under the mouse the row stays, struck through, until the pointer leaves the list.
                    await page.send("Input.dispatchMouseEvent", type="mouseMoved", x=2, y=2)
                    await _wait(lambda: card_lacks(page, new_name), 45, "the deleted torrent stayed in the card")

                # Search from the card (Syncthing's file names: the demo's qBittorrent has no search plugin), see
                # the real hits stream in, and add one with a click.
                hits = await in_card(page, SEARCH.replace("ENTRY", json.dumps(syncthing_entry)))
                assert hits["titles"] and all("IMG_" in title for title in hits["titles"]), hits
                added = await in_card(page, ADD_FIRST_HIT)
                assert added in ("Added; it is selected in the list", "Sent to the daemon"), added
            async with browser.page(session, width=1440, height=1400, dark=True) as page:
                await page.open(api.frontend_login_url(await api.login_code(Login()), path))
                await wait_for_dashboard(page, min_tiles=10)
                await _wait(card_rows_in(page), 60, "the card did not render in dark mode")
                await asyncio.sleep(3)  # icons and values
                await page.screenshot(screenshot_dark)
                await page.screenshot(card_shot_dark, clip=await card_box(page))
        for shot in (screenshot, screenshot_dark, card_shot, card_shot_dark):
            assert shot.stat().st_size > 20_000, shot

    # Home Assistant's log names Peerdeck in no warning or error (deprecations it reports included), beyond the
    # notice it prints for every custom integration.
    log = (tmp_path / "demo" / "homeassistant" / "home-assistant.log").read_text(errors="replace")
    complaints = [
        line
        for line in log.splitlines()
        if "peerdeck" in line.lower()
        and (" WARNING " in line or " ERROR " in line or " CRITICAL " in line)
        and "which has not been tested by Home Assistant" not in line
    ]
    assert not complaints, "\n".join(complaints)


EDITOR_CHECK = """
(async () => {
  const listed = (window.customCards || []).some((card) => card.type === 'peerdeck-transfers-card');
  const Card = customElements.get('peerdeck-transfers-card');
  const editor = await Card.getConfigElement();
  editor.setConfig({ type: 'custom:peerdeck-transfers-card' });
  editor.hass = document.querySelector('home-assistant').hass;
  document.body.append(editor);
  let fields = 0;
  for (let tries = 0; tries < 100 && fields < 7; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const form = editor.querySelector('ha-form');
    fields = form && form.shadowRoot ? form.shadowRoot.querySelectorAll('ha-form-string, ha-selector').length : 0;
  }
  editor.remove();
  return { listed, fields };
})()
"""


# Note, every frame for 15 s, the named row's pending action and state ("pause|stalled"), and when the click came.
TRACE_ROW = """
  window.__trace = [];
  let last = "";
  const started = performance.now();
  const clicked = () => { window.__clickAt = performance.now(); };
  document.addEventListener("pointerdown", clicked, { capture: true, once: true });
  const tick = () => {
    const row = [...root.querySelectorAll(".row")]
      .find((el) => !el.hidden && el.querySelector(".name").textContent === NAME);
    const now = row ? `${row.dataset.pending || ""}|${row.dataset.state}` : "none";
    if (now !== last) { window.__trace.push([performance.now(), now]); last = now; }
    if (performance.now() - started < 15000) requestAnimationFrame(tick);
  };
  tick();
"""

DETAILS = """
  const row = [...root.querySelectorAll(".row")]
    .find((el) => !el.hidden && el.querySelector(".name").textContent === NAME);
  row.querySelector(".main").click();
  const dialog = root.querySelector("dialog.details");
  for (let n = 0; n < 100 && !/Seeds/.test(dialog.textContent); n += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const found = { title: dialog.querySelector("h2").textContent, text: dialog.querySelector("dl").textContent };
  dialog.close();
  return found;
"""

SEARCH = """
  root.querySelector(".open-search").click();
  const select = root.querySelector(".search-entry");
  select.value = ENTRY;
  root.querySelector(".search-query").value = "IMG";
  root.querySelector(".search-panel").requestSubmit();
  const result = root.querySelector(".search-panel .result");
  for (let n = 0; n < 600 && !/results from/.test(result.textContent); n += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const titles = [...root.querySelectorAll(".hits .hit-title")].map((el) => el.textContent);
  return { result: result.textContent, titles };
"""

ADD_FIRST_HIT = """
  root.querySelector(".hits li button").click();
  const result = root.querySelector(".search-panel .result");
  for (let n = 0; n < 300 && /Adding/.test(result.textContent); n += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return result.textContent;
"""


async def card_has(page: Page, name: str) -> bool:
    """Whether the card has a row named ``name`` (in view or not)."""
    return bool(await in_card(page, f"return [...card._rows.values()].some((row) => row.name === {json.dumps(name)});"))


async def card_lacks(page: Page, name: str) -> bool:
    return not await card_has(page, name)


def card_rows_in(page: Page) -> Any:
    """A check for :func:`_wait`: the card shows rows."""

    async def rows() -> bool:
        state = await card_state(page)
        return bool(state and state["rows"])

    return rows
