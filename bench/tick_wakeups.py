"""How often Peerdeck's qBittorrent tick wakes its event loop, for two versions of the library side by side.

Run: ``.venv/bin/python -m bench.tick_wakeups [--compare PATH] [--torrents 2000] [--window 180] [--rounds 2]``
(``PATH``: another checkout's ``shared/src``, e.g. from ``git worktree add --detach ../old <commit>``).

Why: on these machines what Peerdeck's tick costs Home Assistant is mostly waking up (docs/benchmarks.md, *What a
tick costs Home Assistant*), and a wake-up count is what this machine's noise does not move. Each library runs in a
process of its own, refreshing as Home Assistant's coordinator does (every 10 s on the clock, moving torrents'
figures re-read each tick as with an open card), on one qbittorrent-nox with the checking mix (1,800 torrents
waiting for their hash check, one checked at a time: something changes every tick); windows alternate (A B, B A, …)
so a drift of the daemon's work is shared. Counted per window: the process's main thread's voluntary context
switches (its event loop going to sleep and woken again), its CPU time, and requests sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import aiohttp

from bench.realha import REPO, wait_until_quiet, wake_ups

# The library is imported late: a window's process takes the one it was given (``--child``), not this checkout's.

TICK = 10.0
"""Home Assistant's refresh interval for a qBittorrent entry."""
WARM_TICKS = 4


async def tick_window(url: str, username: str, password: str, seconds: float) -> dict[str, float]:
    """Refresh on the clock for ``seconds`` (after a few ticks to warm up); the window's counts per minute."""
    from peerdeck import Credentials  # noqa: PLC0415 - from the library this process was given
    from peerdeck.qbittorrent import QBittorrentBackend  # noqa: PLC0415

    sent = 0

    async def count(*_: object) -> None:
        nonlocal sent
        sent += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        backend = QBittorrentBackend(url, Credentials(username, password), session=session)
        loop = asyncio.get_running_loop()
        due = loop.time()
        for _ in range(WARM_TICKS):
            await backend.update()
            due += TICK
            await asyncio.sleep(due - loop.time())
        thread = threading.get_native_id()
        woken, cpu, requests, start = wake_ups(thread, thread), time.thread_time(), sent, time.monotonic()
        full_reads = backend.full_reads
        while time.monotonic() - start < seconds:
            await backend.update()
            due += TICK
            await asyncio.sleep(due - loop.time())
        minutes = (time.monotonic() - start) / 60
        return {
            "wake_ups": (wake_ups(thread, thread) - woken) / minutes,
            "cpu_ms": (time.thread_time() - cpu) * 1000 / minutes,
            "requests": (sent - requests) / minutes,
            "full_reads": backend.full_reads - full_reads,
        }


async def run_window(library: Path, url: str, username: str, password: str, seconds: float) -> dict[str, float]:
    """One window in a process importing the library from ``library``."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.tick_wakeups",
        "--child",
        str(library),
        url,
        username,
        password,
        str(seconds),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the window with {library} failed (exit {child.returncode})")
    result: dict[str, float] = json.loads(out.decode().splitlines()[-1])
    return result


def describe(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f} to {max(values):.1f})"


async def compare(libraries: list[Path], torrents: int, seconds: float, rounds: int) -> None:
    from bench.qbittorrent_realha import MIXES, SLOW, populate, workdir  # noqa: PLC0415
    from peerdeck.qbittorrent import QBittorrentClient  # noqa: PLC0415
    from tests.shared.qbittorrent.daemon import run_qbittorrent  # noqa: PLC0415

    results: dict[Path, list[dict[str, float]]] = {library: [] for library in libraries}
    with workdir() as base, run_qbittorrent(base / "daemon", start_timeout=120) as daemon:
        async with QBittorrentClient(
            daemon.url, username=daemon.username, password=daemon.password, request_timeout=SLOW
        ) as client:
            await populate(client, daemon, MIXES["checking"], torrents)
            version = await client.app_version()
        await wait_until_quiet(daemon.pid)
        for round_number in range(rounds):
            for library in libraries if round_number % 2 == 0 else libraries[::-1]:
                window = await run_window(library, daemon.url, daemon.username, daemon.password, seconds)
                print(f"  {library}: {window}", flush=True)
                results[library].append(window)
    mix = f"checking mix at {torrents:,} torrents (qBittorrent {version})"
    print(f"\n### The qBittorrent tick's event-loop wake-ups, {mix}")
    print(f"\n{rounds} windows of {seconds:.0f} s each, alternating; median (range)\n")
    print("| library | wake-ups/min | CPU ms/min (main thread) | requests/min | full reads in the windows |")
    print("|---|---:|---:|---:|---:|")
    for library, windows in results.items():
        print(
            f"| {library} | {describe([w['wake_ups'] for w in windows])} | {describe([w['cpu_ms'] for w in windows])}"
            f" | {describe([w['requests'] for w in windows])} | {sum(w['full_reads'] for w in windows):.0f} |"
        )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        library, url, username, password, seconds = sys.argv[2:7]
        sys.path.insert(0, library)
        print(json.dumps(asyncio.run(tick_window(url, username, password, float(seconds)))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="another checkout's shared/src, measured side by side")
    parser.add_argument("--torrents", type=int, default=2000)
    parser.add_argument("--window", type=float, default=180.0, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=2, help="windows per library")
    args = parser.parse_args()
    libraries = [REPO / "shared" / "src", *([args.compare.resolve()] if args.compare else [])]
    asyncio.run(compare(libraries, args.torrents, args.window, args.rounds))


if __name__ == "__main__":
    main()
