"""Tribler 8 behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

Tribler pushes what changes, so events come from its event stream rather than from
polling: each ``torrent_status_changed`` or ``torrent_finished`` triggers one read of
``/api/downloads`` that a :class:`TransferTracker` turns into events (so a download
finishes exactly once however many frames mention it), each (re)connection resynchronises
(nothing is replayed for missed frames), and a quiet stream is reconciled every
``interval`` seconds to notice additions and removals Tribler does not announce.

Until libtorrent has a handle for a download (for about a second after each add, after
every restart and after safe seeding re-adds it) Tribler reports it STOPPED or EXIT_NODES
with an integer progress of 0: such a reading says nothing, so the download keeps the state
last seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp

from ..backend import TrackedBackend, count_states
from ..client import DEFAULT_TIMEOUT
from ..exceptions import (
    PeerdeckConnectionError,
    PeerdeckError,
    PeerdeckInputError,
    PeerdeckNotSupportedError,
    PeerdeckServerError,
)
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
from .actions import POLL, act_on, has_handle, once_loaded, running, stopped
from .client import TriblerActionError, TriblerClient, TriblerComponentOffError
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

_RESYNC_POLL = 1.0
"""Seconds between reads of the event loop while a (re)started core loads its downloads."""

T = TypeVar("T")

_LOGGER = logging.getLogger(__name__)


def to_transfer(record: Mapping[str, Any]) -> Transfer:
    """Map one ``/api/downloads`` record onto a :class:`Transfer`."""
    infohash = str(record.get("infohash", "")).lower()
    status = str(record.get("status", ""))
    progress = float(record.get("progress") or 0.0)
    finished_before = isinstance(record.get("time_finished"), int | float) and record["time_finished"] > 0
    if not has_handle(record):
        # Loading: a seed is still complete; anything else waits to start (or stays stopped).
        if finished_before:
            state, progress = TransferState.COMPLETED, 1.0
        else:
            state = TransferState.PAUSED if record.get("user_stopped") else TransferState.QUEUED
    elif status == "STOPPED":
        # Finished downloads stopped by their seeding ratio are complete, not paused.
        done = progress >= 1.0 and not record.get("user_stopped", True)
        state = TransferState.COMPLETED if done else TransferState.PAUSED
    else:
        state = STATUS_MAP.get(status, TransferState.ACTIVE)
    size = _opt_int(record.get("size"))
    if size == 0 and (status == "METADATA" or record.get("total_pieces") == 0):
        size = None  # no metainfo yet: the size is unknown, not zero
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
        pause_wait: float = 30.0,
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
        self.pause_wait = pause_wait
        """How long ``enqueue(start_paused=True)`` waits for libtorrent to let the download stop
        (its handle can wait for the DHT, up to Tribler's 30 s ``dht_readiness_timeout``)."""
        self._paused_adds = 0
        """Adds with start_paused on their way (a download first seen meanwhile is shown paused)."""
        self._held_paused: set[str] = set()
        """Downloads added paused whose stop may not have stuck yet: shown paused until it has."""
        self.bulk_concurrency = 8
        """Requests in flight at once for pause/resume/remove of several downloads (each PATCH
        waits for Tribler's one-second alert tick, so one at a time is slow)."""

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """Version from ``events/info``; identity from the core's IPv8 key (``public_key`` is empty in 8.x)."""
        data, peer_key = await asyncio.gather(self.client.events_info(), self._peer_key())
        return BackendInfo(
            kind=self.kind,
            version=str(data.get("version", "")),
            identity=str(data.get("public_key") or "") or peer_key,
            name="Tribler",
        )

    async def _peer_key(self) -> str | None:
        """The IPv8 key, or None when the core cannot tell yet (still starting, or no such route)."""
        try:
            return await self.client.peer_key()
        except (PeerdeckNotSupportedError, PeerdeckServerError):
            return None

    async def transfers(self) -> list[Transfer]:
        """Every download Tribler lists (its hidden, internal ones are not listed)."""
        return list(self._current(await self.client.downloads()).values())

    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        """Counts and summed rates from the downloads, liveness and version from ``events/info``."""
        info, data = await asyncio.gather(self.client.events_info(), self.client.downloads())
        self.note_daemon_version(str(info.get("version") or ""))
        transfers, events = self._observe(data)
        self._announce(events)
        self.reconcile_due = False  # every read is the whole list: a restart is reconciled by this one
        return _build_status(info, data, transfers), transfers

    def _observe(
        self, data: Mapping[str, Any], finished: Iterable[str] = ()
    ) -> tuple[dict[str, Transfer], list[TransferEvent]]:
        """Feed a downloads list to the tracker, once the core has loaded all its downloads.

        While checkpoints still load the list is partial; observing it would report the rest
        as added later. ``finished`` names downloads Tribler just said finished: they count
        as complete even if this read raced ahead of their status.
        """
        transfers = self._current(data)
        for infohash in finished:
            if infohash in transfers and transfers[infohash].progress < 1.0:
                transfers[infohash] = replace(transfers[infohash], progress=1.0)
        if not _checkpoints_loaded(data):
            return transfers, []
        return transfers, self._tracker.observe(transfers)

    def _current(self, data: Mapping[str, Any]) -> dict[str, Transfer]:
        """The downloads of a list; one libtorrent has no handle for yet keeps the state last seen."""
        transfers: dict[str, Transfer] = {}
        for record in data.get("downloads", ()):
            if isinstance(record, dict):
                transfer = to_transfer(record)
                last = None if has_handle(record) else self._tracker.last(transfer.id)
                transfer = last if last is not None else transfer
                new = self._paused_adds > 0 and self._tracker.primed and self._tracker.last(transfer.id) is None
                if (transfer.id in self._held_paused or new) and transfer.state in (
                    TransferState.ACTIVE,
                    TransferState.QUEUED,
                ):
                    transfer = replace(transfer, state=TransferState.PAUSED, download_rate=0, eta=None)
                transfers[transfer.id] = transfer
        return transfers

    def export_state(self) -> dict[str, Any]:
        """What the tracker has announced; nothing before its first full observation.

        Tribler's list is not observed while checkpoints load, so an early export would
        otherwise restore as "primed with no downloads" and announce every download as new.
        """
        if not self._tracker.primed:
            return {}
        return {"primed": True, "transfers": self._tracker.export_state()}

    def restore_state(self, data: Mapping[str, Any]) -> None:
        """Resume from :meth:`export_state` (or the flat form older releases saved)."""
        if data.get("primed") is True:
            if isinstance(transfers := data.get("transfers"), Mapping):
                self._tracker.restore_state(transfers)
        elif data:  # an empty flat state may predate the first observation: it restores nothing
            self._tracker.restore_state(data)

    def events(self, *, interval: float = 10.0) -> AsyncIterator[TransferEvent]:
        """Events pushed by Tribler; ``interval`` s without a read trigger a reconciling one.

        A core that is down does not end the iterator: the stream reconnects by itself (at
        most ``interval`` s apart) and the quiet-interval read is retried, so events resume
        within one interval of the core's return. A (re)started core is read every second
        until it has loaded every download and each has its handle (see :meth:`_pushed_events`).
        """
        return self._pushed_events(interval)

    async def _pushed_events(self, interval: float) -> AsyncIterator[TransferEvent]:
        """Read the list for each burst of relevant frames, and at least every ``interval`` s.

        Tribler keeps no cursor to reset (its frames carry no ``id:``, ``events_endpoint.py``
        of 8.4.3, and every read is the whole list), but a restart has a window in which the
        list says nothing: checkpoints still loading, downloads without a handle, and their
        frames may all come before it closes. So a new connection, a read that fails and then
        succeeds, or such a window, is a (re)start: the list is then read every
        ``_RESYNC_POLL`` s until the window has closed (bounded by ``pause_wait``), so what
        changed meanwhile is announced within about a second of its end, never an interval later.
        Frames that need no read (health checks, tunnels, others' searches) do not put the
        reconciling read off.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[TriblerEvent | PeerdeckError] = asyncio.Queue()
        backoff = self.events_backoff or Backoff()
        reader = asyncio.create_task(self._pump(queue, replace(backoff, maximum=min(backoff.maximum, interval))))
        due = loop.time() + interval  # the next read, if no frame asks for one sooner
        resync_until: float | None = None  # while set, the core is (re)starting: a read every _RESYNC_POLL s
        gave_up = False  # its window did not close in time (a handle that never comes): back to interval
        try:
            while True:
                try:
                    async with asyncio.timeout(max(due - loop.time(), 0.0)):
                        batch = [await queue.get()]
                except TimeoutError:
                    batch = []  # time for a reconciling read
                # Frames come in bursts (one per download changing); one read answers them all.
                while not queue.empty():
                    batch.append(queue.get_nowait())
                for item in batch:
                    if isinstance(item, PeerdeckError):
                        raise item
                if any(isinstance(e, EventsStart) for e in batch):
                    # A new connection: the core may have restarted.
                    resync_until, gave_up = loop.time() + self.pause_wait, False
                finished = [e.infohash for e in batch if isinstance(e, TorrentFinished) and not e.hidden]
                if batch and not finished and not any(isinstance(e, EventsStart | TorrentStatusChanged) for e in batch):
                    continue
                try:
                    async with self._lock:  # never observe an older read after a newer one
                        data = await self.client.downloads()
                        _, events = self._observe(data, finished)
                except (PeerdeckConnectionError, PeerdeckServerError) as err:
                    # Down or shutting down: read again in an interval, and once it answers, as a restarted core.
                    _LOGGER.debug("Tribler could not be read; trying again in %s s: %s", interval, err)
                    resync_until, gave_up = loop.time() + interval + self.pause_wait, False
                    due = loop.time() + interval
                    continue
                now = loop.time()
                if _settled(data):
                    resync_until, gave_up = None, False
                elif resync_until is None and not gave_up:
                    resync_until = now + self.pause_wait  # loading: a restart this loop did not see coming
                elif resync_until is not None and now >= resync_until:
                    resync_until, gave_up = None, True
                due = now + (interval if resync_until is None else min(_RESYNC_POLL, interval))
                for event in events:
                    yield event
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _pump(self, queue: asyncio.Queue[TriblerEvent | PeerdeckError], backoff: Backoff) -> None:
        """Move stream events into a queue, so waiting for one can time out without breaking the stream."""
        try:
            async for event in self.client.events(backoff=backoff):
                queue.put_nowait(event)
        except PeerdeckError as err:
            queue.put_nowait(err)

    # ------------------------------------------------------------------ acting

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        """Add a magnet, URL, .torrent or search hit with the configured hops; returns its info-hash.

        With ``start_paused`` the download is stopped at once and again once libtorrent has
        its handle (a stop before that only marks it, and it would run); if it still runs
        after ``pause_wait`` s a :class:`TriblerActionError` says so (the download stays added).
        """
        opts = options or EnqueueOptions()
        hops, destination = self.anon_hops, opts.save_path
        if not isinstance(target, TorrentFile | Magnet | TorrentUrl | SearchHit):
            raise PeerdeckNotSupportedError(
                f"Tribler cannot enqueue a {type(target).__name__}; give a magnet, URL or .torrent file"
            )
        uri = None if isinstance(target, TorrentFile) else _target_uri(target)
        if not isinstance(target, TorrentFile) and not uri:
            raise PeerdeckInputError("this search hit has no download link")
        # While a paused add is on its way, a download first seen is shown paused: a read racing the add
        # (the event stream's) must not announce it added and active, then paused (issue 24).
        self._paused_adds += opts.start_paused
        try:
            if isinstance(target, TorrentFile):
                infohash = await self.client.add_torrent(target.content, anon_hops=hops, destination=destination)
            else:
                infohash = await self.client.add_download(str(uri), anon_hops=hops, destination=destination)
            if opts.start_paused:
                self._held_paused.add(infohash)
                failed = await self._act_when_loaded([infohash], self.client.stop, settled=stopped)
                if failed:
                    raise TriblerActionError("pausing the new download", failed, ())
        finally:
            self._paused_adds -= opts.start_paused
            if opts.start_paused and self._paused_adds == 0:
                self._held_paused.clear()
        return [infohash]

    async def _act_when_loaded(
        self, hashes: list[str], act: Callable[[str], Awaitable[None]], *, settled: Callable[[Any], bool] | None
    ) -> dict[str, PeerdeckError]:
        """:func:`.actions.once_loaded` with this backend's wait and concurrency."""
        return await once_loaded(
            self.client,
            hashes,
            act,
            settled=settled,
            wait=self.pause_wait,
            concurrency=self.bulk_concurrency,
            at_once=settled is not None,
        )

    async def pause(self, ids: TransferSelector) -> None:
        """Stop downloads (Tribler's pause), several at once; see :meth:`_each`."""
        await self._each("pause", ids, self.client.stop, settled=stopped)

    async def resume(self, ids: TransferSelector) -> None:
        """Resume stopped downloads, several at once; see :meth:`_each`."""
        await self._each("resume", ids, self.client.resume, settled=running)

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Remove downloads, and their data when asked, several at once; see :meth:`_each`."""

        async def remove_one(infohash: str) -> None:
            await self.client.remove_download(infohash, remove_data=delete_data)

        await self._each("remove", ids, remove_one, settled=None)

    async def _each(
        self,
        action: str,
        ids: TransferSelector,
        act: Callable[[str], Awaitable[None]],
        *,
        settled: Callable[[Any], bool] | None,
    ) -> None:
        """Act on every selected download, ``bulk_concurrency`` at a time, past any failure.

        Tribler acts on one download per request. A download libtorrent has no handle for yet
        (right after an add or a restart) is acted on once it has one, until ``settled`` shows
        the change (a removal waits for the handle), bounded by ``pause_wait``: see
        :mod:`.actions`. When some fail (removing a download that was streamed does) the rest
        are still done and a :class:`TriblerActionError` names the failures; a single
        download's failure, or a core that could not be reached at all, is raised as it is.
        """
        hashes, records = await self._select(ids)
        loading = [h for h in hashes if h in records and not has_handle(records[h])]
        failed: dict[str, PeerdeckError] = {}
        for infohash, result in (
            await act_on([h for h in hashes if h not in loading], act, self.bulk_concurrency)
        ).items():
            if isinstance(result, PeerdeckError):
                failed[infohash] = result
            elif isinstance(result, BaseException):
                raise result
        if loading:
            failed.update(await self._act_when_loaded(loading, act, settled=settled))
        if not failed:
            return
        done = [h for h in hashes if h not in failed]
        first = next(iter(failed.values()))
        if len(hashes) == 1 or (not done and all(isinstance(e, PeerdeckConnectionError) for e in failed.values())):
            raise first
        raise TriblerActionError(action, failed, done)

    async def _select(self, ids: TransferSelector) -> tuple[list[str], dict[str, Mapping[str, Any]]]:
        """Validated info-hashes (``ALL``: every listed download) and the records Tribler lists now.

        Right after a restart the core answers before it has loaded its downloads: one not
        loaded yet is neither listed nor known to a change (404), and loads as it ran before.
        So the list is awaited until every checkpoint is loaded, bounded by ``pause_wait``.
        """
        hashes = None if ids is ALL else [validate_info_hash(i) for i in ids]
        if hashes is not None and not hashes:
            raise PeerdeckInputError("no downloads given")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pause_wait
        data = await self.client.downloads()
        while not _checkpoints_loaded(data) and loop.time() < deadline:
            await asyncio.sleep(POLL)
            data = await self.client.downloads()
        records: dict[str, Mapping[str, Any]] = {
            str(r.get("infohash", "")).lower(): r
            for r in data["downloads"]
            if isinstance(r, dict) and r.get("infohash")
        }
        return (list(records) if hashes is None else hashes), records

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
        only to streams connected when they arrive. Every request shares the deadline (a core
        still starting is retried only until then); with no peer asked the search ends at
        once. A core with its search switched off raises :class:`TriblerComponentOffError`
        unless local matches were found.
        """
        if not query.strip():
            raise PeerdeckInputError("the search text is empty")
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        if self.search_local:
            try:
                local = await _before(deadline, self.client.local_search(query, last=limit or 50))
            except TriblerComponentOffError:
                local = {}  # no database: remote search is off too, and says so below
            if local is None:
                return
            for hit in self._new_hits(local.get("results") or (), None, seen):
                yield hit
                if limit is not None and len(seen) >= limit:
                    return
        # A stream that cannot be opened fails the search instead of waiting out its timeout.
        stream = self.client.events(backoff=replace(self.events_backoff or Backoff(), max_attempts=3))
        try:
            if await self._next_event(stream, deadline) is None:
                return
            try:
                search = await _before(deadline, self.client.remote_search(query))
            except TriblerComponentOffError:
                if seen:
                    return
                raise
            if search is None or not search.peers:
                return  # out of time, or no peer to ask: no answer can come
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


async def _before(deadline: float, call: Awaitable[T]) -> T | None:
    """The call's result, or None if the monotonic ``deadline`` passes first."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        if asyncio.iscoroutine(call):
            call.close()
        return None
    try:
        async with asyncio.timeout(remaining):
            return await call
    except TimeoutError:
        return None


def _checkpoints_loaded(data: Mapping[str, Any]) -> bool:
    """The core has loaded every download it had (``checkpoints.all_loaded``; True when not said)."""
    checkpoints = data.get("checkpoints")
    return not (isinstance(checkpoints, dict) and checkpoints.get("all_loaded") is False)


def _settled(data: Mapping[str, Any]) -> bool:
    """Every checkpoint loaded and every download with its handle: the list tells the truth."""
    if not _checkpoints_loaded(data):
        return False
    return all(has_handle(r) for r in data.get("downloads", ()) if isinstance(r, dict))


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
