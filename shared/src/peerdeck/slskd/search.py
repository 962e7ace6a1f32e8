"""A slskd search that returns what slskd found, within the caller's time.

slskd keeps a search's responses in memory and writes them to the record only when the search
has ended (with ``endedAt``); until then ``GET /searches/{id}/responses`` is empty. Its
``searchTimeout`` is an *inactivity* timeout, restarted by every response, so a busy search
would outlive any deadline. So the search is stopped (``PUT``) a little before the caller's
deadline, read once when slskd says it ended *and* wrote its responses, then deleted. Queued
searches (0.24+ runs two at once) and the moment between the final state and the responses
being written are covered by the same wait.

The responses become folder hits (one per user and folder, as Soulseek users fetch albums) and
file hits, each ranked: free upload slot first, then upload speed, then (folders) how many
files the folder holds, then the shortest queue.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import PeerdeckError, PeerdeckNotFoundError
from ..models import HitFolder, SearchHit
from .client import JsonObject, SlskdClient
from .states import search_is_complete

READ_SHARE = 0.15
"""Share of the caller's time kept for slskd to finish the stopped search and for the read."""
READ_MARGIN = (0.3, 3.0)
"""Bounds of that margin, in seconds."""
INACTIVITY_MS = 15_000
"""slskd's own default search timeout; a shorter time left is sent instead."""
FOLDER_MIN_FILES = 2
"""A folder with fewer matching files is offered as file hits only."""


def folder_of(path: str) -> str:
    """The remote folder of a Soulseek path (``\\`` from Windows peers, or ``/``)."""
    cut = max(path.rfind("\\"), path.rfind("/"))
    return path[:cut] if cut > 0 else ""


def basename(path: str) -> str:
    """What follows the last separator of a Soulseek path."""
    cut = max(path.rfind("\\"), path.rfind("/"))
    return path[cut + 1 :] or path


async def run_search(client: SlskdClient, query: str, timeout: float, poll: float) -> tuple[str, list[JsonObject]]:
    """Start, stop in time, wait until slskd wrote the responses, read them; the search is deleted after."""
    started = time.monotonic()
    deadline = started + timeout
    margin = min(max(timeout * READ_SHARE, READ_MARGIN[0]), READ_MARGIN[1], timeout / 2)
    stop_at = deadline - margin
    inactivity = max(1000, min(INACTIVITY_MS, int((stop_at - started) * 1000)))
    search = await client.searches_create(query, search_timeout=inactivity)
    search_id = str(search.get("id"))
    try:
        stopped = False
        while True:
            state = await client.search(search_id)
            if search_is_complete(state.get("state")) and state.get("endedAt"):
                break
            now = time.monotonic()
            if now >= deadline:
                break  # read what slskd has; it may still be writing
            if now >= stop_at and not stopped:
                await _stop(client, search_id)
                stopped = True
            next_mark = deadline if stopped else stop_at
            await asyncio.sleep(max(0.01, min(poll, next_mark - now)))
        return search_id, await client.search_responses(search_id)
    finally:
        await asyncio.shield(delete_search(client, search_id))


async def _stop(client: SlskdClient, search_id: str) -> None:
    try:
        await client.search_stop(search_id)
    except PeerdeckNotFoundError:
        return  # already ended and pruned


async def delete_search(client: SlskdClient, search_id: str) -> None:
    """Best effort: a failed clean-up must not mask the search's outcome (slskd prunes old searches)."""
    try:
        await client.search_delete(search_id)
    except PeerdeckError:
        return


def build_hits(search_id: str, responses: Sequence[Mapping[str, Any]]) -> list[SearchHit]:
    """Folder hits (ranked) then file hits (ranked) from slskd's responses; locked files are left out."""
    folders: list[tuple[tuple[Any, ...], SearchHit]] = []
    files: list[tuple[tuple[Any, ...], SearchHit]] = []
    for response in responses:
        peer = _Peer.of(response)
        grouped: dict[str, list[Mapping[str, Any]]] = {}
        for item in response.get("files") or []:
            if isinstance(item, Mapping) and not item.get("isLocked") and item.get("filename"):
                grouped.setdefault(folder_of(str(item["filename"])), []).append(item)
                files.append((peer.rank(), _file_hit(search_id, peer, item)))
        for path, items in grouped.items():
            if len(items) >= FOLDER_MIN_FILES:
                folders.append(((*peer.rank(), -len(items)), _folder_hit(search_id, peer, path, items)))
    return [hit for _, hit in sorted(folders, key=lambda pair: pair[0])] + [
        hit for _, hit in sorted(files, key=lambda pair: pair[0])
    ]


class _Peer:
    """What a response says about the user who sent it."""

    __slots__ = ("free_slot", "queue_length", "speed", "username")

    def __init__(self, username: str, free_slot: bool, speed: int, queue_length: int) -> None:
        self.username = username
        self.free_slot = free_slot
        self.speed = speed
        self.queue_length = queue_length

    @classmethod
    def of(cls, response: Mapping[str, Any]) -> _Peer:
        return cls(
            str(response.get("username", "")),
            bool(response.get("hasFreeUploadSlot")),
            _int(response.get("uploadSpeed")) or 0,
            _int(response.get("queueLength")) or 0,
        )

    def rank(self) -> tuple[Any, ...]:
        return (not self.free_slot, -self.speed, self.queue_length)


def _file_hit(search_id: str, peer: _Peer, item: Mapping[str, Any]) -> SearchHit:
    filename = str(item["filename"])
    size = _int(item.get("size"))
    return SearchHit(
        id=f"{peer.username}/{filename}",
        title=basename(filename),
        size=size,
        source=peer.username,
        bitrate=_int(item.get("bitRate")),
        queue_length=peer.queue_length,
        free_slot=peer.free_slot,
        raw={
            **dict(item),
            "username": peer.username,
            "filename": filename,
            "size": size,
            "searchId": search_id,
            "uploadSpeed": peer.speed,
        },
    )


def _folder_hit(search_id: str, peer: _Peer, path: str, items: list[Mapping[str, Any]]) -> SearchHit:
    listed = tuple((str(i["filename"]), _int(i.get("size")) or 0) for i in items)
    rates = [rate for i in items if (rate := _int(i.get("bitRate"))) is not None]
    formats = Counter(_extension(i) for i in items)
    formats.pop("", None)
    folder = HitFolder(
        path=path,
        files=listed,
        formats=tuple(name for name, _ in formats.most_common()),
        bitrate_min=min(rates) if rates else None,
        bitrate_max=max(rates) if rates else None,
    )
    return SearchHit(
        id=f"folder:{peer.username}/{path}",
        title=basename(path) or path,
        size=sum(size for _, size in listed),
        source=peer.username,
        bitrate=folder.bitrate_min,
        queue_length=peer.queue_length,
        free_slot=peer.free_slot,
        raw={
            "username": peer.username,
            "directory": path,
            "fileCount": len(listed),
            "searchId": search_id,
            "uploadSpeed": peer.speed,
        },
        folder=folder,
    )


def _extension(item: Mapping[str, Any]) -> str:
    given = item.get("extension")
    if isinstance(given, str) and given:
        return given.lower().lstrip(".")
    _, dot, extension = basename(str(item.get("filename", ""))).rpartition(".")
    return extension.lower() if dot else ""


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None
