"""The Python work a qBittorrent refresh does in Home Assistant, this checkout against an earlier revision.

Two pieces the checking mix's profile inside a real Home Assistant showed (py-spy, issue 25), each timed
per refresh, side by side in one run with the modules of ``--against`` (default ``HEAD~1``) loaded
from git:

* the hash-check queue's front — read, its head (``--finish`` torrents) leaves for seeding, the rest
  of the front read again with the positions qBittorrent renumbered (all moved up by ``--finish``);
* the event tracker — ``--finish`` transfers completed (``observe_changes``), then the state the
  coordinator hands to the delayed save (``export_state``).

    .venv/bin/python -m bench.tick_work_bench [--against REV] [--torrents 2000,20000] [--ticks 60] [--finish 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from peerdeck import Transfer, TransferState
from peerdeck import tracker as tracker_now
from peerdeck.qbittorrent import index as index_now

REPO = Path(__file__).resolve().parents[1]


def load_revision(revision: str, path: str, name: str, folder: Path) -> ModuleType:
    """The module at ``path`` as it was at ``revision`` (its relative imports resolve to this checkout's)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    file = folder / f"{name.rpartition('.')[2]}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} of {revision}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_queue_tick(module: Any, torrents: int, ticks: int, finish: int) -> list[float]:
    """Milliseconds per refresh spent on the check queue's front."""
    index = module.TorrentIndex(
        {
            f"{i:040x}": {"name": str(i), "state": "checkingDL", "priority": i + 1, "added_on": i}
            for i in range(torrents)
        }
    )
    window = finish + 2
    index.checking_front(window)
    spent = []
    for _ in range(ticks):
        begin = time.perf_counter()
        front = index.checking_front(window)
        for torrent_hash in front[:finish]:
            index.put({**index.records[torrent_hash], "hash": torrent_hash, "state": "stalledUP", "priority": 0})
        for torrent_hash in front[finish:]:
            record = index.records[torrent_hash]
            index.put({**record, "hash": torrent_hash, "priority": record["priority"] - finish})
        index.checking_front(window)
        spent.append((time.perf_counter() - begin) * 1000)
    return spent


def tracker_tick(module: Any, torrents: int, ticks: int, finish: int) -> list[float]:
    """Milliseconds per refresh spent announcing ``finish`` completions and exporting the state to save."""
    tracker = module.TransferTracker()
    tracker.observe([Transfer(id=f"{i:040x}", name=str(i), state=TransferState.ACTIVE) for i in range(torrents)])
    spent = []
    for tick in range(ticks):
        done = [
            Transfer(id=f"{i:040x}", name=str(i), state=TransferState.COMPLETED, progress=1.0)
            for i in range(tick * finish, (tick + 1) * finish)
        ]
        begin = time.perf_counter()
        tracker.observe_changes(done)
        tracker.export_state()
        spent.append((time.perf_counter() - begin) * 1000)
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD~1")
    parser.add_argument("--torrents", type=lambda text: [int(n) for n in text.split(",")], default=[2000, 20000])
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--finish", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before_index = load_revision(
            args.against, "shared/src/peerdeck/qbittorrent/index.py", "peerdeck.qbittorrent.index_then", Path(folder)
        )
        before_tracker = load_revision(
            args.against, "shared/src/peerdeck/tracker.py", "peerdeck.tracker_then", Path(folder)
        )
    pieces: list[tuple[str, Callable[[Any, int, int, int], list[float]], Any, Any]] = [
        ("check queue front", check_queue_tick, before_index, index_now),
        ("tracker + export", tracker_tick, before_tracker, tracker_now),
    ]
    print(f"per refresh, {args.ticks} refreshes, {args.finish} torrents finishing each; {args.against} → this checkout")
    for torrents in args.torrents:
        for name, measure, then, now in pieces:
            figures = []
            for module in (then, now):
                spent = measure(module, torrents, args.ticks, args.finish)
                figures.append(
                    f"median {statistics.median(spent):7.3f} ms (min {min(spent):.3f}, max {max(spent):.3f})"
                )
            print(f"{torrents:>7,} torrents, {name:<18} {figures[0]}  →  {figures[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
