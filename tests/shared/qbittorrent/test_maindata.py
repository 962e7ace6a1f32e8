"""The sync/maindata merger, fed with recorded real answers and the delta rules."""

from __future__ import annotations

import copy

import pytest

from peerdeck import PeerdeckInvalidResponseError
from peerdeck.qbittorrent import MaindataState

from ..samples import sample_json


def test_recorded_full_then_deltas() -> None:
    state = MaindataState()
    full = sample_json("qbittorrent", "sync_maindata_full_empty")
    changes = state.apply(full)
    assert changes.full_update and not changes.added
    assert state.server_state["free_space_on_disk"] == full["server_state"]["free_space_on_disk"]

    after_add = sample_json("qbittorrent", "sync_maindata_delta_after_add")
    changes = state.apply(after_add)
    assert changes.added == set(after_add["torrents"])
    assert state.rid == after_add["rid"]
    # A partial server_state updates one field and keeps the others.
    assert state.server_state["average_time_queue"] == after_add["server_state"]["average_time_queue"]
    assert state.server_state["free_space_on_disk"] == full["server_state"]["free_space_on_disk"]

    after_resume = sample_json("qbittorrent", "sync_maindata_delta_after_resume")
    (changed_hash,) = after_resume["torrents"]
    before = copy.deepcopy(state.torrents[changed_hash])
    changes = state.apply(after_resume)
    assert changes.updated == {changed_hash}
    merged = state.torrents[changed_hash]
    for key, value in after_resume["torrents"][changed_hash].items():
        assert merged[key] == value
    # Fields absent from the delta are kept.
    assert merged["name"] == before["name"]
    assert merged["size"] == before["size"]


def test_removals_categories_tags_trackers() -> None:
    state = MaindataState()
    state.apply(
        {
            "rid": 1,
            "full_update": True,
            "torrents": {"a" * 40: {"name": "A", "state": "pausedDL"}, "b" * 40: {"name": "B"}},
            "categories": {"tv": {"name": "tv", "savePath": "/tv"}},
            "tags": ["x", "y"],
            "trackers": {"http://t/announce": ["a" * 40]},
        }
    )
    changes = state.apply(
        {
            "rid": 2,
            "torrents_removed": ["b" * 40],
            "categories": {"tv": {"savePath": "/series"}},
            "categories_removed": [],
            "tags_removed": ["x"],
            "trackers_removed": ["http://t/announce"],
        }
    )
    assert changes.removed == {"b" * 40}
    assert set(state.torrents) == {"a" * 40}
    assert state.categories["tv"] == {"name": "tv", "savePath": "/series"}
    assert state.tags == {"y"}
    assert state.trackers == {}


def test_full_update_replaces_and_reports_vanished() -> None:
    state = MaindataState()
    state.apply({"rid": 1, "full_update": True, "torrents": {"a" * 40: {"name": "A"}, "b" * 40: {"name": "B"}}})
    changes = state.apply({"rid": 7, "full_update": True, "torrents": {"a" * 40: {"name": "A2"}, "c" * 40: {}}})
    assert changes.removed == {"b" * 40}
    assert changes.added == {"c" * 40}
    assert changes.updated == {"a" * 40}
    assert state.torrents["a" * 40] == {"name": "A2"}
    state.reset()
    assert state.rid == 0
    assert state.torrents == {}


@pytest.mark.parametrize("bad", [{}, {"rid": "1"}, {"rid": 1, "torrents": []}, []])
def test_malformed_answers(bad: object) -> None:
    with pytest.raises(PeerdeckInvalidResponseError):
        MaindataState().apply(bad)  # type: ignore[arg-type]
