"""What monitoring costs qBittorrent: Peerdeck's update path against Home Assistant core's poll.

Starts a real qbittorrent-nox on loopback with N generated torrents (default 2,000: most
paused, some complete and seeding, a few running but incomplete), then measures in one run,
side by side:

* core  — what HA core's qBittorrent integration does every 30 s: ``sync/maindata`` without
  ``rid`` plus ``transfer/speedLimitsMode``;
* ours  — ``QBittorrentBackend.update()`` every 10 s (three times fresher), in steady state:
  cheap calls each tick, and the full ``sync/maindata`` reconciliation every 30 minutes
  (amortised from its measured cost).

This measures the library alone on one mix; ``bench/qbittorrent_realha.py`` measures both
integrations inside a real Home Assistant over several mixes.

Daemon CPU comes from ``/proc/<pid>/stat`` (utime + stime, 10 ms ticks, so it is summed over
many updates and the idle rate is subtracted); bytes are counted on the wire by an aiohttp
trace; client CPU is the process time of this benchmark around each update. Then a paused
torrent whose data is present is resumed elsewhere: ours must report its completion within
one update. At the end our counts per state are checked against ``torrents/info``.

    .venv/bin/python -m bench.qbittorrent_bench [--torrents 2000] [--core-polls 8] [--our-updates 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "shared" / "src")]

from peerdeck import Credentials, TransferEventKind, TransferState  # noqa: E402
from peerdeck.qbittorrent import QBittorrentBackend, QBittorrentClient, to_transfer  # noqa: E402
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, run_qbittorrent  # noqa: E402
from tests.shared.torrents import make_torrent  # noqa: E402

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
OUR_INTERVAL = 10.0
CORE_INTERVAL = 30.0
RECONCILE_INTERVAL = 1800.0


def daemon_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the daemon has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


@dataclass
class Measure:
    """Per-update figures of one mode."""

    name: str
    walls: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    bytes_in: list[int] = field(default_factory=list)
    daemon_cpu_total: float = 0.0
    wall_total: float = 0.0

    def daemon_cpu_per_update(self, idle_rate: float) -> float:
        return max(0.0, self.daemon_cpu_total - idle_rate * self.wall_total) / len(self.walls)


class ByteCounter:
    """Counts response body bytes received through one aiohttp session."""

    def __init__(self) -> None:
        self.received = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_response_chunk_received.append(self._chunk)

    async def _chunk(self, _s: object, _c: object, params: aiohttp.TraceResponseChunkReceivedParams) -> None:
        self.received += len(params.chunk)


async def populate(client: QBittorrentClient, save_path: Path, total: int, complete: int, running: int) -> str:
    """Add ``total`` torrents; returns the hash of a paused torrent whose data is present."""
    batch: list[tuple[str, bytes]] = []
    pending_hash = ""

    async def flush(stopped: bool) -> None:
        if batch:
            await client.torrents_add(torrent_files=list(batch), stopped=stopped, save_path=str(save_path))
            batch.clear()

    for index in range(complete):
        batch.append((f"c{index}.torrent", make_torrent(f"complete-{index}.bin", 16_384, save_path)[0]))
    await flush(stopped=False)
    for index in range(running):
        batch.append((f"r{index}.torrent", make_torrent(f"running-{index}.bin", 16_384)[0]))
    await flush(stopped=False)
    content, pending_hash = make_torrent("pending-complete.bin", 16_384, save_path)
    batch.append(("pending.torrent", content))
    for index in range(total - complete - running - 1):
        batch.append((f"p{index}.torrent", make_torrent(f"paused-{index}.bin", 16_384)[0]))
        if len(batch) >= 100:
            await flush(stopped=True)
    await flush(stopped=True)
    deadline = time.monotonic() + 300
    while True:
        torrents = await client.torrents_info()
        busy = [t for t in torrents if t["state"].startswith(("checking", "allocating", "metaDL"))]
        if len(torrents) >= total and not busy:
            return pending_hash
        if time.monotonic() > deadline:
            raise RuntimeError(f"qBittorrent holds {len(torrents)} of {total} torrents after 300 s")
        await asyncio.sleep(1)


async def idle_rate(pid: int, seconds: float = 5.0) -> float:
    start = daemon_cpu(pid)
    await asyncio.sleep(seconds)
    return (daemon_cpu(pid) - start) / seconds


async def measure_core(daemon: QBittorrentDaemon, polls: int) -> Measure:
    """HA core's poll: full ``sync/maindata`` plus ``transfer/speedLimitsMode``."""
    counter = ByteCounter()
    poll = Measure("core")
    async with aiohttp.ClientSession(trace_configs=[counter.trace], cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await s.post(f"{daemon.url}/api/v2/auth/login", data={"username": daemon.username, "password": daemon.password})
        for _ in range(polls):
            before_bytes, cpu0, wall0, proc0 = (
                counter.received,
                daemon_cpu(daemon.pid),
                time.perf_counter(),
                time.process_time(),
            )
            async with s.get(f"{daemon.url}/api/v2/sync/maindata") as response:
                await response.json()
            async with s.get(f"{daemon.url}/api/v2/transfer/speedLimitsMode") as response:
                await response.text()
            wall = time.perf_counter() - wall0
            poll.walls.append(wall)
            poll.client_cpu.append(time.process_time() - proc0)
            poll.bytes_in.append(counter.received - before_bytes)
            poll.daemon_cpu_total += daemon_cpu(daemon.pid) - cpu0
            poll.wall_total += wall
    return poll


async def measure_ours(
    daemon: QBittorrentDaemon, updates: int, pending_hash: str
) -> tuple[Measure, Measure, int, dict[TransferState, int]]:
    """Steady-state updates and reconciliations; also the updates the completion took, final counts."""
    counter = ByteCounter()
    ours = Measure("ours")
    reconcile = Measure("reconcile")
    seen_after = -1
    async with aiohttp.ClientSession(trace_configs=[counter.trace], cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        backend = QBittorrentBackend(
            daemon.url, Credentials(daemon.username, daemon.password), session=s, reconcile_interval=RECONCILE_INTERVAL
        )
        await backend.update()  # start-up: the one full reconciliation, not steady state
        await backend.update()
        for _ in range(updates):
            before_bytes, cpu0, wall0 = counter.received, daemon_cpu(daemon.pid), time.perf_counter()
            proc0 = time.process_time()
            await backend.update()
            wall = time.perf_counter() - wall0
            ours.walls.append(wall)
            ours.client_cpu.append(time.process_time() - proc0)
            ours.bytes_in.append(counter.received - before_bytes)
            ours.daemon_cpu_total += daemon_cpu(daemon.pid) - cpu0
            ours.wall_total += wall
        # Someone resumes a paused torrent whose data is present (it checks and completes at
        # once): its completion must be reported by the next update.
        async with QBittorrentClient(daemon.url, username=daemon.username, password=daemon.password) as other:
            await other.torrents_start([pending_hash])
            await asyncio.sleep(2)
        for attempt in range(1, 4):
            update = await backend.update()
            if any(e.kind is TransferEventKind.COMPLETED and e.transfer.id == pending_hash for e in update.events):
                seen_after = attempt
                break
        for _ in range(3):
            before_bytes, cpu0, wall0 = counter.received, daemon_cpu(daemon.pid), time.perf_counter()
            await backend.reconcile()
            wall = time.perf_counter() - wall0
            reconcile.walls.append(wall)
            reconcile.bytes_in.append(counter.received - before_bytes)
            reconcile.daemon_cpu_total += daemon_cpu(daemon.pid) - cpu0
            reconcile.wall_total += wall
        counts = dict((await backend.update()).status.counts)
    return ours, reconcile, seen_after, counts


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="peerdeck-bench-") as tmp, run_qbittorrent(Path(tmp)) as daemon:
        async with QBittorrentClient(daemon.url, username=daemon.username, password=daemon.password) as client:
            print(f"qbittorrent-nox {await client.app_version()} (WebAPI {await client.app_webapi_version()})")
            print(
                f"adding {args.torrents} torrents ({args.complete} complete, {args.running} running, the rest paused) …"
            )
            pending_hash = await populate(client, daemon.save_path, args.torrents, args.complete, args.running)
            await asyncio.sleep(3)
            idle = await idle_rate(daemon.pid)
            core = await measure_core(daemon, args.core_polls)
            ours, reconcile, seen_after, counts = await measure_ours(daemon, args.our_updates, pending_hash)
            truth: dict[TransferState, int] = dict.fromkeys(TransferState, 0)
            for record in await client.torrents_info():
                truth[to_transfer(record["hash"], record).state] += 1

    core_update = core.daemon_cpu_per_update(idle)
    ours_update = ours.daemon_cpu_per_update(idle)
    reconcile_share = reconcile.daemon_cpu_per_update(idle) * (60.0 / RECONCILE_INTERVAL)
    core_min = core_update * 60.0 / CORE_INTERVAL
    ours_min = ours_update * 60.0 / OUR_INTERVAL + reconcile_share
    reconcile_bytes_min = statistics.mean(reconcile.bytes_in) * 60.0 / RECONCILE_INTERVAL
    core_bytes_min = statistics.mean(core.bytes_in) * 60.0 / CORE_INTERVAL
    ours_bytes_min = statistics.mean(ours.bytes_in) * 60.0 / OUR_INTERVAL + reconcile_bytes_min
    core_client = statistics.median(core.client_cpu)
    ours_client = statistics.median(ours.client_cpu)

    rows = [
        ("updates measured", f"{len(core.walls)}", f"{len(ours.walls)}", ""),
        (
            "refresh interval",
            f"{CORE_INTERVAL:.0f} s",
            f"{OUR_INTERVAL:.0f} s",
            f"{CORE_INTERVAL / OUR_INTERVAL:.0f}x fresher",
        ),
        ("daemon CPU per update (mean)", f"{core_update * 1000:.1f} ms", f"{ours_update * 1000:.2f} ms", ""),
        (
            "daemon CPU per minute",
            f"{core_min * 1000:.0f} ms",
            f"{ours_min * 1000:.1f} ms",
            f"{ours_min / core_min:.3f} of core",
        ),
        (
            "bytes per update (median)",
            f"{statistics.median(core.bytes_in):,.0f}",
            f"{statistics.median(ours.bytes_in):,.0f}",
            "",
        ),
        (
            "bytes per minute",
            f"{core_bytes_min:,.0f}",
            f"{ours_bytes_min:,.0f}",
            f"{core_bytes_min / ours_bytes_min:.0f}x fewer",
        ),
        (
            "client CPU per update (median)",
            f"{core_client * 1000:.1f} ms",
            f"{ours_client * 1000:.2f} ms",
            f"{core_client / max(ours_client, 1e-9):.0f}x less",
        ),
        (
            "wall time per update (median)",
            f"{statistics.median(core.walls) * 1000:.0f} ms",
            f"{statistics.median(ours.walls) * 1000:.1f} ms",
            "",
        ),
    ]
    print(f"\nidle daemon CPU: {idle * 1000:.1f} ms/s (subtracted)")
    print(
        "ours includes the 30-minute sync/maindata reconciliation (delta) amortised:"
        f" {reconcile_share * 1000:.1f} ms CPU and {reconcile_bytes_min:,.0f} bytes per minute\n"
    )
    print(f"| {'measure':<32} | {'HA core (30 s)':>16} | {'Peerdeck (10 s)':>16} | {'ratio':>18} |")
    print(f"|{'-' * 34}|{'-' * 18}:|{'-' * 18}:|{'-' * 20}:|")
    for name, a, b, ratio in rows:
        print(f"| {name:<32} | {a:>16} | {b:>16} | {ratio:>18} |")
    print(f"\ncompletion of a torrent resumed elsewhere reported after {seen_after} update(s)")
    exact = {k: v for k, v in counts.items() if v} == {k: v for k, v in truth.items() if v}
    print(f"counts per state: ours {_fmt(counts)}; torrents/info {_fmt(truth)} -> {'exact' if exact else 'MISMATCH'}")
    goals = {
        "daemon CPU <= 1/10 of core": ours_min <= core_min / 10,
        ">= 20x fewer bytes": core_bytes_min >= 20 * ours_bytes_min,
        ">= 5x less client CPU": core_client >= 5 * ours_client,
        "completion within one update": seen_after == 1,
        "exact counts": exact,
    }
    for goal, met in goals.items():
        print(f"  {'met ' if met else 'MISSED'} {goal}")
    return 0 if all(goals.values()) else 1


def _fmt(counts: dict[TransferState, int]) -> str:
    return ", ".join(f"{state.value} {n}" for state, n in counts.items() if n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torrents", type=int, default=2000)
    parser.add_argument("--complete", type=int, default=20)
    parser.add_argument("--running", type=int, default=5)
    parser.add_argument("--core-polls", type=int, default=8)
    parser.add_argument("--our-updates", type=int, default=60)
    sys.exit(asyncio.run(main(parser.parse_args())))
