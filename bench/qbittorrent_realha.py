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
the daemon's main thread, where qBittorrent's WebAPI runs, also alone), and requests, bytes and
full reads (``sync/maindata`` or a list of every torrent) on the wire (the proxy), are measured as
they happen — nothing is modelled, and a figure below idle is printed as it is, next to the idle
windows' spread; the entry is removed after. At the end of Peerdeck's window its count sensors
(per state and the total) are compared with the daemon's own ``torrents/info``, and the categories
and tags ``peerdeck.get_transfers`` answers with what ``torrents/info`` says.

Mixes: ``seedbox`` (90 % seeding, 5 % stalled, 5 % paused; queueing off), ``queued`` (qBittorrent's
default queueing on: 1 % seeding, 5 % paused, the rest started downloads, most of them queued),
``checking`` (5 % paused, 5 % stalled, the rest waiting for their hash check), ``paused``
(20 seeding, 5 stalled, the rest paused — "stopped" on qBittorrent 5), ``busy`` (the seedbox
mix plus 60 torrents really downloading, rate-limited, from a second qbittorrent-nox) and
``metadata`` (5 % seeding, 5 % paused, the rest magnet links nobody serves, fetching metadata).
Busy boxes, where another program on the Web API changes things all run long (idle windows
included, so its own cost is in every idle figure): ``arr`` (the seedbox mix; an RSS rule or
Sonarr adds ~20 downloads and removes ~10 finished torrents a minute, and recategorises and
retags a few every minute) and ``crossseed`` (the same, but the added torrents' data is already
there: they pass their hash check and seed at once).

