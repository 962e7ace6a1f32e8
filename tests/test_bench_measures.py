"""What the real-HA bench measures with: its count check (a daemon that moves on its own, hash checks finishing, is
read twice) and its count of a process's wake-ups."""

from __future__ import annotations

import os
import time

from bench.qbittorrent_realha import count_agreement
from bench.realha import wake_ups

STILL = {"active": 10, "completed": 90, "total": 100}


def test_a_daemon_standing_still_must_equal_peerdeck() -> None:
    assert count_agreement(STILL, STILL, STILL) == "exact"
    assert count_agreement({**STILL, "active": 9}, STILL, STILL) == "DIFFER (active)"


def test_counts_between_the_two_reads_of_a_moving_daemon_are_bracketed() -> None:
    before = {"active": 12, "completed": 88, "total": 100}
    after = {"active": 8, "completed": 92, "total": 100}
    assert count_agreement(STILL, before, after) == "bracketed"
    assert count_agreement(STILL, after, before) == "bracketed", "either direction"
    assert count_agreement({**STILL, "completed": 93}, before, after) == "DIFFER (completed)"


def test_a_state_peerdeck_does_not_show_or_a_total_that_moved_differs() -> None:
    assert count_agreement({"active": 10, "total": 100}, STILL, STILL) == "DIFFER (completed)"
    assert count_agreement({**STILL, "failed": "?"}, STILL, STILL) == "DIFFER (failed)"
    assert count_agreement(STILL, STILL, {**STILL, "completed": 91, "total": 101}) == "DIFFER (total moved)"


def test_each_sleep_of_a_thread_is_one_wake_up_more() -> None:
    before = wake_ups(os.getpid())
    for _ in range(5):
        time.sleep(0.01)
    assert wake_ups(os.getpid()) - before >= 5
