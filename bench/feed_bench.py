"""The card's feed at 2,000 transfers: what one coordinator update costs, diff vs resending the list.

    .venv/bin/python -m bench.feed_bench             # --transfers 2000 --changed 10 --updates 200

Runs ``TransferFeed`` (custom_components/peerdeck/websocket.py) on snapshots like a qBittorrent
refresh gives: each update changes ``--changed`` transfers' progress, rates and ETA. Side by side, in
the same run: the diff the feed sends, against sending the whole list again (what a card re-reading
``peerdeck.get_transfers`` each refresh would get). CPU is this process's time; bytes are the JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from custom_components.peerdeck.coordinator import PeerdeckSnapshot
from custom_components.peerdeck.websocket import TransferFeed, transfer_row
from peerdeck import BackendKind, Capabilities, Status, Transfer, TransferState


def _transfers(count: int) -> dict[str, Transfer]:
    states = list(TransferState)
    return {
        f"{index:040x}": Transfer(
            id=f"{index:040x}",
            name=f"transfer-{index}.iso",
            state=states[index % 4],
            progress=random.random(),
            size=random.randrange(10**6, 10**10),
            download_rate=random.randrange(0, 5 * 10**6),
            category="linux",
            tags=("hd",),
        )
        for index in range(count)
    }


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--updates", type=int, default=200)
    args = parser.parse_args()
    random.seed(17)
    transfers = _transfers(args.transfers)
    coordinator = SimpleNamespace(
        data=PeerdeckSnapshot(Status(connected=True, download_rate=1, upload_rate=1), transfers),
        last_update_success=True,
        async_add_listener=lambda listener: lambda: None,
        backend=SimpleNamespace(kind=BackendKind.QBITTORRENT, capabilities=Capabilities()),
        config_entry=SimpleNamespace(entry_id="bench", title="qBittorrent"),
    )
    feed = TransferFeed(coordinator)  # type: ignore[arg-type]
    sent: list[dict[str, Any]] = []
    feed.async_subscribe(sent.append)
    full_bytes = len(json.dumps(sent[0]))
    diff_cpu, diff_bytes, full_cpu, resend_bytes = [], [], [], []
    ids = list(transfers)
    for _ in range(args.updates):
        for transfer_id in random.sample(ids, args.changed):
            transfers[transfer_id] = replace(
                transfers[transfer_id], progress=random.random(), download_rate=random.randrange(0, 5 * 10**6)
            )
        snapshot = PeerdeckSnapshot(Status(connected=True, download_rate=1, upload_rate=1), dict(transfers))
        coordinator.data = snapshot
        started = time.process_time()
        feed._async_updated()
        diff_cpu.append(time.process_time() - started)
        diff_bytes.append(len(json.dumps(sent[-1])))
        started = time.process_time()
        whole = json.dumps(
            {"transfers": [transfer_row(t, snapshot, coordinator.backend.kind) for t in snapshot.transfers.values()]}
        )
        full_cpu.append(time.process_time() - started)
        resend_bytes.append(len(whole))
    diff_ms, full_ms = statistics.median(diff_cpu) * 1000, statistics.median(full_cpu) * 1000
    diff_size, resend_size = statistics.median(diff_bytes), statistics.median(resend_bytes)
    print(f"{args.transfers} transfers, {args.changed} changed per update, {args.updates} updates")
    print(f"first message (the whole list)      {full_bytes:>10,} bytes")
    print(f"per update, the feed's diff         {diff_size:>10,.0f} bytes   {diff_ms:6.2f} ms CPU")
    print(f"per update, the whole list again    {resend_size:>10,.0f} bytes   {full_ms:6.2f} ms CPU")
    ratios = f"{resend_size / diff_size:.0f}x fewer bytes, {full_ms / diff_ms:.1f}x less CPU"
    print(f"ratio                               {ratios:>10}")


if __name__ == "__main__":
    main()
