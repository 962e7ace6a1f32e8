"""What the Discord bot's state file costs: size, time per save, and writes per day and per poll.

Part 1 builds the state a busy bot carries — 50 remembered slskd searches of 100 hits each, hits
shaped like slskd's (the file's attributes in ``raw``) — and measures side by side in one run:

* before — every hit stored whole (its daemon data included) and the file rewritten, with fsync,
  after every poll, changed or not (the store as it was);
* now    — hits cut to what the result menu and Enqueue need, and the file written only when the
  state changed (a poll with nothing new writes nothing).

Writes per day are for the default ``poll_interval`` of 30 s with no state change, the common case.

Part 2 (issue 27) is a seedbox with ``--transfers`` torrents (40-character ids, release-style names,
all but five finished), followed by the real service over an in-process daemon:

* before — the transfer tracker's state saved as the library exports it (id, name, state, done);
* now    — what the bot stores: the unfinished transfers' states by id, a 6-byte digest per finished one;
* writes in one poll-and-notify round in which one transfer completes (counted by the store).

    .venv/bin/python -m bench.bot_state_bench [--searches 50] [--hits 100] [--saves 20] [--transfers 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "shared" / "src"), str(REPO / "bot" / "src")]

from collections.abc import Mapping, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from peerdeck import (  # noqa: E402
    BackendKind,
    Capabilities,
    SearchHit,
    Status,
    Transfer,
    TransferState,
    TransferTracker,
    Update,
)
from peerdeck_bot.config import parse_config  # noqa: E402
from peerdeck_bot.service import PeerdeckService, _compact  # noqa: E402
from peerdeck_bot.state import Delivery, SearchRecord, StateStore, _dump, _write_atomic, pack_tracker  # noqa: E402

POLLS_PER_DAY = 24 * 3600 // 30


def slskd_hit(search: int, index: int) -> SearchHit:
    """A hit as slskd's backend builds it: the whole file record plus user, search id and speed."""
    filename = f"@@music\\Artist {search}\\Album {index // 12}\\{index:02d} - Track {index}.flac"
    file = {
        "filename": filename,
        "size": 31_000_000 + index,
        "bitRate": 1411,
        "bitDepth": 16,
        "sampleRate": 44100,
        "length": 245,
        "isVariableBitRate": False,
        "extension": "flac",
        "code": 1,
        "isLocked": False,
        "attributes": [{"type": t, "value": v} for t, v in ((0, 1411), (1, 245), (4, 44100), (5, 16))],
    }
    return SearchHit(
        id=f"user{index}/{filename}",
        title=f"{index:02d} - Track {index}.flac",
        size=file["size"],
        source=f"user{index}",
        bitrate=1411,
        queue_length=index % 7,
        free_slot=index % 3 == 0,
        raw={**file, "username": f"user{index}", "searchId": f"{search:08d}-aaaa-bbbb", "uploadSpeed": 123456},
    )


def build(searches: int, hits: int, *, compact: bool) -> StateStore:
    store = StateStore(Path("unused"))
    for s in range(searches):
        record = SearchRecord(f"{s:010x}", 100000000000000000 + s % 5, "music", f"query {s}")
        for i in range(hits):
            hit = slskd_hit(s, i)
            record.hits.append(_compact(hit, BackendKind.SLSKD) if compact else hit)
        record.done = True
        store.add_search(record)
    return store


def time_saves(text: str, path: Path, saves: int) -> float:
    """Median seconds of one atomic write with fsync."""
    samples = []
    for _ in range(saves):
        start = time.perf_counter()
        _write_atomic(path, text)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def writes_when_idle(path: Path, polls: int) -> int:
    """How many of ``polls`` unchanged saves of the file at ``path`` reach the disk with the current store."""
    store = StateStore(path)
    await store.load()
    for _ in range(polls):
        await store.save()
    return store.writes


