"""Build the demo's dashboard from the Peerdeck entities Home Assistant actually created."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ORDER = (
    "download_speed",
    "upload_speed",
    "transfers_active",
    "transfers_completed",
    "transfers_paused",
    "transfers_queued",
    "transfers_failed",
    "transfers_cancelled",
    "transfers_total",
    "free_space",
    "alltime_download",
    "alltime_upload",
    "global_ratio",
    "pause_all",
    "alternative_speed",
    "transfer",
    "reannounce",
    "connection",
)
"""Entity keys in the order they are shown; keys not listed (folders, peers, …) follow, sorted."""

TOGGLES = ("switch.",)


def _key(entity: Mapping[str, Any], entry_id: str) -> str:
    unique_id = str(entity.get("unique_id") or "")
    prefix = f"{entry_id}_"
    return unique_id[len(prefix) :] if unique_id.startswith(prefix) else unique_id


def _rank(key: str) -> tuple[int, str]:
    return (ORDER.index(key), "") if key in ORDER else (len(ORDER), key)


def _tile(entity_id: str, name: str | None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "tile", "entity": entity_id}
    if name:
        card["name"] = name
    if entity_id.startswith(TOGGLES):
        card["features"] = [{"type": "toggle"}]
        card["features_position"] = "inline"
    return card


def build_dashboard(
    entries: Iterable[Mapping[str, Any]],
    registry: Iterable[Mapping[str, Any]],
    states: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    intro: str = "",
) -> dict[str, Any]:
    """A sections view with one section per Peerdeck config entry, a tile per enabled entity.

    Tiles are named without the device (entry) title, which the section heading already shows.
    """
    states = states or {}

    def name(entity_id: str, title: str) -> str | None:
        friendly = str(states.get(entity_id, {}).get("attributes", {}).get("friendly_name") or "")
        return friendly.removeprefix(title).strip() or None

    entities = [e for e in registry if e.get("platform") == "peerdeck" and not e.get("disabled_by")]
    sections: list[dict[str, Any]] = []
    if intro:
        sections.append({"type": "grid", "cards": [{"type": "markdown", "content": intro}]})
    for entry in entries:
        entry_id = str(entry["entry_id"])
        mine = [e for e in entities if e.get("config_entry_id") == entry_id]
        mine.sort(key=lambda e: _rank(_key(e, entry_id)))
        cards: list[dict[str, Any]] = [{"type": "heading", "heading": str(entry["title"]), "heading_style": "title"}]
        cards += [_tile(str(e["entity_id"]), name(str(e["entity_id"]), str(entry["title"]))) for e in mine]
        sections.append({"type": "grid", "cards": cards})
    return {
        "title": "Peerdeck",
        "views": [
            {
                "title": "Peerdeck",
                "path": "peerdeck",
                "icon": "mdi:swap-vertical-bold",
                "type": "sections",
                "max_columns": 3,
                "sections": sections,
            }
        ],
    }
