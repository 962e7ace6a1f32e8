"""HA core's qbittorrent integration against Peerdeck's, inside one real Home Assistant, on one real daemon.

For each mix of torrent states, a fresh qbittorrent-nox on loopback gets N generated torrents;
a real Home Assistant (started once, from a bench venv of its own, see ``--stack``) reaches it
through a counting proxy. Then, one after the other on the same daemon:

1. no entry (the daemon's and HA's idle work, once the daemon's CPU rate is steady);
2. core's ``qbittorrent`` entry, added by its real config flow, at its 30 s poll;
3. no entry;
4. Peerdeck's qBittorrent entry, added by its real config flow, at its default 10 s;
5. with ``--card``: Peerdeck's entry again, with its transfers card's feed subscribed over HA's
   websocket (``peerdeck/transfers/subscribe``, as an open dashboard does), one tick after subscribing;
6. no entry again. Each client is compared with the mean of the no-entry windows on either side of it.

Entries get a warm-up, then a window over which the daemon's and HA's CPU (``/proc/<pid>/stat``;
the daemon's main thread, where qBittorrent's WebAPI runs, also alone), and requests and bytes
on the wire (the proxy), are measured; the entry is removed after. At the end of Peerdeck's
window its count sensors are compared with ``torrents/info``.

Mixes: ``seedbox`` (90 % seeding, 5 % stalled, 5 % paused; queueing off), ``queued`` (qBittorrent's
default queueing on: 1 % seeding, 5 % paused, the rest started downloads, most of them queued),
``checking`` (5 % paused, 5 % stalled, the rest waiting for their hash check), ``paused``
(20 seeding, 5 stalled, the rest paused — "stopped" on qBittorrent 5), ``busy`` (the seedbox
mix plus 60 torrents really downloading, rate-limited, from a second qbittorrent-nox) and
``metadata`` (5 % seeding, 5 % paused, the rest magnet links nobody serves, fetching metadata).

Stacks: ``floor`` (default) runs on this machine: Home Assistant 2026.2.3 from
``~/.cache/peerdeck/bench-venv`` (``bench/requirements-ha.txt``, built with ``--python``, default the
running one) and the host's qbittorrent-nox 4.5.2. ``current`` runs in the forky root of
``scripts/current-stack`` (built by ``scripts/setup``): Home Assistant 2026.11.0 from
``/opt/peerdeck/bench`` inside the root (``bench/requirements-ha-current.txt``, built with the root's
``/usr/bin/python3.14``) and qbittorrent-nox 5.3; started on the host, the script runs itself again
there (``scripts/current-stack run``, with the root's test venv Python).

    .venv/bin/python -m bench.qbittorrent_realha [--torrents 2000]
        [--mixes seedbox,queued,checking,paused,busy,metadata] [--window 120] [--warmup 40] [--card]
    .venv/bin/python -m bench.qbittorrent_realha --stack current [the same options]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "shared" / "src")]

from bench.realha import (  # noqa: E402
    DEFAULT_VENV,
    CountingProxy,
    CpuWindow,
    RealHomeAssistant,
    WireCounts,
    bench_venv,
    counting_proxy,
    wait_until_quiet,
)
from peerdeck import TransferState  # noqa: E402
from peerdeck.qbittorrent import QBittorrentClient, to_transfer  # noqa: E402
from tests.shared.qbittorrent.daemon import QBittorrentDaemon, free_port, run_qbittorrent  # noqa: E402
from tests.shared.torrents import make_torrent  # noqa: E402

BATCH = 100
MOVING = 60
MOVING_SIZE = 16 * 1024 * 1024
MOVING_LIMIT = 12 * 1024
"""Per-torrent download limit (B/s) of the busy mix: its torrents keep moving for the whole run."""
SLOW = 600.0
"""Request timeout of the bench's own client: a full list of 20,000 torrents takes a while on a busy machine."""
LOG_LINES = 10
"""How many of those warnings and errors of Home Assistant's log are printed."""
CARD_SETTLE = 10.0
"""Seconds between subscribing to the card's feed and its window: one tick, so its full first list is not counted."""
CURRENT_RUNNER = "/opt/peerdeck/test/bin/python"
"""What runs this script inside the current stack's root (its test venv: aiohttp; Peerdeck comes from this checkout)."""


@dataclass(frozen=True)
class Stack:
    """Where the Home Assistant under test comes from."""

    requirements: Path
    venv: Path
    python: str
    """The Python the venv is built with."""


