"""Transfer events from snapshots: exactly one completion, nothing lost across restarts."""

from __future__ import annotations

from dataclasses import replace

from peerdeck import Transfer, TransferEventKind, TransferState, TransferTracker


def _t(tid: str, state: TransferState, progress: float = 0.0) -> Transfer:
    return Transfer(id=tid, name=f"name-{tid}", state=state, progress=progress)


def test_first_snapshot_only_primes() -> None:
    tracker = TransferTracker()
    assert tracker.observe([_t("a", TransferState.ACTIVE), _t("b", TransferState.COMPLETED, 1.0)]) == []
    assert tracker.primed


def test_completion_once_even_if_seen_again() -> None:
    tracker = TransferTracker()
    tracker.observe([_t("a", TransferState.ACTIVE, 0.5)])
    events = tracker.observe([_t("a", TransferState.COMPLETED, 1.0)])
    assert [e.kind for e in events] == [TransferEventKind.COMPLETED]
    assert events[0].previous_state is TransferState.ACTIVE
    # Paused after completion, then seeding again: state changes, but no second completion.
    events = tracker.observe([_t("a", TransferState.PAUSED, 1.0)])
    assert [e.kind for e in events] == [TransferEventKind.STATE_CHANGED]
    events = tracker.observe([_t("a", TransferState.COMPLETED, 1.0)])
    assert [e.kind for e in events] == [TransferEventKind.STATE_CHANGED]


def test_progress_reaching_one_completes_even_when_paused() -> None:
    tracker = TransferTracker()
    tracker.observe([_t("a", TransferState.ACTIVE, 0.9)])
    events = tracker.observe([_t("a", TransferState.PAUSED, 1.0)])
    assert [e.kind for e in events] == [TransferEventKind.COMPLETED]


def test_added_failed_removed() -> None:
    tracker = TransferTracker()
    tracker.observe([_t("a", TransferState.ACTIVE)])
    events = tracker.observe([_t("a", TransferState.FAILED), _t("b", TransferState.QUEUED)])
    kinds = sorted(e.kind.value for e in events)
    assert kinds == ["added", "failed"]
    events = tracker.observe([_t("a", TransferState.FAILED)])
    assert [(e.kind, e.transfer.id) for e in events] == [(TransferEventKind.REMOVED, "b")]


def test_added_already_complete_gets_both_events() -> None:
    tracker = TransferTracker()
    tracker.observe([])
    events = tracker.observe([_t("a", TransferState.COMPLETED, 1.0)])
    assert [e.kind for e in events] == [TransferEventKind.ADDED, TransferEventKind.COMPLETED]


def test_restore_reports_what_happened_while_away_once() -> None:
    first = TransferTracker()
    first.observe([_t("a", TransferState.ACTIVE, 0.2), _t("b", TransferState.COMPLETED, 1.0)])
    saved = first.export_state()

    second = TransferTracker()
    second.restore_state(saved)
    snapshot = [_t("a", TransferState.COMPLETED, 1.0), _t("b", TransferState.COMPLETED, 1.0)]
    events = second.observe(snapshot)
    assert [(e.kind, e.transfer.id) for e in events] == [(TransferEventKind.COMPLETED, "a")]
    assert second.observe(snapshot) == []


def test_restore_ignores_unknown_states() -> None:
    tracker = TransferTracker()
    tracker.restore_state({"a": {"state": "weird"}, "b": {"state": "active", "name": "b"}})
    events = tracker.observe([replace(_t("b", TransferState.ACTIVE), name="b")])
    assert events == []


def test_the_export_follows_each_change_and_a_taken_export_never_changes() -> None:
    """Kept in step with each change (not rebuilt per save): what it gives equals what was seen, and an
    export already handed to a delayed save is not altered by later changes."""
    tracker = TransferTracker()
    tracker.observe([_t("a", TransferState.ACTIVE, 0.2), _t("b", TransferState.QUEUED, 0.0)])
    before = tracker.export_state()
    tracker.observe_changes([_t("a", TransferState.COMPLETED, 1.0), _t("c", TransferState.ACTIVE, 0.1)], ["b"])
    assert tracker.export_state() == {
        "a": {"name": "name-a", "state": "completed", "done": True},
        "c": {"name": "name-c", "state": "active", "done": False},
    }
    assert before == {
        "a": {"name": "name-a", "state": "active", "done": False},
        "b": {"name": "name-b", "state": "queued", "done": False},
    }
    tracker.observe([_t("c", TransferState.PAUSED, 0.1)])
    assert tracker.export_state() == {"c": {"name": "name-c", "state": "paused", "done": False}}
    restored = TransferTracker()
    restored.restore_state(tracker.export_state())
    assert restored.export_state() == tracker.export_state()
