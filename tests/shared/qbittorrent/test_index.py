"""The torrent index of the cheap update path: names, queued and checking sets as records change."""

from __future__ import annotations

import random

from peerdeck.qbittorrent.index import TorrentIndex


def test_records_keep_names_and_sets_in_step() -> None:
    index = TorrentIndex({"a" * 40: {"name": "one", "state": "queuedDL"}})
    assert index.queued == {"a" * 40}
    assert index.named(["one", "two"]) == ({"a" * 40}, {"two"})
    index.put({"hash": "a" * 40, "name": "renamed", "state": "checkingDL"})
    assert not index.queued and index.checking == {"a" * 40}
    assert index.named(["one"]) == (set(), {"one"})
    assert index.named(["renamed"]) == ({"a" * 40}, set())
    assert index.drop("a" * 40)
    assert not index.drop("a" * 40)
    assert not index.checking and not index.by_name


def test_same_name_names_every_torrent_with_it() -> None:
    index = TorrentIndex({"a" * 40: {"name": "same"}, "b" * 40: {"name": "same"}})
    assert index.named(["same"]) == ({"a" * 40, "b" * 40}, set())


def test_check_queue_front_follows_queue_positions_then_age() -> None:
    index = TorrentIndex(
        {
            "a" * 40: {"name": "a", "state": "checkingDL", "priority": 7, "added_on": 1},
            "b" * 40: {"name": "b", "state": "checkingDL", "priority": 2, "added_on": 5},
            "c" * 40: {"name": "c", "state": "checkingUP", "priority": 0, "added_on": 2},
            "d" * 40: {"name": "d", "state": "stalledDL", "priority": 1, "added_on": 0},
            "e" * 40: {"name": "e", "state": "checkingResumeData", "priority": 0, "added_on": 1},
        }
    )
    assert index.checking_front(3) == ["b" * 40, "a" * 40, "c" * 40]
    # Reading resume data is no queue: such a torrent is looked up on its own, never waits for the check queue.
    assert index.checking_front(10) == ["b" * 40, "a" * 40, "c" * 40]
    assert index.resuming == {"e" * 40}
    index.put({"hash": "e" * 40, "name": "e", "state": "pausedDL", "priority": 0, "added_on": 1})
    assert not index.resuming


def test_queue_front_slot_holders_and_metadata_follow_states() -> None:
    index = TorrentIndex(
        {
            "a" * 40: {"name": "a", "state": "queuedDL", "priority": 9},
            "b" * 40: {"name": "b", "state": "queuedDL", "priority": 4},
            "c" * 40: {"name": "c", "state": "downloading", "priority": 1},
            "d" * 40: {"name": "d", "state": "metaDL", "priority": 2},
            "e" * 40: {"name": "e", "state": "forcedDL", "priority": 3},
            "f" * 40: {"name": "f", "state": "queuedUP", "priority": 0},
        }
    )
    assert index.queue_front(1) == ["b" * 40]
    assert index.queue_front(5) == ["b" * 40, "a" * 40]
    assert index.holding_slots == {"c" * 40, "d" * 40}, "forced downloads bypass the queue"
    assert index.fetching_metadata == {"d" * 40}
    index.put({"hash": "d" * 40, "name": "real name", "state": "queuedDL", "priority": 2})
    assert index.queue_front(1) == ["d" * 40]
    assert index.holding_slots == {"c" * 40} and not index.fetching_metadata
    index.drop("c" * 40)
    assert not index.holding_slots


def test_queue_front_is_sorted_once_and_follows_leaves_and_joins() -> None:
    hashes = [f"{i:040x}" for i in range(10)]
    index = TorrentIndex({h: {"name": h, "state": "queuedDL", "priority": i + 1} for i, h in enumerate(hashes)})
    sorts = 0
    order = index._queue_front._order

    def counted(torrent_hash: str) -> tuple[float, float, str]:
        nonlocal sorts
        sorts += 1
        return order(torrent_hash)

    index._queue_front._order = counted
    assert index.queue_front(2) == hashes[:2]
    index.put({"hash": hashes[0], "name": hashes[0], "state": "downloading", "priority": 1})
    index.put({"hash": hashes[2], "name": hashes[2], "state": "downloading", "priority": 3})
    assert index.queue_front(2) == [hashes[1], hashes[3]]
    assert sorts == 10, "members leaving cost no new sort"
    index.put({"hash": hashes[0], "name": hashes[0], "state": "queuedDL", "priority": 1})
    assert index.queue_front(3) == [hashes[0], hashes[1], hashes[3]], "a torrent sent back takes its place"


def test_the_check_queue_stays_in_order_as_its_head_leaves_and_positions_move() -> None:
    """Kept sorted between reads (not sorted anew each tick): after every change the front equals a full sort
    of the torrents' positions as last read — the head leaving, the rest renumbered, one moved to the back,
    one added, one removed."""
    rng = random.Random(25)
    index = TorrentIndex(
        {f"{i:040x}": {"name": str(i), "state": "checkingDL", "priority": i + 1, "added_on": i} for i in range(60)}
    )

    def expected() -> list[str]:
        records = index.records
        return sorted(index.checking, key=lambda h: (records[h]["priority"], records[h]["added_on"], h))

    assert index.checking_front(5) == expected()[:5]
    for round_ in range(30):
        front = index.checking_front(8)
        for torrent_hash in front[:3]:  # the head finished its check: it seeds, out of the queue
            index.put({**index.records[torrent_hash], "hash": torrent_hash, "state": "stalledUP", "priority": 0})
        for torrent_hash in front[3:]:  # read again: qBittorrent renumbered them
            record = index.records[torrent_hash]
            index.put({**record, "hash": torrent_hash, "priority": record["priority"] - 3})
        if round_ % 5 == 0 and len(index.checking) > 1:
            moved = rng.choice(sorted(index.checking))
            index.put({**index.records[moved], "hash": moved, "priority": 10_000 + round_})
            added = f"{1000 + round_:040x}"
            index.put({"hash": added, "name": added, "state": "checkingDL", "priority": 5_000, "added_on": round_})
            index.drop(rng.choice(sorted(index.checking)))
        assert index.checking_front(8) == expected()[:8], round_
    assert index.checking_front(len(index.checking) + 5) == expected()