STACKS = {
    "floor": Stack(REPO / "bench" / "requirements-ha.txt", DEFAULT_VENV, sys.executable),
    # Inside the root, so the venv persists with it (and never mixes with the host's).
    "current": Stack(
        REPO / "bench" / "requirements-ha-current.txt", Path("/opt/peerdeck/bench"), "/usr/bin/python3.14"
    ),
}


KINDS = ("seeding", "stalled", "paused", "downloads", "checking", "magnets")
"""``seeding``: data present, added without a check; ``stalled``: started, no data, no peer; ``paused``:
no data; ``downloads``: started like ``stalled``, but added last (queued when queueing is on);
``checking``: data present, added with its hash check, last; ``magnets``: magnet links nobody serves,
fetching their metadata for good (``metaDL``, which qBittorrent counts as active)."""
METADATA_STATES = ("metaDL", "forcedMetaDL")


@dataclass(frozen=True)
class Mix:
    """A mix of torrent kinds: shares of the total (or counts, when >= 1); ``rest`` takes what is left."""

    name: str
    shares: dict[str, float]
    rest: str
    queueing: bool = False
    moving: int = 0
    """Torrents really downloading from a second qbittorrent-nox (on top of the total's others)."""

    def counts(self, total: int) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for kind, share in self.shares.items():
            counts[kind] = int(share) if share >= 1 else int(share * total)
        counts[self.rest] += total - self.moving - sum(counts.values())
        return counts


MIXES = {
    mix.name: mix
    for mix in (
        Mix("seedbox", {"stalled": 0.05, "paused": 0.05}, rest="seeding"),
        Mix("queued", {"seeding": 0.01, "paused": 0.05}, rest="downloads", queueing=True),
        Mix("checking", {"paused": 0.05, "stalled": 0.05}, rest="checking"),
        Mix("paused", {"seeding": 20, "stalled": 5}, rest="paused"),
        Mix("busy", {"stalled": 0.05, "paused": 0.05}, rest="seeding", moving=MOVING),
        Mix("metadata", {"seeding": 0.05, "paused": 0.05}, rest="magnets"),
    )
}


@dataclass
class Phase:
    """One measured window."""

    name: str
    cpu: CpuWindow
    wire: WireCounts

    def per_minute(self, value: float) -> float:
        return value * 60.0 / self.cpu.wall


async def add_batches(client: QBittorrentClient, files: list[tuple[str, bytes]], **options: object) -> None:
    for start in range(0, len(files), BATCH):
        await client.torrents_add(torrent_files=files[start : start + BATCH], **options)  # type: ignore[arg-type]


async def populate(client: QBittorrentClient, daemon: QBittorrentDaemon, mix: Mix, total: int) -> None:
    """Add the mix's torrents; started downloads last, so with queueing on they fill the queue."""
    counts = mix.counts(total)
    save = str(daemon.save_path)
    if mix.queueing:
        await client.app_set_preferences({"queueing_enabled": True})

    def files(kind: str, with_data: bool) -> list[tuple[str, bytes]]:
        data_dir = daemon.save_path if with_data else None
        return [
            (f"{kind}-{i}.torrent", make_torrent(f"{kind}-{i:06}.bin", 16_384, data_dir)[0])
            for i in range(counts[kind])
        ]

    await add_batches(client, await asyncio.to_thread(files, "seeding", True), save_path=save, skip_checking=True)
    await add_batches(client, await asyncio.to_thread(files, "paused", False), save_path=save, stopped=True)
    await add_batches(client, await asyncio.to_thread(files, "stalled", False), save_path=save)
    await add_batches(client, await asyncio.to_thread(files, "downloads", False), save_path=save)
    await add_batches(client, await asyncio.to_thread(files, "checking", True), save_path=save)
    magnets = [
        f"magnet:?xt=urn:btih:{hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()}&dn={name}"
        for name in (f"magnet-{i:06}" for i in range(counts["magnets"]))
    ]
    for start in range(0, len(magnets), BATCH):
        await client.torrents_add(urls=magnets[start : start + BATCH], save_path=save)
    expected = total - mix.moving

    async def settling() -> bool:
        active = await client.torrents_info(status_filter="active")
        moving = any(r.get("state") not in METADATA_STATES for r in active)
        return moving or len(await client.torrents_info()) < expected

    deadline = time.monotonic() + 60 + total / 20
    while await settling():
        if time.monotonic() > deadline:
            raise RuntimeError(f"qBittorrent did not take the {mix.name} mix in time")
        await asyncio.sleep(5)


