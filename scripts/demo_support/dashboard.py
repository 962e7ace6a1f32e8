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
WIDE = ("switch.", "event.")
"""Tiles that take a section's full width: a toggle under the name, or a date as the state."""

SHORT_NAMES = {
    "transfers_active": "Active",
    "transfers_completed": "Completed",
    "transfers_paused": "Paused",
    "transfers_queued": "Queued",
    "transfers_failed": "Failed",
    "transfers_cancelled": "Cancelled",
    "transfers_total": "All transfers",
    "alltime_download": "Downloaded",
    "alltime_upload": "Uploaded",
}
"""Count tiles say "3 transfers" as their state, so their names need not."""
HALF_WIDTH_CHARS = 14
"""The longest name a half-width tile shows whole at the demo's three columns; longer ones get the full width."""

CARD = {"type": "custom:peerdeck-transfers-card"}
"""Peerdeck's own card, every entry merged, all defaults: what a user gets from the card picker."""


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
        card["features_position"] = "bottom"  # inline, the switch would cut a long name short
    if entity_id.startswith(WIDE) or len(name or "") > HALF_WIDTH_CHARS:
        card["grid_options"] = {"columns": "full"}
    return card


def build_dashboard(
    entries: Iterable[Mapping[str, Any]],
    registry: Iterable[Mapping[str, Any]],
    states: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    intro: str = "",
) -> dict[str, Any]:
    """A sections view led by the transfers card, then one section per Peerdeck config entry, a tile per entity.

    Tiles are named without the device (entry) title, which the section heading already shows.
    """
    states = states or {}

    def name(entity: Mapping[str, Any], title: str, key: str) -> str | None:
        if key in SHORT_NAMES:
            return SHORT_NAMES[key]
        friendly = str(states.get(str(entity["entity_id"]), {}).get("attributes", {}).get("friendly_name") or "")
        return friendly.removeprefix(title).strip() or None

    entities = [e for e in registry if e.get("platform") == "peerdeck" and not e.get("disabled_by")]
    sections: list[dict[str, Any]] = [{"type": "grid", "column_span": 2, "cards": [CARD]}]
    if intro:
        sections.append({"type": "grid", "cards": [{"type": "markdown", "content": intro}]})
    for entry in entries:
        entry_id = str(entry["entry_id"])
        mine = [e for e in entities if e.get("config_entry_id") == entry_id]
        mine.sort(key=lambda e: _rank(_key(e, entry_id)))
        cards: list[dict[str, Any]] = [{"type": "heading", "heading": str(entry["title"]), "heading_style": "title"}]
        title = str(entry["title"])
        cards += [_tile(str(e["entity_id"]), name(e, title, _key(e, entry_id))) for e in mine]
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
