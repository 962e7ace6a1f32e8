"""What a process pays to wake up: the CPU time of the same work right after an idle gap and right after itself.

Run: ``.venv/bin/python -m bench.wake_cost [--repeats 7] [--gaps 0,0.5,3,10]``

Why: in the checking mix Peerdeck's Home Assistant CPU is made mostly of its ticks' first moments (a py-spy profile
put the tick's first request at a third of its samples, the next ones at a tenth each). On a virtual machine whose
vCPUs idle between ticks, work done just after waking runs far slower than the same work a moment later, so a
client pays per wake-up, not only per byte: this measures it, side by side in one run, on a real qbittorrent-nox.

Each row: for each gap, ``repeats`` rounds of (sleep ``gap``; the measured call; the same call again at once); CPU
time of this process (``time.process_time``) for each, median and range over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from peerdeck.qbittorrent import QBittorrentClient
from tests.shared.qbittorrent.daemon import run_qbittorrent

PYTHON_WORK = 20_000
"""Loop steps of the pure-Python work measured beside the request (about 1 ms on this machine when warm)."""


def python_work() -> int:
    """A fixed amount of interpreter work touching no I/O."""
    total = 0
    for i in range(PYTHON_WORK):
        total += i * i
    return total


async def cpu_ms(call: Callable[[], Awaitable[object]]) -> float:
    """CPU time of this process spent while ``call`` ran, in ms."""
    start = time.process_time()
    await call()
    return (time.process_time() - start) * 1000


def describe(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f} to {max(values):.2f})"


async def measure(gaps: list[float], repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, run_qbittorrent(Path(tmp) / "daemon") as daemon:
        async with (
            aiohttp.ClientSession() as session,
            QBittorrentClient(
                daemon.url, username=daemon.username, password=daemon.password, session=session
            ) as client,
        ):
            await client.transfer_info()  # logged in, connection open

            async def python() -> None:
                python_work()

            calls: dict[str, Callable[[], Awaitable[object]]] = {
                "transfer/info": client.transfer_info,
                "pure Python": python,
            }
            print(f"qbittorrent-nox {await client.app_version()}; CPU ms, median (range) over {repeats} rounds\n")
            print("| work | idle gap before | first after the gap | the same at once after | first / after |")
            print("|---|---:|---:|---:|---:|")
            for name, call in calls.items():
                for gap in gaps:
                    first: list[float] = []
                    again: list[float] = []
                    for _ in range(repeats):
                        await asyncio.sleep(gap)
                        first.append(await cpu_ms(call))
                        again.append(await cpu_ms(call))
                    ratio = statistics.median(first) / max(statistics.median(again), 1e-6)
                    print(f"| {name} | {gap:g} s | {describe(first)} | {describe(again)} | {ratio:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--gaps", default="0,0.5,3,10", help="idle gaps in seconds, comma-separated")
    args = parser.parse_args()
    asyncio.run(measure([float(g) for g in args.gaps.split(",")], args.repeats))


if __name__ == "__main__":
    main()
