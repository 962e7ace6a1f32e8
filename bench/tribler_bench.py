"""Time to pause and resume every Tribler download: one request at a time vs ``bulk_concurrency`` at once.

The real 8.4.3 core answers a PATCH only after its alert tick (about one second), so a client
that changes downloads one by one needs about a second per download. This drives the
conformance core with that tick (``--tick``) and times ``backend.pause(ALL)`` and
``backend.resume(ALL)`` with ``bulk_concurrency`` 1 (the old behaviour) and the default, side
by side in one run:

    .venv/bin/python bench/tribler_bench.py --downloads 12 --tick 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "shared" / "src"))

from peerdeck import ALL, Credentials  # noqa: E402
from peerdeck.tribler import TriblerBackend  # noqa: E402
from tests.shared.torrents import make_torrent  # noqa: E402
from tests.shared.tribler.server import API_KEY, FakeDownload, TriblerServer, serve  # noqa: E402


async def pause_and_resume(downloads: int, tick: float, concurrency: int) -> tuple[float, float, int]:
    """Seconds for pause(ALL), for resume(ALL), and the most PATCHes the core saw at once."""
    server = TriblerServer()
    server.alert_tick = tick
    for index in range(downloads):
        content, infohash = make_torrent(f"{index}.bin", 20_000)
        server.downloads[infohash] = FakeDownload(infohash, f"{index}.bin", [(f"{index}.bin", 20_000)], content)
    async for url in serve(server.app()):
        async with TriblerBackend(url, Credentials(api_key=API_KEY)) as backend:
            backend.bulk_concurrency = concurrency
            started = time.perf_counter()
            await backend.pause(ALL)
            paused = time.perf_counter()
            await backend.resume(ALL)
            resumed = time.perf_counter()
    return paused - started, resumed - paused, server.max_in_flight


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=int, default=12)
    parser.add_argument("--tick", type=float, default=1.0, help="seconds each PATCH waits (the core's alert tick)")
    args = parser.parse_args()
    default = TriblerBackend("http://127.0.0.1:1", Credentials(api_key=API_KEY)).bulk_concurrency
    print(f"{args.downloads} downloads, PATCH tick {args.tick:g} s")
    results = {}
    for label, concurrency in (("one at a time", 1), (f"{default} at once", default)):
        pause, resume, in_flight = await pause_and_resume(args.downloads, args.tick, concurrency)
        results[label] = pause
        print(f"  {label:>14}: pause(ALL) {pause:6.2f} s, resume(ALL) {resume:6.2f} s, most in flight {in_flight}")
    sequential, concurrent = results.values()
    print(f"  pause(ALL) speed-up: {sequential / concurrent:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