async def start_moving(ours: QBittorrentDaemon, seeder: QBittorrentDaemon, count: int) -> None:
    """``count`` torrents our daemon downloads from the seeder, rate-limited so they keep moving."""
    made = await asyncio.to_thread(
        lambda: [make_torrent(f"moving-{i:03}.bin", MOVING_SIZE, seeder.save_path) for i in range(count)]
    )
    files = [(f"moving-{i}.torrent", content) for i, (content, _) in enumerate(made)]
    hashes = [info_hash for _, info_hash in made]
    async with (
        QBittorrentClient(ours.url, username=ours.username, password=ours.password, request_timeout=SLOW) as client,
        QBittorrentClient(seeder.url, username=seeder.username, password=seeder.password) as other,
    ):
        await add_batches(other, files, save_path=str(seeder.save_path), skip_checking=True)
        await add_batches(client, files, save_path=str(ours.save_path), download_limit=MOVING_LIMIT)
        while len(await client.torrents_info(hashes=hashes)) < count or len(await other.torrents_info()) < count:  # noqa: ASYNC110
            await asyncio.sleep(1)
        our_port = int((await client.app_preferences())["listen_port"])
        seeder_port = int((await other.app_preferences())["listen_port"])
        deadline = time.monotonic() + 120
        while len(await client.torrents_info(status_filter="active")) < count * 0.9:
            if time.monotonic() > deadline:
                raise RuntimeError("the busy mix's torrents did not start moving")
            await client.torrents_add_peers(hashes, [f"127.0.0.1:{seeder_port}"])
            await other.torrents_add_peers(hashes, [f"127.0.0.1:{our_port}"])
            await asyncio.sleep(5)


async def measure(name: str, hass: RealHomeAssistant, daemon_pid: int, proxy: CountingProxy, window: float) -> Phase:
    # qBittorrent's WebAPI runs on its main thread (tid == pid); libtorrent's work (checks, network) on others.
    cpu = CpuWindow({"daemon": daemon_pid, "daemon main thread": (daemon_pid, daemon_pid), "ha": hass.pid})
    before = proxy.counts.copy()
    cpu.begin()
    await asyncio.sleep(window)
    cpu.end()
    return Phase(name, cpu, proxy.counts.since(before))


async def entry_states(hass: RealHomeAssistant, entry_id: str) -> dict[str, str]:
    """The states of one entry's enabled entities, by unique id (``missing`` for one without a state)."""
    (registry,) = await hass.api.websocket({"type": "config/entity_registry/list"})
    states = {s["entity_id"]: s["state"] for s in await hass.api.states()}
    return {
        e["unique_id"]: states.get(e["entity_id"], "missing")
        for e in registry
        if e["config_entry_id"] == entry_id and e["disabled_by"] is None
    }


async def entry_counts(hass: RealHomeAssistant, entry_id: str) -> dict[str, int]:
    """Peerdeck's transfer count sensors of one entry, by state."""
    prefix = f"{entry_id}_transfers_"
    return {
        unique_id.removeprefix(prefix): int(state)
        for unique_id, state in (await entry_states(hass, entry_id)).items()
        if unique_id.startswith(prefix) and unique_id != f"{prefix}total" and state.isdigit()
    }


async def truth(client: QBittorrentClient) -> dict[str, int]:
    counts = dict.fromkeys((state.value for state in TransferState), 0)
    for record in await client.torrents_info():
        counts[to_transfer(record["hash"], record).state.value] += 1
    return counts


