"""Requests per minute against one real syncthing with 20 idle folders: Peerdeck vs HA core's pattern.

Both clients run side by side for the same window, each through its own counting reverse
proxy on 127.0.0.1, so the figures come from one run:

* (a) Peerdeck's event-driven ``SyncthingBackend`` (``update()`` every 10 s, as a coordinator would);
* (b) Home Assistant core's syncthing integration pattern: ``db/status`` of every folder every
  120 s, plus ``/rest/events?since=<id>`` long polls with no ``events``/``timeout`` arguments.

After the window, a file is written in one folder and rescanned, and the time until each
client shows the change is measured the same way for both: both are read every 5 ms until the
folder's file count they hold differs from the count before the write (Peerdeck: its folder
job's ``global_items``; HA: ``globalFiles`` from the last FolderSummary or ``db/status`` it read,
which is what its folder sensor shows).

    .venv/bin/python bench/syncthing_bench.py --minutes 4
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "shared" / "src"))

from peerdeck import Credentials  # noqa: E402
from peerdeck.syncthing import SyncthingBackend, SyncthingClient  # noqa: E402
from tests.shared.syncthing.syncthing_daemons import SyncthingDaemon, free_port  # noqa: E402

FOLDERS = 20
HA_STATUS_INTERVAL = 120.0
WARMUP = 5.0


class CountingProxy:
    """A reverse proxy on loopback that counts requests by path while ``counting`` is on."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.counts: Counter[str] = Counter()
        self.startup: Counter[str] = Counter()
        self.counting = False
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        (self.counts if self.counting else self.startup)[request.path] += 1
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("x-api-key", "content-type")}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=await request.read()
        ) as upstream:
            body = await upstream.read()
            return web.Response(status=upstream.status, body=body, content_type=upstream.content_type)


async def ha_pattern(url: str, key: str, folders: list[str], files: dict[str, int]) -> None:
    """HA core's syncthing integration: db/status per folder every 120 s, unfiltered event long polls.

    ``files`` is kept at each folder's file count as HA's folder sensor would show it.
    """
    headers = {"X-API-Key": key}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=None)) as session:

        async def statuses() -> None:
            while True:
                for folder in folders:
                    async with session.get(f"{url}/rest/db/status", params={"folder": folder}) as reply:
                        files[folder] = int((await reply.json())["globalFiles"])
                await asyncio.sleep(HA_STATUS_INTERVAL)

        async def events() -> None:
            since = 0
            while True:
                async with session.get(f"{url}/rest/events", params={"since": since}) as reply:
                    batch = await reply.json()
                for event in batch:
                    since = max(since, int(event["id"]))
                    if event["type"] == "FolderSummary":
                        files[event["data"]["folder"]] = int(event["data"]["summary"]["globalFiles"])

        await asyncio.gather(statuses(), events())


def make_daemon(base: Path) -> SyncthingDaemon:
    daemon = SyncthingDaemon(base / "home", "bench")
    peer = SyncthingDaemon(base / "peer", "peer")  # only its identity: it never runs
    daemon.generate()
    peer.generate()
    daemon.add_peer(peer)
    for index in range(FOLDERS):
        daemon.add_folder(f"folder-{index:02d}", base / f"data-{index:02d}", [peer], rescan_s=3600)
    return daemon


async def run(minutes: float) -> None:
    with tempfile.TemporaryDirectory(prefix="peerdeck-st-bench-") as tmp:
        base = Path(tmp)
        daemon = make_daemon(base)
        daemon.start()
        ours, theirs = CountingProxy(daemon.url), CountingProxy(daemon.url)
        await ours.start()
        await theirs.start()
        folders = [f"folder-{i:02d}" for i in range(FOLDERS)]
        ha_files: dict[str, int] = {}
        backend = SyncthingBackend(ours.url, Credentials(api_key=daemon.api_key))
        try:
            ha_task = asyncio.create_task(ha_pattern(theirs.url, daemon.api_key, folders, ha_files))
            await backend.update()

            async def coordinator() -> None:
                while True:
                    await backend.update()
                    await asyncio.sleep(10)

            coord_task = asyncio.create_task(coordinator())
            await asyncio.sleep(WARMUP)
            ours.counting = theirs.counting = True
            window = minutes * 60
            print(f"syncthing {daemon.url}: {FOLDERS} idle folders; counting for {window:.0f} s …", flush=True)
            await asyncio.sleep(window)
            ours.counting = theirs.counting = False
            ours_latency, ha_latency = await change_latency(backend, daemon, base, ha_files)
            coord_task.cancel()
            ha_task.cancel()
            report(ours, theirs, window, ours_latency, ha_latency)
        finally:
            await backend.close()
            await ours.stop()
            await theirs.stop()
            daemon.stop()


async def change_latency(
    backend: SyncthingBackend, daemon: SyncthingDaemon, base: Path, ha_files: dict[str, int]
) -> tuple[float, float]:
    """Seconds from the rescan of a folder with a new file until each client's file count for it changes."""

    async def ours() -> object:
        return {t.id: t.raw.get("global_items") for t in await backend.transfers()}["folder:folder-00"]

    async def theirs() -> object:
        return ha_files.get("folder-00")

    readers = (ours, theirs)
    before = [await read() for read in readers]
    (base / "data-00" / "new-file.txt").write_text("change")
    async with SyncthingClient(daemon.url, api_key=daemon.api_key) as client:
        started = time.monotonic()
        await client.db_scan("folder-00")
    seen = [float("nan")] * len(readers)
    deadline = started + 30
    while time.monotonic() < deadline and any(s != s for s in seen):
        for index, read in enumerate(readers):
            if seen[index] != seen[index] and await read() != before[index]:
                seen[index] = time.monotonic() - started
        await asyncio.sleep(0.005)
    return seen[0], seen[1]


def report(ours: CountingProxy, theirs: CountingProxy, window: float, ours_latency: float, ha_latency: float) -> None:
    minutes = window / 60
    paths = sorted(set(ours.counts) | set(theirs.counts))
    print()
    print("| endpoint | Peerdeck req/min | HA core pattern req/min | ratio HA/Peerdeck |")
    print("|---|---:|---:|---:|")
    for path in paths:
        a, b = ours.counts[path] / minutes, theirs.counts[path] / minutes
        print(f"| `{path}` | {a:.2f} | {b:.2f} | {ratio(b, a)} |")
    total_a = sum(ours.counts.values()) / minutes
    total_b = sum(theirs.counts.values()) / minutes
    status_a = ours.counts["/rest/db/status"] / minutes
    status_b = theirs.counts["/rest/db/status"] / minutes
    print(f"| **all** | **{total_a:.2f}** | **{total_b:.2f}** | **{ratio(total_b, total_a)}** |")
    print(f"| `db/status` (expensive) | {status_a:.2f} | {status_b:.2f} | {ratio(status_b, status_a)} |")
    print(f"| file count changed after rescan (s) | {ours_latency:.3f} | {ha_latency:.3f} | |")
    print()
    print(f"window {window:.0f} s after a {WARMUP:.0f} s warm-up; start-up requests (not counted above):")
    print(f"  Peerdeck {sum(ours.startup.values())} ({dict(ours.startup)})")
    print(f"  HA core pattern {sum(theirs.startup.values())} ({dict(theirs.startup)})")


def ratio(big: float, small: float) -> str:
    if small == 0:
        return "inf" if big else "-"
    return f"{big / small:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0, help="length of the counting window (default 4)")
    args = parser.parse_args()
    asyncio.run(run(args.minutes))


if __name__ == "__main__":
    main()
