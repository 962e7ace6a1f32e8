"""Syncthing inside a real Home Assistant: core's ``syncthing`` integration vs Peerdeck's, on one daemon, one run.

One real syncthing (A) with ``--folders`` idle folders (fs watcher on, hourly rescans), each
shared with a second real syncthing (B), and one real Home Assistant from its own venv
(``bench/requirements-syncthing-realha.txt``: the HA of the issue, plus ``aiosyncthing`` and
``deprecated`` for core's integration). Each integration reaches A through its own counting
proxy and is measured alone, one after the other in the same run:

1. its entry is added through the real config flow; after a warm-up, a window of ``--minutes``
   counts its requests by path and the CPU of syncthing and of Home Assistant (``/proc``);
2. a file is written into one folder and a rescan requested (straight to A, not counted); the
   time until one of the integration's entities changes (state or attributes, as a websocket
   ``state_changed`` subscriber sees it), and until the folder's file count shows the new file
   (core: its folder sensor's ``global_files`` attribute; Peerdeck: the Global files sensor),
   are measured;
3. its entry is removed.

    python bench/syncthing_realha.py --folders 20 --minutes 5.5
    python bench/syncthing_realha.py --folders 200 --minutes 5.5

A window longer than five minutes holds one of Peerdeck's backstop refreshes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.realha import (  # noqa: E402
    DEFAULT_VENV,
    CountingProxy,
    CpuWindow,
    RealHomeAssistant,
    bench_venv,
    counting_proxy,
    worker_pid,
)
from tests.shared.syncthing.syncthing_daemons import SyncthingDaemon, free_port  # noqa: E402

REQUIREMENTS = REPO / "bench" / "requirements-syncthing-realha.txt"
WARMUP = 60.0
CHANGE_TIMEOUT = 180.0
RESCAN_S = 3600


@dataclass
class Result:
    """What one integration cost over the window, and how fast it showed a change."""

    name: str
    requests: Mapping[str, int]
    minutes: float
    syncthing_cpu: float
    hass_cpu: float
    entities: int
    change_after: float | None
    count_after: float | None

    def per_minute(self) -> float:
        return sum(self.requests.values()) / self.minutes


def make_daemons(base: Path, folders: int) -> tuple[SyncthingDaemon, SyncthingDaemon, list[Path]]:
    """A and B sharing ``folders`` folders (A's paths returned), not started."""
    a = SyncthingDaemon(base / "a", "A")
    b = SyncthingDaemon(base / "b", "B")
    a.generate()
    b.generate()
    a.add_peer(b)
    b.add_peer(a)
    paths = []
    for number in range(folders):
        folder_id = f"folder{number:03d}"
        path = base / "data-a" / folder_id
        a.add_folder(folder_id, path, [b], rescan_s=RESCAN_S)
        b.add_folder(folder_id, base / "data-b" / folder_id, [a], rescan_s=RESCAN_S)
        (path / "seed.txt").write_text(f"{folder_id}\n")
        paths.append(path)
    return a, b, paths


async def integration_entities(hass: RealHomeAssistant, platform: str) -> set[str]:
    [entries] = await hass.api.websocket({"type": "config/entity_registry/list"})
    return {e["entity_id"] for e in entries if e["platform"] == platform and not e.get("disabled_by")}


def file_count(state: Mapping[str, Any]) -> Any:
    """The folder file count an entity shows: core's folder sensor attribute, or Peerdeck's sensor state."""
    if str(state.get("entity_id", "")).endswith("_global_files"):
        return state.get("state")
    return (state.get("attributes") or {}).get("global_files")


async def changes(hass: RealHomeAssistant, entity_ids: set[str], started: asyncio.Event) -> tuple[float, float]:
    """Seconds from ``started`` until one of ``entity_ids`` changes, and until a folder's file count does."""
    first: float | None = None
    async with hass.session.ws_connect(f"{hass.api.url}/api/websocket") as ws:
        await ws.receive_json(timeout=10)
        await ws.send_json({"type": "auth", "access_token": hass.api.token})
        await ws.receive_json(timeout=10)
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        await ws.receive_json(timeout=10)
        await started.wait()
        begun = time.monotonic()
        while True:
            message = await ws.receive_json(timeout=CHANGE_TIMEOUT)
            data = message.get("event", {}).get("data", {})
            old, new = data.get("old_state") or {}, data.get("new_state") or {}
            if data.get("entity_id") not in entity_ids:
                continue
            if first is None and (old.get("state"), old.get("attributes")) != (new.get("state"), new.get("attributes")):
                first = time.monotonic() - begun
            if file_count(new) is not None and file_count(old) != file_count(new):
                return first if first is not None else time.monotonic() - begun, time.monotonic() - begun


async def measure(
    name: str,
    platform: str,
    hass: RealHomeAssistant,
    proxy: CountingProxy,
    daemon: SyncthingDaemon,
    folder: Path,
    answers: tuple[Mapping[str, Any], ...],
    minutes: float,
) -> Result:
    entry = await hass.add_entry(platform, *answers)
    await asyncio.sleep(WARMUP)
    entities = await integration_entities(hass, platform)
    before = proxy.counts.copy()
    assert daemon.process is not None
    # The server process (syncthing 1.19 runs it as the child of a monitor process), not the monitor.
    window = CpuWindow({"syncthing": worker_pid(daemon.process.pid), "hass": hass.pid})
    window.begin()
    await asyncio.sleep(minutes * 60)
    window.end()
    spent = proxy.counts.since(before)
    started = asyncio.Event()
    watcher = asyncio.create_task(changes(hass, entities, started))
    await asyncio.sleep(1)
    (folder / f"new-{platform}.txt").write_text("a change\n")
    async with aiohttp.ClientSession() as session:
        started.set()
        await session.post(
            f"{daemon.url}/rest/db/scan", params={"folder": folder.name}, headers={"X-API-Key": daemon.api_key}
        )
    change_after: float | None = None
    count_after: float | None = None
    with contextlib.suppress(TimeoutError):
        change_after, count_after = await asyncio.wait_for(watcher, CHANGE_TIMEOUT)
    await hass.remove_entry(entry["entry_id"])
    return Result(
        name,
        dict(spent.requests),
        window.wall / 60,
        window.per_minute("syncthing"),
        window.per_minute("hass"),
        len(entities),
        change_after,
        count_after,
    )


def report(results: list[Result], folders: int) -> None:
    print(f"\nSyncthing {folders} idle folders, each integration alone in one real Home Assistant")
    print(
        f"{'':12}{'req/min':>9}{'syncthing CPU ms/min':>22}{'HA CPU ms/min':>15}{'entities':>10}"
        f"{'any change':>12}{'file count':>12}"
    )

    def seconds(value: float | None) -> str:
        return f"{value:.2f} s" if value is not None else f"> {CHANGE_TIMEOUT:.0f} s"

    for r in results:
        print(
            f"{r.name:12}{r.per_minute():9.2f}{r.syncthing_cpu * 1000:22.0f}{r.hass_cpu * 1000:15.0f}"
            f"{r.entities:10}{seconds(r.change_after):>12}{seconds(r.count_after):>12}"
        )
    for r in results:
        paths = ", ".join(f"{path} {count / r.minutes:.2f}" for path, count in sorted(r.requests.items()))
        print(f"  {r.name} per minute: {paths}")
    print(json.dumps([r.__dict__ for r in results]))


async def run(args: argparse.Namespace) -> None:
    python = bench_venv(args.python, [REQUIREMENTS], [REPO / "shared"], path=args.venv)
    with tempfile.TemporaryDirectory(prefix="peerdeck-st-realha-") as tmp:
        base = Path(tmp)
        a, b, paths = make_daemons(base, args.folders)
        try:
            a.start()
            b.start()
            async with (
                aiohttp.ClientSession() as session,
                counting_proxy(a.url) as core_proxy,
                counting_proxy(a.url) as peerdeck_proxy,
            ):
                hass = RealHomeAssistant(python, base / "ha", free_port(), session)
                (base / "downloads").mkdir()
                await hass.start(base / "downloads")
                finished = False
                try:
                    core = await measure(
                        "core",
                        "syncthing",
                        hass,
                        core_proxy,
                        a,
                        paths[0],
                        ({"url": core_proxy.url, "token": a.api_key, "verify_ssl": False},),
                        args.minutes,
                    )
                    peerdeck = await measure(
                        "Peerdeck",
                        "peerdeck",
                        hass,
                        peerdeck_proxy,
                        a,
                        paths[1],
                        (
                            {"kind": "syncthing"},
                            {
                                "url": peerdeck_proxy.url,
                                "api_key": a.api_key,
                                "advanced": {"verify_ssl": True, "timeout": 10},
                            },
                        ),
                        args.minutes,
                    )
                    finished = True
                finally:
                    hass.stop()
                    if not finished:
                        print(f"Home Assistant's logs kept in {hass.keep_logs()}")
            report([core, peerdeck], args.folders)
        finally:
            a.stop()
            b.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folders", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.5, help="length of each idle window")
    parser.add_argument("--python", default=os.environ.get("PEERDECK_BENCH_PYTHON", sys.executable))
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV.with_name("bench-venv-syncthing"))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