async def run_mix(
    mix: Mix, total: int, hass: RealHomeAssistant, base: Path, window: float, warmup: float, *, card: bool
) -> tuple[list[Phase], list[str]]:
    """The mix's measured windows (idle before, core, idle between, Peerdeck, [Peerdeck + card], idle after) and
    notes on them."""
    with contextlib.ExitStack() as stack:
        daemon = stack.enter_context(run_qbittorrent(base / "daemon", start_timeout=120))
        seeder = stack.enter_context(run_qbittorrent(base / "seeder")) if mix.moving else None
        async with QBittorrentClient(
            daemon.url, username=daemon.username, password=daemon.password, request_timeout=SLOW
        ) as client:
            version = f"qBittorrent {await client.app_version()}, WebAPI {await client.app_webapi_version()}"
            started = time.monotonic()
            await populate(client, daemon, mix, total)
            if seeder is not None:
                await start_moving(daemon, seeder, mix.moving)
            print(f"  {mix.name}: {total:,} torrents added in {time.monotonic() - started:.0f} s", flush=True)
            await wait_until_quiet(daemon.pid)
            async with counting_proxy(daemon.url) as proxy:
                phases = [await measure("idle before", hass, daemon.pid, proxy, window)]
                login = {"url": proxy.url, "username": daemon.username, "password": daemon.password}
                core = await hass.add_entry("qbittorrent", {**login, "verify_ssl": False})
                await asyncio.sleep(warmup)
                phases.append(await measure("HA core (30 s)", hass, daemon.pid, proxy, window))
                core_states = await entry_states(hass, core["entry_id"])
                await hass.remove_entry(core["entry_id"])
                await asyncio.sleep(5)
                phases.append(await measure("idle between", hass, daemon.pid, proxy, window))
                ours = await hass.add_entry(
                    "peerdeck", {"kind": "qbittorrent"}, {**login, "advanced": {"verify_ssl": True, "timeout": 10}}
                )
                await asyncio.sleep(warmup)
                phases.append(await measure("Peerdeck (10 s)", hass, daemon.pid, proxy, window))
                shown, real = await entry_counts(hass, ours["entry_id"]), await truth(client)
                feed = ""
                if card:
                    subscribe = {"type": "peerdeck/transfers/subscribe", "entry_id": ours["entry_id"]}
                    async with hass.subscription(subscribe) as received:
                        await asyncio.sleep(CARD_SETTLE)
                        events, size = received.events, received.bytes
                        phases.append(await measure("Peerdeck + card open", hass, daemon.pid, proxy, window))
                        minutes = phases[-1].cpu.wall / 60
                        feed = (
                            f"card feed: {(received.events - events) / minutes:.1f} events/min, "
                            f"{(received.bytes - size) / minutes / 1000:.1f} KB/min"
                        )
                await hass.remove_entry(ours["entry_id"])
                await asyncio.sleep(10)
                phases.append(await measure("idle after", hass, daemon.pid, proxy, window))
    blank = sorted(
        unique_id.removeprefix(f"{core['entry_id']}-")
        for unique_id, state in core_states.items()
        if state in {"unavailable", "unknown", "missing"}
    )
    exact = {k: v for k, v in shown.items() if v} == {k: v for k, v in real.items() if v}
    notes = [
        version,
        f"core's entry: {len(core_states)} enabled entities, {len(core_states) - len(blank)} with a value"
        + (f" (not: {', '.join(blank)})" if blank else ""),
        f"counts at the end of Peerdeck's window — {'exact' if exact else 'DIFFER'}: "
        f"Peerdeck {_fmt(shown)}; torrents/info {_fmt(real)}",
    ]
    return phases, [*notes, feed] if feed else notes


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{state} {n:,}" for state, n in sorted(counts.items()) if n)


