"""Keeps qBittorrent's full state from ``sync/maindata`` deltas.

qBittorrent answers ``sync/maindata?rid=N`` with only what changed since answer N: partial
torrent records, ``*_removed`` lists and a partial ``server_state``. It sends a full update
(``full_update: true``) when it does not know N. This class applies either kind, so callers
always see complete records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import PeerdeckInvalidResponseError

JsonObject = dict[str, Any]


@dataclass(slots=True)
class MaindataChanges:
    """What one merge changed: hashes of torrents added, updated and removed."""

    full_update: bool = False
    added: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


class MaindataState:
    """The merged picture of one ``sync/maindata`` consumer (one per web session)."""

    def __init__(self) -> None:
        self.rid = 0
        self.torrents: dict[str, JsonObject] = {}
        self.categories: dict[str, JsonObject] = {}
        self.tags: set[str] = set()
        self.trackers: dict[str, list[str]] = {}
        self.server_state: JsonObject = {}

    def reset(self) -> None:
        """Forget everything; the next request asks for a full update (rid 0)."""
        self.rid = 0
        self._clear()

    def _clear(self) -> None:
        self.torrents = {}
        self.categories = {}
        self.tags = set()
        self.trackers = {}
        self.server_state = {}

    def apply(self, data: Mapping[str, Any]) -> MaindataChanges:
        """Merge one answer of ``sync/maindata`` and return what it changed."""
        if not isinstance(data, Mapping) or not isinstance(data.get("rid"), int):
            raise PeerdeckInvalidResponseError("qBittorrent sent sync/maindata without a numeric rid")
        changes = MaindataChanges(full_update=bool(data.get("full_update")))
        if changes.full_update:
            previous = set(self.torrents)
            self._clear()
        else:
            previous = set()
        for torrent_hash, fields in _mapping(data.get("torrents")).items():
            known = self.torrents.get(torrent_hash)
            if known is None:
                self.torrents[torrent_hash] = dict(_mapping(fields))
                if not changes.full_update or torrent_hash not in previous:
                    changes.added.add(torrent_hash)
                else:
                    changes.updated.add(torrent_hash)
            else:
                known.update(_mapping(fields))
                changes.updated.add(torrent_hash)
        for torrent_hash in data.get("torrents_removed") or ():
            if self.torrents.pop(torrent_hash, None) is not None:
                changes.removed.add(torrent_hash)
        if changes.full_update:
            changes.removed |= previous - set(self.torrents)
        for name, fields in _mapping(data.get("categories")).items():
            self.categories.setdefault(name, {}).update(_mapping(fields))
        for name in data.get("categories_removed") or ():
            self.categories.pop(name, None)
        self.tags.update(data.get("tags") or ())
        self.tags.difference_update(data.get("tags_removed") or ())
        for url, hashes in _mapping(data.get("trackers")).items():
            self.trackers[url] = list(hashes)
        for url in data.get("trackers_removed") or ():
            self.trackers.pop(url, None)
        self.server_state.update(_mapping(data.get("server_state")))
        self.rid = int(data["rid"])
        return changes


def _mapping(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PeerdeckInvalidResponseError("qBittorrent sent sync/maindata with an unexpected shape")
    return value
