"""Tribler 8 behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

Tribler pushes what changes, so events come from its event stream rather than from
polling: each ``torrent_status_changed`` or ``torrent_finished`` triggers one read of
``/api/downloads`` that a :class:`TransferTracker` turns into events (so a download
finishes exactly once however many frames mention it), each (re)connection resynchronises
(nothing is replayed for missed frames), and a quiet stream is reconciled every
``interval`` seconds to notice additions and removals Tribler does not announce.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from ..backend import TrackedBackend, count_states
from ..client import DEFAULT_TIMEOUT
from ..exceptions import PeerdeckError, PeerdeckInputError, PeerdeckNotSupportedError
from ..models import (
    ALL,
    BackendInfo,
    BackendKind,
    Capabilities,
    Credentials,
    EnqueueOptions,
    EnqueueTarget,
    Magnet,
    SearchHit,
    SearchKind,
    Status,
    TorrentFile,
    TorrentUrl,
    Transfer,
    TransferEvent,
    TransferSelector,
    TransferState,
)
from ..validation import validate_info_hash
from .client import TriblerClient
from .sse import Backoff, EventsStart, RemoteQueryResults, TorrentFinished, TorrentStatusChanged, TriblerEvent

STATUS_MAP: dict[str, TransferState] = {
    "WAITING_FOR_HASHCHECK": TransferState.QUEUED,
    "QUEUED": TransferState.QUEUED,
    "SEEDING": TransferState.COMPLETED,
    "STOPPED_ON_ERROR": TransferState.FAILED,
}
"""``DownloadStatus`` names that are not plain "active" (STOPPED depends on who stopped it)."""

_NO_ETA = 365 * 24 * 3600
"""Tribler's ETA divides by a near-zero rate when stalled; anything beyond a year means unknown."""


def to_transfer(record: Mapping[str, Any]) -> Transfer:
    """Map one ``/api/downloads`` record onto a :class:`Transfer`."""
    infohash = str(record.get("infohash", "")).lower()
    status = str(record.get("status", ""))
    progress = float(record.get("progress") or 0.0)
    if status == "STOPPED":
        # Finished downloads stopped by their seeding ratio are complete, not paused.
        done = progress >= 1.0 and not record.get("user_stopped", True)
        state = TransferState.COMPLETED if done else TransferState.PAUSED
    else:
        state = STATUS_MAP.get(status, TransferState.ACTIVE)
    size = _opt_int(record.get("size"))
    eta = record.get("eta")
    speed_down = int(record.get("speed_down") or 0)
    return Transfer(
        id=infohash,
        name=str(record.get("name") or infohash),
        state=state,
        progress=progress,
        size=size,
        done_bytes=int(size * progress) if size is not None else None,
        download_rate=speed_down,
        upload_rate=int(record.get("speed_up") or 0),
        eta=float(eta) if isinstance(eta, int | float) and speed_down > 0 and 0 <= eta < _NO_ETA else None,
        save_path=str(record.get("destination") or "") or None,
        added_at=_timestamp(record.get("time_added")),
        completed_at=_timestamp(record.get("time_finished")),
        raw=dict(record),
    )


def to_search_hit(result: Mapping[str, Any], peer: str | None = None) -> SearchHit | None:
    """A torrent from a search result (channels and other entries without an info-hash are skipped)."""
    infohash = str(result.get("infohash") or "").lower()
    if len(infohash) not in (40, 64):
        return None
    name = str(result.get("name") or infohash)
    return SearchHit(
        id=infohash,
        title=name,
        size=_opt_int(result.get("size")),
        source=peer or None,
        seeders=_opt_int(result.get("num_seeders")),
        leechers=_opt_int(result.get("num_leechers")),
        link=f"magnet:?xt=urn:btih:{infohash}&dn={quote(name)}",
        raw=dict(result),
    )