Stacks: ``floor`` (default) runs on this machine: Home Assistant 2026.2.3 from
``~/.cache/peerdeck/bench-venv`` (``bench/requirements-ha.txt``, built with ``--python``, default the
running one) and the host's qbittorrent-nox 4.5.2. ``current`` runs in the forky root of
``scripts/current-stack`` (built by ``scripts/setup``): Home Assistant 2026.11.0 from
``/opt/peerdeck/bench`` inside the root (``bench/requirements-ha-current.txt``, built with the root's
``/usr/bin/python3.14``) and qbittorrent-nox 5.3; started on the host, the script runs itself again
there (``scripts/current-stack run``, with the root's test venv Python).

    .venv/bin/python -m bench.qbittorrent_realha [--torrents 2000]
        [--mixes seedbox,queued,checking,paused,busy,metadata,arr,crossseed] [--window 330] [--warmup 40] [--card]
    .venv/bin/python -m bench.qbittorrent_realha --stack current [the same options]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
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
from peerdeck.qbittorrent.torrentfile import info_hash_v1  # noqa: E402
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
CORE_POLL = 30.0
"""HA core's qbittorrent poll, in seconds: a window holds at least ``MIN_CORE_POLLS`` of them."""
MIN_CORE_POLLS = 10
ARRIVALS_PER_MINUTE = 20
REMOVALS_PER_MINUTE = 10
RELABELS_PER_MINUTE = 5
"""The busy boxes' other program: torrents added, finished ones removed, and recategorised and retagged."""
SETTLE_TICK = 15.0
"""Seconds the other program waits before the end-of-window checks: one of Peerdeck's 10-s ticks and its own time."""
LIST_NARROWING = frozenset({"category", "tag", "hashes", "limit"})
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
    arrivals: str | None = None
    """Another program adds torrents all run long: ``download`` (no data yet) or ``seed`` (data already there)."""

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
        Mix("arr", {"stalled": 0.05, "paused": 0.05}, rest="seeding", arrivals="download"),
        Mix("crossseed", {"stalled": 0.05, "paused": 0.05}, rest="seeding", arrivals="seed"),
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


async def populate(client: QBittorrentClient, daemon: QBittorrentDaemon, mix: Mix, total: int) -> list[str]:
    """Add the mix's torrents; started downloads last, so with queueing on they fill the queue. Returns the
    hashes of the seeding ones (the finished torrents a busy box's other program removes)."""
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

    seeding = await asyncio.to_thread(files, "seeding", True)
    await add_batches(client, seeding, save_path=save, skip_checking=True)
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
    return [info_hash_v1(content) for _, content in seeding]


@dataclass
class OtherProgram:
    """Another program on the Web API of a busy box (an RSS rule, Sonarr, cross-seed), all run long."""

    daemon: QBittorrentDaemon
    arrivals: str
    finished: list[str]
    """Hashes of finished (seeding) torrents it may remove, oldest first."""
    added = 0
    removed = 0
    relabelled = 0
    paused = False
    """While set, it changes nothing (a check compares two reads)."""
    failure = ""

    async def run(self) -> None:
        """Every 3 s add a torrent (in its category, tagged), every 6 s remove a finished one, every minute
        recategorise and retag a few; its own requests do not pass the proxy."""
        save = str(self.daemon.save_path)
        category = "sonarr" if self.arrivals == "download" else "cross-seed"
        async with QBittorrentClient(
            self.daemon.url, username=self.daemon.username, password=self.daemon.password, request_timeout=SLOW
        ) as client:
            try:
                await self._act(client, category, save)
            except Exception as err:
                self.failure = repr(err)  # printed with the mix's notes: the mix was then not what it says
                raise

    async def _act(self, client: QBittorrentClient, category: str, save: str) -> None:
        await client.torrents_create_category(category)
        for tick in itertools.count():
            await asyncio.sleep(60.0 / ARRIVALS_PER_MINUTE)
            if self.paused:
                continue
            name = f"{category}-{tick:06}.bin"
            data_dir = self.daemon.save_path if self.arrivals == "seed" else None
            content, info_hash = await asyncio.to_thread(make_torrent, name, 16_384, data_dir)
            await client.torrents_add(
                torrent_files=[(f"{name}.torrent", content)], save_path=save, category=category, tags=["added"]
            )
            self.added += 1
            if self.arrivals == "seed":
                self.finished.append(info_hash)
            if tick % (ARRIVALS_PER_MINUTE // REMOVALS_PER_MINUTE) == 0 and self.finished:
                await client.torrents_delete([self.finished.pop(0)])
                self.removed += 1
            if tick % ARRIVALS_PER_MINUTE == 0:
                label = f"rss-{tick // ARRIVALS_PER_MINUTE}"
                await client.torrents_create_category(label)
                picked = self.finished[-RELABELS_PER_MINUTE:]
                await client.torrents_set_category(picked, label)
                await client.torrents_add_tags(picked, [label])
                self.relabelled += len(picked)


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


async def entry_counts(hass: RealHomeAssistant, entry_id: str) -> dict[str, int | str]:
    """Peerdeck's transfer count sensors of one entry, by state, and ``total`` (a state as it is when not a count)."""
    prefix = f"{entry_id}_transfers_"
    return {
        unique_id.removeprefix(prefix): int(state) if state.isdigit() else state
        for unique_id, state in (await entry_states(hass, entry_id)).items()
        if unique_id.startswith(prefix)
    }


async def truth(client: QBittorrentClient) -> tuple[dict[str, int | str], dict[str, tuple[str, list[str]]]]:
    """What the daemon itself says: counts per state and in total, and each torrent's category and tags."""
    counts: dict[str, int | str] = dict.fromkeys((state.value for state in TransferState), 0)
    labels: dict[str, tuple[str, list[str]]] = {}
    records = await client.torrents_info()
    for record in records:
        transfer = to_transfer(record["hash"], record)
        counts[transfer.state.value] = int(counts[transfer.state.value]) + 1
        labels[transfer.id] = (transfer.category or "", sorted(transfer.tags))
    counts["total"] = len(records)
    return counts, labels


async def labels_shown(hass: RealHomeAssistant, entry_id: str) -> dict[str, tuple[str, list[str]]]:
    """Each transfer's category and tags as ``peerdeck.get_transfers`` answers (what automations read)."""
    answer = await hass.api.call_service_response("peerdeck", "get_transfers", {"config_entry_id": entry_id})
    transfers = answer["service_response"]["transfers"]
    return {t["id"]: (t["category"] or "", sorted(t["tags"])) for t in transfers}


def label_differences(shown: Mapping[str, tuple[str, list[str]]], real: Mapping[str, tuple[str, list[str]]]) -> str:
    differ = [h for h in real.keys() | shown.keys() if shown.get(h) != real.get(h)]
    return "exact" if not differ else f"DIFFER for {len(differ)} of {len(real)}"


def count_agreement(
    shown: Mapping[str, int | str], before: Mapping[str, int | str], after: Mapping[str, int | str]
) -> str:
    """``exact`` when the daemon stood still and Peerdeck equals it; ``bracketed`` when the daemon moved on its
    own (hash checks finishing) and each of Peerdeck's counts lies between the daemon's reads taken more than a
    tick before and just after it, with the same total; otherwise ``DIFFER`` and the states that did."""

    def bracketed(state: str) -> bool:
        low, high = sorted((int(before.get(state, 0)), int(after.get(state, 0))))
        value = shown.get(state)
        return isinstance(value, int) and low <= value <= high

    differ = sorted(state for state in before.keys() | after.keys() | shown.keys() if not bracketed(state))
    if differ or before["total"] != after["total"]:
        return f"DIFFER ({', '.join(differ) or 'total moved'})"
    return "exact" if shown == before == after else "bracketed"


def full_read(path: str, query: Mapping[str, str]) -> bool:
    """Whether a request reads every torrent: ``sync/maindata``, or ``torrents/info`` not narrowed."""
    if path.endswith("/sync/maindata"):
        return True
    return path.endswith("/torrents/info") and query.get("filter", "all") == "all" and not LIST_NARROWING & set(query)


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
            finished = await populate(client, daemon, mix, total)
            if seeder is not None:
                await start_moving(daemon, seeder, mix.moving)
            print(f"  {mix.name}: {total:,} torrents added in {time.monotonic() - started:.0f} s", flush=True)
            await wait_until_quiet(daemon.pid)
            other = OtherProgram(daemon, mix.arrivals, finished) if mix.arrivals else None
            if other is not None:
                stack.callback(asyncio.create_task(other.run()).cancel)
            async with counting_proxy(daemon.url, label_params=("filter", "sort"), full_read=full_read) as proxy:
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
                if other is not None:
                    other.paused = True  # the reads compared: nothing changes between them
                    await asyncio.sleep(SETTLE_TICK)
                # The daemon's own work (hash checks) goes on: its reads bracket Peerdeck's last refresh.
                before_refresh, _ = await truth(client)
                await asyncio.sleep(SETTLE_TICK)
                shown = await entry_counts(hass, ours["entry_id"])
                shown_labels = await labels_shown(hass, ours["entry_id"])
                after_refresh, real_labels = await truth(client)
                if other is not None:
                    other.paused = False
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
    notes = [
        version,
        f"core's entry: {len(core_states)} enabled entities, {len(core_states) - len(blank)} with a value"
        + (f" (not: {', '.join(blank)})" if blank else ""),
        f"counts (per state and total) at the end of Peerdeck's window — "
        f"{count_agreement(shown, before_refresh, after_refresh)}: Peerdeck {_fmt(shown)}; "
        f"torrents/info {SETTLE_TICK:.0f} s before {_fmt(before_refresh)}, after {_fmt(after_refresh)}",
        "categories and tags from peerdeck.get_transfers vs torrents/info: "
        + label_differences(shown_labels, real_labels),
    ]
    if other is not None:
        notes.append(
            f"the other program: {other.added} added, {other.removed} removed, {other.relabelled} recategorised "
            "and retagged over the run" + (f"; it FAILED: {other.failure}" if other.failure else "")
        )
    return phases, [*notes, feed] if feed else notes


def _fmt(counts: Mapping[str, int | str]) -> str:
    return ", ".join(f"{state} {n:,}" if isinstance(n, int) else f"{state} {n}" for state, n in sorted(counts.items()))


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
        """Each client minus the idle windows bracketing it, as measured: below idle stays negative."""
        core_idle = (rate(before, name) + rate(between, name)) / 2
        our_idle = (rate(between, name) + rate(after, name)) / 2
        return [0.0, rate(core, name) - core_idle] + [rate(p, name) - our_idle for p in ours]

    def spread(name: str) -> float:
        """How far apart the idle windows were: a figure above idle smaller than this is noise."""
        idles = [rate(p, name) for p in (before, between, after)]
        return max(idles) - min(idles)

    def ratio(values: list[float], digits: int) -> str:
        return f"{values[2] / values[1]:.{digits}f}" if values[1] > 0 else "n/a (core not above idle)"

    daemon, main_thread, ha = per_minute("daemon"), per_minute("daemon main thread"), per_minute("ha")
    above, main_above, ha_above = above_idle("daemon"), above_idle("daemon main thread"), above_idle("ha")
    loop_wake_ups = [
        sum(p.per_minute(p.cpu.wake_ups["ha"]) for p in (before, between, after)) / 3,
        *(p.per_minute(p.cpu.wake_ups["ha"]) for p in watched),
    ]
    requests = [0.0] + [p.per_minute(p.wire.total_requests) for p in watched]
    full = [0.0] + [p.per_minute(p.wire.full_reads) for p in watched]
    down = [0.0] + [p.per_minute(p.wire.bytes_down) / 1000 for p in watched]
    rows = [
        ("daemon CPU ms/min", daemon, ratio(daemon, 3)),
        (f"daemon CPU ms/min above idle (idle spread {spread('daemon'):,.0f})", above, f"**{ratio(above, 3)}**"),
        ("daemon main thread (WebAPI) CPU ms/min", main_thread, ratio(main_thread, 3)),
        (
            f"daemon main thread above idle (idle spread {spread('daemon main thread'):,.0f})",
            main_above,
            ratio(main_above, 3),
        ),
        ("HA CPU ms/min", ha, f"**{ratio(ha, 2)}**"),
        (f"HA CPU ms/min above idle (idle spread {spread('ha'):,.0f})", ha_above, ratio(ha_above, 2)),
        ("HA event-loop wake-ups/min (its main thread's voluntary context switches)", loop_wake_ups, ""),
        ("full reads/min (sync/maindata or every torrent's record), as they happened", full, ratio(full, 3)),
        ("requests/min", requests, ""),
        ("KB/min received", down, ratio(down, 3)),
    ]
    for name, values, versus in rows:
        print(f"| {name} | {' | '.join(f'{v:,.1f}' for v in values)} | {versus} |")
    idle_daemon = " / ".join(f"{rate(p, 'daemon'):,.0f}" for p in (before, between, after))
    print(f"\nidle daemon before / between / after: {idle_daemon} ms/min")
    print(f"core's polls in its window: {core.cpu.wall / CORE_POLL:.0f} (at its {CORE_POLL:.0f} s)")
    for phase in watched:
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
            finished = False
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
                finished = True
            finally:
                hass.stop()
                problems = hass.log_problems("qbittorrent", "peerdeck")
                print(f"\nHome Assistant's log: {len(problems)} warnings or errors from qbittorrent or peerdeck")
                for line in problems[:LOG_LINES]:
                    print(f"  {line[:300]}")
                if not finished or problems:
                    print(f"Home Assistant's logs kept in {hass.keep_logs()}")
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
    parser.add_argument(
        "--window",
        type=float,
        default=CORE_POLL * (MIN_CORE_POLLS + 1),
        help=f"seconds measured per phase (at least {MIN_CORE_POLLS} of core's polls)",
    )
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
    if arguments.window < CORE_POLL * MIN_CORE_POLLS:
        parser.error(f"--window must hold at least {MIN_CORE_POLLS} of core's {CORE_POLL:.0f}-s polls")
    if arguments.stack == "current" and not os.environ.get("PEERDECK_IN_CURRENT_STACK"):
        in_current_stack(sys.argv[1:])
    sys.exit(asyncio.run(main(arguments)))
