"""What each qBittorrent Web API call costs the daemon, measured: the table the update path is built on.

A fresh qbittorrent-nox on loopback gets the seedbox mix of ``bench.qbittorrent_realha`` (90 % seeding,
5 % stalled downloads, 5 % paused); then each call is made ``--repeat`` times in a row and the daemon's
CPU (``/proc/<pid>/stat``, user + system) over those calls is divided by their number. The daemon's idle
rate, measured just before, is taken off each figure.

    .venv/bin/python -m bench.qbittorrent_call_costs [--torrents 2000] [--repeat 10]
    bash scripts/current-stack run /opt/peerdeck/test/bin/python -m bench.qbittorrent_call_costs [...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "shared" / "src")]

from bench.qbittorrent_realha import MIXES, SLOW, populate  # noqa: E402
from bench.realha import cpu_seconds, wait_until_quiet  # noqa: E402
from peerdeck.qbittorrent import QBittorrentClient  # noqa: E402
from tests.shared.qbittorrent.daemon import run_qbittorrent  # noqa: E402

IDLE_WINDOW = 10.0


async def cost(pid: int, call: Callable[[], Awaitable[Any]], repeat: int, idle_rate: float) -> float:
    """Daemon CPU ms per call, idle taken off."""
    started, cpu = time.monotonic(), cpu_seconds(pid)
    for _ in range(repeat):
        await call()
    spent = cpu_seconds(pid) - cpu - idle_rate * (time.monotonic() - started)
    return spent * 1000 / repeat


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="peerdeck-call-costs-") as tmp, run_qbittorrent(Path(tmp)) as daemon:
        async with QBittorrentClient(
            daemon.url, username=daemon.username, password=daemon.password, request_timeout=SLOW
        ) as client:
            seeding = await populate(client, daemon, MIXES["seedbox"], args.torrents)
            await wait_until_quiet(daemon.pid)
            cpu = cpu_seconds(daemon.pid)
            await asyncio.sleep(IDLE_WINDOW)
            idle = (cpu_seconds(daemon.pid) - cpu) / IDLE_WINDOW
            version = await client.app_version()
            rid = int((await client.sync_maindata())["rid"])
            five = await client.can_count()
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "sync/maindata, full": lambda: client.sync_maindata(0),
                "sync/maindata, the last rid (nothing changed)": lambda: client.sync_maindata(rid),
                "torrents/info, all": client.torrents_info,
                "torrents/info limit=1 offset=N-1, no sort": lambda: client.torrents_info(
                    limit=1, offset=args.torrents - 1
                ),
                "torrents/info sort=added_on reverse limit=5": lambda: client.torrents_info(
                    sort="added_on", reverse=True, limit=5
                ),
                "torrents/info filter=active": lambda: client.torrents_info(status_filter="active"),
                "torrents/info filter=checking": lambda: client.torrents_info(status_filter="checking"),
                "torrents/info filter=downloading (the 5 % stalled)": lambda: client.torrents_info(
                    status_filter="downloading"
                ),
                "torrents/info category=<unused>": lambda: client.torrents_info(category="unused"),
                "torrents/info hashes= 10": lambda: client.torrents_info(hashes=seeding[:10]),
                "log/main, whole": client.log_main,
                "transfer/info": client.transfer_info,
                "torrents/categories": client.torrents_categories,
            }
            if five:
                calls["torrents/count"] = client.torrents_count
            print(f"qBittorrent {version}, {args.torrents:,} torrents (seedbox mix), idle {idle * 60000:.0f} ms/min")
            print("\n| call | daemon CPU ms per call |\n|---|---:|")
            for name, call in calls.items():
                print(f"| `{name}` | {await cost(daemon.pid, call, args.repeat, idle):,.1f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torrents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