class Seedbox:
    """Just enough of a daemon for the service's poll: a fixed list of transfers behind a real tracker."""

    kind = BackendKind.QBITTORRENT
    capabilities = Capabilities()

    def __init__(self, count: int) -> None:
        self.items = {
            f"{i:040x}": Transfer(
                f"{i:040x}",
                f"Some.Long.Release.Name.{i}.2024.1080p.WEB-DL.DDP5.1.H.264-GROUP",
                TransferState.ACTIVE if i >= count - 5 else TransferState.COMPLETED,
                progress=0.5 if i >= count - 5 else 1.0,
            )
            for i in range(count)
        }
        self.tracker = TransferTracker()

    async def update(self) -> Update:
        return Update(Status(connected=True), dict(self.items), tuple(self.tracker.observe(self.items)))

    def export_state(self) -> dict[str, Any]:
        return dict(self.tracker.export_state())

    def restore_state(self, data: Mapping[str, Any]) -> None:
        self.tracker.restore_state(data)

    async def close(self) -> None:
        return None


async def transfer_round(count: int, directory: Path) -> tuple[dict[str, Any], int, int]:
    """The tracker's export after a first poll, then the store's writes over one round with one completion."""
    config = parse_config(
        {
            "discord": {"state_file": "state.json", "notify_channel_id": 1},
            "backends": {"seedbox": {"kind": "qbittorrent", "url": "http://127.0.0.1:1"}},
        },
        base_dir=directory,
    )
    daemon = Seedbox(count)
    service = PeerdeckService(config, backends={"seedbox": daemon})  # type: ignore[dict-item]
    await service.start()
    await service.poll()

    async def sent(_: str, __: Sequence[Delivery]) -> bool:
        return True

    await service.flush(sent)
    exported = daemon.export_state()
    before = service.store.writes
    last = f"{count - 1:040x}"
    daemon.items[last] = Transfer(last, daemon.items[last].name, TransferState.COMPLETED, progress=1.0)
    await service.poll()
    await service.flush(sent)
    writes = service.store.writes - before
    await service.close()
    return exported, writes, (directory / "state.json").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=50)
    parser.add_argument("--hits", type=int, default=100)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--transfers", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for label, compact in (("before", False), ("now", True)):
            store = build(args.searches, args.hits, compact=compact)
            text = json.dumps(_dump(store.state), separators=(",", ":"), default=str)
            seconds = time_saves(text, Path(tmp) / f"{label}.json", args.saves)
            rows.append((label, len(text.encode()), seconds, text))
        idle = asyncio.run(writes_when_idle(Path(tmp) / "now.json", 100))
    print(f"{args.searches} searches x {args.hits} slskd hits; median of {args.saves} saves with fsync")
    print(f"{'':8}{'file size':>12}{'per save':>11}{'writes/day':>12}{'bytes/day':>12}")
    for label, size, seconds, _ in rows:
        per_day = POLLS_PER_DAY if label == "before" else POLLS_PER_DAY * idle // 100
        print(f"{label:8}{size / 1e6:>10.2f}MB{seconds * 1e3:>9.1f}ms{per_day:>12}{size * per_day / 1e9:>10.2f}GB")
    print(f"size ratio before/now: {rows[0][1] / rows[1][1]:.1f}x; unchanged polls that wrote now: {idle} of 100")
    with tempfile.TemporaryDirectory() as tmp:
        exported, writes, file_size = asyncio.run(transfer_round(args.transfers, Path(tmp)))
        sizes = []
        for label, tracker in (("before", exported), ("now", pack_tracker(exported))):
            text = json.dumps({"version": 1, "trackers": {"seedbox": tracker}}, separators=(",", ":"))
            seconds = time_saves(text, Path(tmp) / f"t-{label}.json", args.saves)
            sizes.append((label, len(text.encode()), seconds))
    print()
    print(f"{args.transfers} transfers (all but 5 finished); median of {args.saves} saves with fsync")
    print(f"{'':8}{'tracker state':>15}{'per save':>11}")
    for label, size, seconds in sizes:
        print(f"{label:8}{size / 1e6:>13.3f}MB{seconds * 1e3:>9.1f}ms")
    print(f"size ratio before/now: {sizes[0][1] / sizes[1][1]:.1f}x; whole state file now: {file_size / 1e6:.3f} MB")
    print(f"writes in one poll-and-notify round with one completion, now: {writes}")
    memo: dict[str, bytes] = {}
    start = time.perf_counter()
    pack_tracker(exported, memo)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.saves):
        pack_tracker(exported, memo)
    again = (time.perf_counter() - start) / args.saves
    print(f"packing the tracker state per poll: {first * 1e3:.1f} ms the first time, then {again * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