def report(mix: str, total: int, phases: list[Phase], notes: list[str], window: float) -> bool:
    """Print one mix's table; each client's "idle" is the mean of the no-client windows on either side of it.

    The daemon's own work drifts (resume data written after a bulk add, hash checks moving through the
    queue, data moving): the windows just before and just after a client bracket it, so each client is
    compared with the daemon as it was around its own window.
    """
    before, core, between, *ours, after = phases
    watched = [core, *ours]  # core, Peerdeck, and Peerdeck with the card open when measured
    print(f"\n### {mix}, {total:,} torrents ({window:.0f}-s windows)\n")
    print(f"| | no client | {' | '.join(p.name for p in watched)} | Peerdeck / core |")
    print(f"|---|---:|{'---:|' * len(watched)}---:|")

    def rate(phase: Phase, name: str) -> float:
        return phase.per_minute(phase.cpu.cpu[name]) * 1000

    def per_minute(name: str) -> list[float]:
        idle = (rate(before, name) + rate(between, name) + rate(after, name)) / 3
        return [idle] + [rate(p, name) for p in watched]

    def above_idle(name: str) -> list[float]:
        core_idle = (rate(before, name) + rate(between, name)) / 2
        our_idle = (rate(between, name) + rate(after, name)) / 2
        return [0.0, max(rate(core, name) - core_idle, 0.0)] + [max(rate(p, name) - our_idle, 0.0) for p in ours]

    def ratio(values: list[float], digits: int) -> str:
        return f"{values[2] / max(values[1], 1e-9):.{digits}f}"

    daemon, main_thread, ha = per_minute("daemon"), per_minute("daemon main thread"), per_minute("ha")
    above, main_above, ha_above = above_idle("daemon"), above_idle("daemon main thread"), above_idle("ha")
    # Peerdeck's full reconciliation runs every 30 min and costs one of core's polls (core polls twice a minute).
    for values in (above, main_above):
        for column in range(2, len(values)):
            values[column] += values[1] / 2 / 30
    requests = [0.0] + [p.per_minute(p.wire.total_requests) for p in watched]
    down = [0.0] + [p.per_minute(p.wire.bytes_down) / 1000 for p in watched]
    rows = [
        ("daemon CPU ms/min", daemon, ratio(daemon, 3)),
        ("daemon CPU ms/min above idle (Peerdeck's + 30-min reconciliation)", above, f"**{ratio(above, 3)}**"),
        ("daemon main thread (WebAPI) CPU ms/min", main_thread, ratio(main_thread, 3)),
        ("daemon main thread above idle (+ reconciliation)", main_above, ratio(main_above, 3)),
        ("HA CPU ms/min", ha, f"**{ratio(ha, 2)}**"),
        ("HA CPU ms/min above idle", ha_above, ratio(ha_above, 2)),
        ("requests/min", requests, ""),
        ("KB/min received", down, ratio(down, 3)),
    ]
    for name, values, versus in rows:
        print(f"| {name} | {' | '.join(f'{v:,.1f}' for v in values)} | {versus} |")
    idle_daemon = " / ".join(f"{rate(p, 'daemon'):,.0f}" for p in (before, between, after))
    print(f"\nidle daemon before / between / after: {idle_daemon} ms/min")
    for phase in watched[1:]:
        routes = ", ".join(f"{route} {n * 60 / phase.cpu.wall:.1f}" for route, n in phase.wire.requests.most_common())
        print(f"{phase.name}: requests/min by route: {routes}")
    for note in notes:
        print(note)
    goals = {
        "daemon CPU above idle <= 1/10 of core": above[2] <= above[1] / 10,
        "HA CPU <= core": ha[2] <= ha[1],
    }
    for goal, met in goals.items():
        print(f"  {'met ' if met else 'MISSED'} {goal}")
    return all(goals.values())


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="peerdeck-realha-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def main(args: argparse.Namespace) -> int:
    stack = STACKS[args.stack]
    python = bench_venv(
        args.python or stack.python, [stack.requirements], [REPO / "shared"], path=args.venv or stack.venv
    )
    met = True
    with workdir() as base:
        async with aiohttp.ClientSession() as session:
            hass = RealHomeAssistant(python, base / "homeassistant", free_port(), session)
            try:
                await hass.start(base / "downloads")
                print(
                    f"Home Assistant {await hass.version()} up (pid {hass.pid}, {args.stack} stack); "
                    f"mixes: {', '.join(args.mixes)}",
                    flush=True,
                )
                for name in args.mixes:
                    phases, notes = await run_mix(
                        MIXES[name], args.torrents, hass, base / name, args.window, args.warmup, card=args.card
                    )
                    met = report(name, args.torrents, phases, notes, args.window) and met
            finally:
                hass.stop()
                problems = hass.log_problems("qbittorrent", "peerdeck")
                print(f"\nHome Assistant's log: {len(problems)} warnings or errors from qbittorrent or peerdeck")
                for line in problems[:LOG_LINES]:
                    print(f"  {line[:300]}")
    return 0 if met else 1


def in_current_stack(argv: list[str]) -> NoReturn:
    """Run this benchmark again inside the current stack's root, with its test venv's Python."""
    command = ["bash", str(REPO / "scripts" / "current-stack"), "run", CURRENT_RUNNER, "-m", "bench.qbittorrent_realha"]
    os.execvp("bash", [*command, *argv])  # noqa: S606 - fixed argv, the repository's own script


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop HA and the daemons on the way out

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torrents", type=int, default=2000)
    parser.add_argument("--mixes", type=lambda text: text.split(","), default=list(MIXES))
    parser.add_argument("--window", type=float, default=120.0, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=40.0, help="seconds after adding an entry")
    parser.add_argument(
        "--card",
        action="store_true",
        help="after Peerdeck's window, one more with its transfers card's feed subscribed (as an open dashboard)",
    )
    parser.add_argument(
        "--stack",
        choices=list(STACKS),
        default="floor",
        help="floor: HA 2026.2.3 on this machine; current: HA 2026.11.0 and qbittorrent-nox 5.3 in the forky root",
    )
    parser.add_argument("--python", help="Python to build the bench venv with (default: the stack's)")
    parser.add_argument("--venv", type=Path, help="the bench venv (default: the stack's)")
    arguments = parser.parse_args()
    if arguments.stack == "current" and not os.environ.get("PEERDECK_IN_CURRENT_STACK"):
        in_current_stack(sys.argv[1:])
    sys.exit(asyncio.run(main(arguments)))