class TriblerBackend(TrackedBackend[TriblerClient]):
    """Tribler 8 through the unified verbs, with events pushed over its event stream."""

    kind = BackendKind.TRIBLER
    capabilities = Capabilities(search=SearchKind.P2P, events_pushed=True)

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        anon_hops: int | None = None,
        search_local: bool = True,
        startup_wait: float = 30.0,
        events_backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            TriblerClient(
                url,
                api_key=credentials.api_key,
                session=session,
                verify_ssl=verify_ssl,
                request_timeout=request_timeout,
                startup_wait=startup_wait,
            )
        )
        self.anon_hops = anon_hops
        """Hops for new downloads; None keeps Tribler's own default (its download settings)."""
        self.search_local = search_local
        """Yield matches from the core's database before the remote hits arrive."""
        self.events_backoff = events_backoff

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """Version and public key from ``events/info``."""
        data = await self.client.events_info()
        return BackendInfo(
            kind=self.kind,
            version=str(data.get("version", "")),
            identity=str(data.get("public_key") or "") or None,
            name="Tribler",
        )

    async def transfers(self) -> list[Transfer]:
        """Every download Tribler lists (its hidden, internal ones are not listed)."""
        data = await self.client.downloads()
        return [to_transfer(r) for r in data["downloads"] if isinstance(r, dict)]

    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        """Counts and summed rates from the downloads, liveness and version from ``events/info``."""
        info, data = await asyncio.gather(self.client.events_info(), self.client.downloads())
        transfers, events = self._observe(data)
        self._announce(events)
        return _build_status(info, data, transfers), transfers

    def _observe(
        self, data: Mapping[str, Any], finished: Iterable[str] = ()
    ) -> tuple[dict[str, Transfer], list[TransferEvent]]:
        """Feed a downloads list to the tracker, once the core has loaded all its downloads.

        While checkpoints still load the list is partial; observing it would report the rest
        as added later. ``finished`` names downloads Tribler just said finished: they count
        as complete even if this read raced ahead of their status.
        """
        transfers = {t.id: t for t in (to_transfer(r) for r in data.get("downloads", ()) if isinstance(r, dict))}
        for infohash in finished:
            if infohash in transfers and transfers[infohash].progress < 1.0:
                transfers[infohash] = replace(transfers[infohash], progress=1.0)
        checkpoints = data.get("checkpoints")
        if isinstance(checkpoints, dict) and checkpoints.get("all_loaded") is False:
            return transfers, []
        return transfers, self._tracker.observe(transfers)

    def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        """Events pushed by Tribler; ``interval`` s of silence trigger a reconciling read."""
        return self._pushed_events(interval)

    async def _pushed_events(self, interval: float) -> AsyncIterator[TransferEvent]:
        queue: asyncio.Queue[TriblerEvent | PeerdeckError] = asyncio.Queue()
        reader = asyncio.create_task(self._pump(queue))
        try:
            while True:
                try:
                    async with asyncio.timeout(interval):
                        batch = [await queue.get()]
                except TimeoutError:
                    batch = []  # a quiet interval: reconcile
                # Frames come in bursts (one per download changing); one read answers them all.
                while not queue.empty():
                    batch.append(queue.get_nowait())
                for item in batch:
                    if isinstance(item, PeerdeckError):
                        raise item
                finished = [e.infohash for e in batch if isinstance(e, TorrentFinished) and not e.hidden]
                if batch and not finished and not any(isinstance(e, EventsStart | TorrentStatusChanged) for e in batch):
                    continue
                async with self._lock:  # never observe an older read after a newer one
                    _, events = self._observe(await self.client.downloads(), finished)
                for event in events:
                    yield event
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _pump(self, queue: asyncio.Queue[TriblerEvent | PeerdeckError]) -> None:
        """Move stream events into a queue, so waiting for one can time out without breaking the stream."""
        try:
            async for event in self.client.events(backoff=self.events_backoff):
                queue.put_nowait(event)
        except PeerdeckError as err:
            queue.put_nowait(err)

    # ------------------------------------------------------------------ acting

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        """Add a magnet, URL, .torrent or search hit with the configured hops; returns its info-hash."""
        opts = options or EnqueueOptions()
        hops, destination = self.anon_hops, opts.save_path
        if isinstance(target, TorrentFile):
            infohash = await self.client.add_torrent(target.content, anon_hops=hops, destination=destination)
        elif isinstance(target, Magnet | TorrentUrl | SearchHit):
            uri = _target_uri(target)
            if not uri:
                raise PeerdeckInputError("this search hit has no download link")
            infohash = await self.client.add_download(uri, anon_hops=hops, destination=destination)
        else:
            raise PeerdeckNotSupportedError(
                f"Tribler cannot enqueue a {type(target).__name__}; give a magnet, URL or .torrent file"
            )
        if opts.start_paused:
            # Tribler has no "add stopped"; stopping at once is the closest.
            await self.client.stop(infohash)
        return [infohash]

    async def pause(self, ids: TransferSelector) -> None:
        """Stop downloads (Tribler's pause)."""
        for infohash in await self._select(ids):
            await self.client.stop(infohash)

    async def resume(self, ids: TransferSelector) -> None:
        """Resume stopped downloads."""
        for infohash in await self._select(ids):
            await self.client.resume(infohash)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Remove downloads, and their data when asked."""
        for infohash in await self._select(ids):
            await self.client.remove_download(infohash, remove_data=delete_data)

    async def _select(self, ids: TransferSelector) -> list[str]:
        """Validated info-hashes; ``ALL`` is every listed download (Tribler acts on one at a time)."""
        if ids is ALL:
            return [t.id for t in await self.transfers()]
        hashes = [validate_info_hash(i) for i in ids]
        if not hashes:
            raise PeerdeckInputError("no downloads given")
        return hashes

    # ------------------------------------------------------------------ search

    async def search(
        self,
        query: str,
        *,
        timeout: float = 30.0,
        limit: int | None = None,
    ) -> AsyncIterator[SearchHit]:
        """Local matches, then remote hits as peers answer, until ``timeout`` s or ``limit`` hits.

        The event stream is opened before the search is sent: Tribler delivers results
        only to streams connected when they arrive.
        """
        if not query.strip():
            raise PeerdeckInputError("the search text is empty")
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        if self.search_local:
            local = await self.client.local_search(query, last=limit or 50)
            for hit in self._new_hits(local.get("results") or (), None, seen):
                yield hit
                if limit is not None and len(seen) >= limit:
                    return
        # A stream that cannot be opened fails the search instead of waiting out its timeout.
        stream = self.client.events(backoff=replace(self.events_backoff or Backoff(), max_attempts=3))
        try:
            if await self._next_event(stream, deadline) is None:
                return
            search = await self.client.remote_search(query)
            while True:
                event = await self._next_event(stream, deadline)
                if event is None:
                    return
                if not isinstance(event, RemoteQueryResults) or event.uuid != search.request_uuid:
                    continue
                for hit in self._new_hits(event.results, event.peer, seen):
                    yield hit
                    if limit is not None and len(seen) >= limit:
                        return
        finally:
            await stream.aclose()

    @staticmethod
    async def _next_event(stream: AsyncGenerator[TriblerEvent, None], deadline: float) -> TriblerEvent | None:
        """The next event, or None once the deadline passes (which also ends the stream)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            async with asyncio.timeout(remaining):
                return await anext(stream)
        except TimeoutError:
            return None

    @staticmethod
    def _new_hits(results: Iterable[Any], peer: str | None, seen: set[str]) -> Iterable[SearchHit]:
        """Hits not yet yielded (several peers often return the same torrent)."""
        for result in results:
            hit = to_search_hit(result, peer) if isinstance(result, dict) else None
            if hit is not None and hit.id not in seen:
                seen.add(hit.id)
                yield hit


def _build_status(info: Mapping[str, Any], data: Mapping[str, Any], transfers: Mapping[str, Transfer]) -> Status:
    counts = count_states(transfers.values())
    checkpoints = data.get("checkpoints")
    return Status(
        connected=True,
        download_rate=sum(t.download_rate for t in transfers.values()),
        upload_rate=sum(t.upload_rate for t in transfers.values()),
        counts=counts,
        extra={
            "version": info.get("version"),
            "public_key": info.get("public_key"),
            "event_sessions": info.get("sessions"),
            "all_loaded": checkpoints.get("all_loaded") if isinstance(checkpoints, dict) else None,
            "anonymous": sum(1 for t in transfers.values() if t.raw.get("anon_download")),
        },
    )


def _target_uri(target: Magnet | TorrentUrl | SearchHit) -> str | None:
    if isinstance(target, Magnet):
        return target.uri
    if isinstance(target, TorrentUrl):
        return target.url
    return target.link


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None
