"""qBittorrent behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

The update path is built around what calls cost the daemon. ``sync/maindata`` (full or delta)
and unfiltered ``torrents/info`` cost ~0.1-0.2 ms of daemon CPU per torrent; a filtered list
costs in proportion to what it matches (4.x serialises it before ``limit``/``offset``; 5.x sorts
and limits first, so its newest few cost about a third); and ``transfer/info``, ``log/main``
deltas, ``hashes=`` look-ups of a few torrents and 5.x's ``torrents/count`` cost almost nothing
(``bench/qbittorrent_call_costs.py`` measures them). So each tick reads only what can have changed:

* ``transfer/info`` (the daemon's rates and totals) and the new lines of qBittorrent's log: it
  logs each add, finish, pause, resume, removal, move and error with the torrent's name
  (``Torrent: "name"``), so exactly the torrents named are looked up by hash — whoever acted
  (web UI, RSS, another client). The reads a tick knows it needs before any answer (these two, the
  moving torrents, the fronts of the queues, 5.x's count) go out together, so the caller's event
  loop waits once for them, not once each (``peerdeck.concurrency``);
* queued downloads cost nothing: qBittorrent starts them in queue order into a free slot, so
  only the front of the queue, and the few downloads holding the slots, are looked up;
* torrents waiting for their hash check are checked one by one in queue order: only the
  front of that queue is looked up, a window that follows the pace of the checks;
* the figures of torrents moving data (rates, progress, ETA: ``filter=active``, whose cost grows
  with how many move) are re-read at most every ``details_max_age`` seconds — every tick by
  default; Home Assistant reads them only while its transfers card is open, since its sensors
  count states and every change of state reaches it through the log. A torrent that stopped
  moving since the last read is looked up once.

A torrent the log names that we do not know was added elsewhere (RSS, *arr, cross-seed): it is
placed by the cheapest list that can hold it — the torrents checking or moving data, the
incomplete ones, the categories such torrents arrived in — while that costs little; when none
holds it (a cross-seeded torrent already seeds), by 5.x's newest few of all torrents or a full
read, paced (``reconcile_burst``). 5.x's ``torrents/count`` shows adds and removals the log did
not name.

The expensive ``sync/maindata`` (merged from deltas) runs only to start, after ``ALL``
actions, when nothing cheaper placed a change, when categories and tags must be exact
(qBittorrent logs nothing when they change: ``exact_max_age`` and :meth:`want_exact`), after
the daemon restarted, and as a slow reconciliation every ``reconcile_interval``. A restart
shows as a new session, a log that no longer holds the line read last (qBittorrent numbers it
from 0 again) or session totals that went down.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ..backend import TrackedBackend, count_states
from ..client import DEFAULT_TIMEOUT
from ..concurrency import task_group
from ..exceptions import PeerdeckInputError, PeerdeckNotSupportedError
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
    TransferSelector,
    TransferState,
)
from ..validation import validate_http_url, validate_info_hash, validate_magnet
from .client import QBittorrentClient
from .index import TorrentIndex
from .maindata import MaindataState
from .torrentfile import info_hash_v1
from .wire import JsonObject

STATE_MAP: dict[str, TransferState] = {
    "error": TransferState.FAILED,
    "missingFiles": TransferState.FAILED,
    "pausedUP": TransferState.PAUSED,
    "stoppedUP": TransferState.PAUSED,
    "pausedDL": TransferState.PAUSED,
    "stoppedDL": TransferState.PAUSED,
    "uploading": TransferState.COMPLETED,
    "stalledUP": TransferState.COMPLETED,
    "forcedUP": TransferState.COMPLETED,
    "queuedUP": TransferState.COMPLETED,
    "checkingUP": TransferState.COMPLETED,
    "queuedDL": TransferState.QUEUED,
    "unknown": TransferState.QUEUED,
}
"""qBittorrent states that are not plain "active" (downloading, stalledDL, metaDL, checking, moving …)."""

_INFINITE_ETA = 8640000
_LOOKUP_CHUNK = 200
_WINDOW_MARGIN = 2
_WINDOW_MAX = 200
_LOG_TORRENT = re.compile(r'Torrent: "(.*?)"(?=\.|,|$| )')
"""How qBittorrent's log names the torrent a line is about (4.x and 5.x)."""
_ACTION_WATCH_SECONDS = 30.0
_PLACING_SHARE = 0.25
"""A list is tried to place torrents added elsewhere only while it costs at most this share of a full read."""
_LIMITED_LIST_COST = 0.35
"""What 5.x's sorted and limited list costs against the same list whole (measured: 48 of ~140-190 ms at 2,000)."""
_ARRIVAL_CATEGORIES = 4
_DEMOTE_AFTER_MISSES = 3
"""A placing list that placed nothing this many times in a row is tried after the others (an *arr's downloads never
pass through the checking or active lists): each request costs Home Assistant more than it costs the daemon."""
_SEARCH_POLL = 0.5


def to_transfer(torrent_hash: str, record: Mapping[str, Any]) -> Transfer:
    """Map one torrent record (``torrents/info`` or merged maindata) onto a :class:`Transfer`."""
    eta = record.get("eta")
    tags = record.get("tags") or ""
    return Transfer(
        id=torrent_hash,
        name=str(record.get("name", torrent_hash)),
        state=STATE_MAP.get(str(record.get("state")), TransferState.ACTIVE),
        progress=float(record.get("progress", 0.0)),
        size=_opt_int(record.get("size")),
        done_bytes=_opt_int(record.get("completed")),
        download_rate=int(record.get("dlspeed", 0)),
        upload_rate=int(record.get("upspeed", 0)),
        eta=float(eta) if isinstance(eta, int | float) and 0 <= eta < _INFINITE_ETA else None,
        save_path=record.get("save_path") or None,
        category=record.get("category") or None,
        tags=tuple(t.strip() for t in str(tags).split(",") if t.strip()),
        added_at=_timestamp(record.get("added_on")),
        completed_at=_timestamp(record.get("completion_on")),
        raw=dict(record),
    )


class QBittorrentBackend(TrackedBackend[QBittorrentClient]):
    """qBittorrent through the unified verbs, with a cheap update path."""

    kind = BackendKind.QBITTORRENT
    capabilities = Capabilities(
        search=SearchKind.PLUGIN,
        alternative_speed=True,
        free_space=True,
    )

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        session: aiohttp.ClientSession | None = None,
        verify_ssl: bool = True,
        request_timeout: float = DEFAULT_TIMEOUT,
        reconcile_interval: float = 1800.0,
        min_reconcile_gap: float = 30.0,
        reconcile_burst: int = 2,
        details_max_age: float = 0.0,
        exact_max_age: float = math.inf,
    ) -> None:
        super().__init__(
            QBittorrentClient(
                url,
                username=credentials.username,
                password=credentials.password,
                api_key=credentials.api_key,
                session=session,
                verify_ssl=verify_ssl,
                request_timeout=request_timeout,
            )
        )
        self.reconcile_interval = reconcile_interval
        self.min_reconcile_gap = min_reconcile_gap
        self.reconcile_burst = reconcile_burst
        """A change nothing cheaper could place calls for a full read in that tick: up to ``reconcile_burst``
        in a row, then, while such changes keep coming (4.x on a cross-seed box: a torrent whose data is
        there seeds before the next tick, and only a full read finds it), one per ``min_reconcile_gap`` —
        HA core's own pace, so a busy box never costs more than core. The start, restarts, ``want_exact``
        and the slow reconciliation do not count."""
        self.details_max_age = details_max_age
        """How old the figures of torrents moving data may get, in seconds (0: re-read every refresh;
        ``math.inf``: only when :meth:`want_details` asks, and at each reconciliation)."""
        self.exact_max_age = exact_max_age
        """How old categories and tags may get, in seconds: qBittorrent logs nothing when they change, so
        only a full read shows them (``math.inf``: at the slow reconciliation, or when :meth:`want_exact` asks)."""
        self.full_reads = 0
        """Full reads (``sync/maindata``) so far, to show what the update path costs."""
        self.restarts = 0
        """Daemon restarts noticed so far."""
        self._maindata = MaindataState()
        self._torrents = TorrentIndex()
        self._server_state: JsonObject = {}
        self._transfers: dict[str, Transfer] = {}
        self._counts = count_states(())
        self._lookup: dict[str, float] = {}
        """Torrents we acted on, looked up by hash until this monotonic time (actions apply a moment later)."""
        self._moving: set[str] = set()
        """Torrents moving data at the last read of their figures; one that stopped is looked up once."""
        self._details_read = -math.inf
        self._check_window = _WINDOW_MARGIN
        self._queue_window = _WINDOW_MARGIN
        self._log_mark: tuple[int, Any, str] | None = None
        """The log line read last (id, time, text): a restarted daemon's log no longer holds it."""
        self._logins = 0
        self._session_totals: tuple[int, int] = (0, 0)
        self._exact_wanted = math.inf
        self._unplaced: set[str] = set()
        """Names the log gave of torrents added elsewhere that no list read so far held."""
        self._read_newest = False
        self._newest_failed = False
        self._misses: dict[tuple[tuple[str, Any], ...], int] = {}
        """Placing lists by what they select, and how many times in a row each placed nothing."""
        self._known_categories: set[str] = set()
        """Categories the last full read showed, and those read since: any other was created since."""
        self._arrivals: dict[str, None] = {}
        """Categories torrents added elsewhere arrived in, the latest last (RSS rules and *arr use their own)."""
        self._changed_unseen = False
        """Something changed that the cheap tick cannot place: a torrent added or renamed elsewhere, the
        queue reordered elsewhere. A full read follows, as ``reconcile_burst`` allows."""
        self._reconcile_needed = True
        self._last_reconcile = -math.inf
        self._reconcile_credit = float(reconcile_burst)
        self._credit_at = time.monotonic()

    # ------------------------------------------------------------------ reading

    async def info(self) -> BackendInfo:
        """qBittorrent and WebAPI versions."""
        version = await self.client.app_version()
        return BackendInfo(
            kind=self.kind,
            version=version.removeprefix("v"),
            api_version=await self.client.app_webapi_version(),
            name="qBittorrent",
        )

    async def _refresh(self) -> tuple[Status, dict[str, Transfer]]:
        """The cheap tick, or a full read when it is due or the tick calls for it (never two in a tick)."""
        age = time.monotonic() - self._last_reconcile
        due = self._reconcile_needed or self.reconcile_due
        if due or age >= min(self.reconcile_interval, self.exact_max_age, self._exact_wanted):
            await self._reconcile()
        else:
            tick = await self._cheap_tick()
            if tick is None:
                self.daemon_restarted("a new session, a log numbered anew or session totals that went down")
                self._forget_daemon_state()
                await self._reconcile()
            else:
                self._apply(*tick)
                if self._changed_unseen and not self._read_newest and self._take_reconcile_credit():
                    await self._reconcile()
        self._exact_wanted = math.inf
        self._read_newest = False
        return self._build_status(), dict(self._transfers)

    def _take_reconcile_credit(self) -> bool:
        """Whether a full read for a change nothing cheaper placed may run now (a token bucket)."""
        now = time.monotonic()
        refill = (now - self._credit_at) / self.min_reconcile_gap if self.min_reconcile_gap > 0 else math.inf
        self._reconcile_credit = min(self._reconcile_credit + refill, float(self.reconcile_burst))
        self._credit_at = now
        if self._reconcile_credit < 1 - 1e-9:  # credit refilled in thirds adds up to a hair under 1
            return False
        self._reconcile_credit -= 1
        return True

    def want_exact(self, max_age: float) -> None:
        """Make the next refresh's categories and tags at most ``max_age`` seconds old (a full read if older)."""
        self._exact_wanted = min(self._exact_wanted, max_age)

    def _forget_daemon_state(self) -> None:
        """The daemon restarted: its log ids, sync ids and maybe its version start anew, so ours are void."""
        self.restarts += 1
        self._log_mark = None
        self._maindata.reset()
        self.client.forget_version()

    def _restarted(self, server_state: Mapping[str, Any]) -> bool:
        """Whether the daemon restarted since the last tick: a new session, or session totals that went down."""
        totals = _session_totals(server_state)
        went_down = any(now < before for now, before in zip(totals, self._session_totals, strict=True))
        self._session_totals = totals
        return went_down or self.client.logins != self._logins

    async def reconcile(self) -> None:
        """Fetch the expensive full picture now (``sync/maindata`` deltas merged in place)."""
        async with self._lock:
            await self._reconcile()

    async def _reconcile(self) -> None:
        if self._log_mark is None:
            entries = await self.client.log_main()
            self._log_mark = _log_mark(entries[-1]) if entries else None
        self._maindata.apply(await self.client.sync_maindata(self._maindata.rid))
        self.full_reads += 1
        # Rebuilt whole (it is rare): what the cheap ticks could not see is corrected here.
        self._torrents = TorrentIndex(self._maindata.torrents)
        self._transfers = {h: to_transfer(h, r) for h, r in self._torrents.records.items()}
        self._counts = count_states(self._transfers.values())
        self._announce(self._tracker.observe(self._transfers))
        self._server_state = dict(self._maindata.server_state)
        self._known_categories = set(self._maindata.categories)
        self._session_totals = _session_totals(self._server_state)
        self._logins = self.client.logins
        self._moving = set()
        self._details_read = time.monotonic()
        self._reconcile_needed = self.reconcile_due = False
        self._changed_unseen = False
        self._unplaced = set()
        self._newest_failed = False
        self._last_reconcile = time.monotonic()

    def want_details(self) -> None:
        """Re-read the figures of the torrents moving data at the next refresh (someone looks at them)."""
        self._details_read = -math.inf

    async def _cheap_tick(self) -> tuple[set[str], set[str]] | None:
        """Refresh what can have changed; returns the hashes refreshed and those removed (None: the daemon
        restarted, and nothing kept since its start holds).

        The reads known before any answer (rates and totals, the log, the torrents moving data, the fronts
        of the queues, 5.x's count) go out together: each answer waited for wakes Home Assistant, and these
        come back within a few milliseconds of each other. Only what the log names is looked up after."""
        now = time.monotonic()
        moving_read = now - self._details_read >= self.details_max_age
        self._lookup = {h: until for h, until in self._lookup.items() if until >= now}
        index = self._torrents
        checking_front = index.checking_front(self._check_window)
        queue_front = index.queue_front(self._queue_window)
        # With downloads queued, a slot holder can be sent back to the queue (settings or order changed elsewhere).
        holding = set(index.holding_slots) if index.queued else set()
        # Torrents reading their resume data leave that state within seconds, most without a log line.
        resuming = set(itertools.islice(index.resuming, _LOOKUP_CHUNK))
        foreseen = set(self._lookup) | set(checking_front) | set(queue_front) | holding | resuming
        counting = await self.client.can_count()
        async with task_group() as reads:
            state_read = reads.create_task(self.client.transfer_info())
            log_read = reads.create_task(self._read_log())
            moving_read_task = reads.create_task(self._read_moving()) if moving_read else None
            foreseen_read = reads.create_task(self._read_hashes(foreseen))
            count_read = reads.create_task(self.client.torrents_count()) if counting else None
        if self._restarted(state_read.result()):
            return None
        self._server_state.update(state_read.result())
        names = self._log_names(log_read.result())
        if names is None:
            return None
        moving: set[str] = set()
        stopped: set[str] = set()
        if moving_read_task is not None:
            moving = self._merge(moving_read_task.result())
            stopped, self._moving = self._moving - moving, moving
            self._details_read = now
        named, unknown = index.named(names)
        # A torrent fetching its metadata takes its real name when it arrives: the log may name it so.
        renamed = set(index.fetching_metadata) if unknown and len(index.fetching_metadata) <= _LOOKUP_CHUNK else set()
        found, removed = self._take_look_up(foreseen - moving, foreseen_read.result())
        more_found, more_removed = await self._look_up((stopped | named | renamed) - moving - foreseen)
        found |= more_found
        removed |= more_removed
        self._check_window = _next_window(checking_front, index.checking)
        self._queue_window = _next_window(queue_front, index.queued)
        # Torrents we added were looked up by hash, so their log lines name torrents known by now;
        # another name means a torrent added (or renamed) elsewhere.
        self._unplaced = {name for name in self._unplaced | unknown if not index.by_name.get(name)}
        if self._unplaced:
            found |= await self._place(moving_read=moving_read)
        counted = count_read is None or count_read.result() == len(self._torrents.records)
        if self._unplaced or holding & index.queued or not counted:
            self._changed_unseen = True
        return moving | found, removed

    async def _read_moving(self) -> list[JsonObject]:
        return await self.client.torrents_info(status_filter="active")

    async def _place(self, *, moving_read: bool) -> set[str]:
        """Find the torrents added elsewhere (``_unplaced`` names) by the cheapest lists that can hold them;
        returns the hashes read. On 5.x the newest few of all torrents hold them for sure: that list costs
        about a third of a full read, so it is paced as full reads are, and once it failed a full read follows."""
        found: set[str] = set()
        five = await self.client.can_count()
        for query in self._placing_lists(limited=five, moving_read=moving_read):
            placed = await self._read_placing_list(query)
            self._misses[_selection(query)] = 0 if placed else self._misses.get(_selection(query), 0) + 1
            found |= placed
            if not self._unplaced:
                return found
        found |= await self._place_in_new_categories(limited=five)
        if not self._unplaced:
            return found
        if five and not self._newest_failed and self._take_reconcile_credit():
            self._read_newest = True
            found |= await self._read_placing_list(self._limited({}))
            self._newest_failed = bool(self._unplaced)
        return found

    async def _place_in_new_categories(self, *, limited: bool) -> set[str]:
        """Read the categories created since the last full read (``torrents/categories`` costs nothing): a
        torrent relabelled into one before it was placed (an RSS rule's, a tidying tool's) is there, among few."""
        found: set[str] = set()
        new = [name for name in await self.client.torrents_categories() if name not in self._known_categories]
        for name in new[:_ARRIVAL_CATEGORIES]:
            self._known_categories.add(name)
            found |= await self._read_placing_list(self._limited({"category": name}) if limited else {"category": name})
            if not self._unplaced:
                break
        return found

    async def _read_placing_list(self, query: Mapping[str, Any]) -> set[str]:
        index = self._torrents
        records = await self.client.torrents_info(**query)
        # Only the new ones are taken: what changed in the others reaches us through the log.
        found = self._merge([r for r in records if r.get("hash") and str(r["hash"]) not in index.records])
        for torrent_hash in found:
            category = str(index.records[torrent_hash].get("category") or "")
            self._arrivals.pop(category, None)
            self._arrivals[category] = None
        while len(self._arrivals) > _ARRIVAL_CATEGORIES:
            del self._arrivals[next(iter(self._arrivals))]
        self._unplaced -= {str(r.get("name", "")) for r in records}
        return found

    def _placing_lists(self, *, limited: bool, moving_read: bool) -> list[dict[str, Any]]:
        """The ``torrents/info`` lists that can hold a torrent just added elsewhere and cost little, cheapest
        first (those that kept placing nothing last): a list costs what it holds — its records serialised on
        4.x; on 5.x, which sorts and limits before it serialises, the newest few of it (a third of that)."""
        index = self._torrents
        total = max(len(index.records), 1)
        held = [
            (len(index.checking) + len(index.resuming), {"status_filter": "checking"}),
            *(() if moving_read else ((len(self._moving), {"status_filter": "active"}),)),
            (len(index.incomplete), {"status_filter": "downloading"}),
            *((index.category_sizes[c], {"category": c}) for c in self._arrivals if c),
        ]
        factor = _LIMITED_LIST_COST if limited else 1.0
        self._misses = {key: n for _, query in held if (n := self._misses.get(key := _selection(query)))}
        lists = sorted(
            (self._misses.get(_selection(query), 0) >= _DEMOTE_AFTER_MISSES, count * factor / total, i, query)
            for i, (count, query) in enumerate(held)
        )
        return [self._limited(query) if limited else query for _, share, _, query in lists if share <= _PLACING_SHARE]

    def _limited(self, query: dict[str, Any]) -> dict[str, Any]:
        """``query``'s newest few: as many as the torrents still to place, and a margin."""
        return {**query, "sort": "added_on", "reverse": True, "limit": len(self._unplaced) + _WINDOW_MARGIN}

    def _apply(self, changed: Iterable[str], removed: Iterable[str]) -> None:
        """Rebuild the transfers of ``changed`` records (and drop ``removed``), keeping counts in step."""
        refreshed: list[Transfer] = []
        for torrent_hash in changed:
            record = self._torrents.records.get(torrent_hash)
            if record is None:
                continue
            transfer = to_transfer(torrent_hash, record)
            before = self._transfers.get(torrent_hash)
            if before == transfer:
                continue
            if before is not None:
                self._counts[before.state] -= 1
            self._counts[transfer.state] += 1
            self._transfers[torrent_hash] = transfer
            refreshed.append(transfer)
        gone: list[str] = []
        for torrent_hash in removed:
            before = self._transfers.pop(torrent_hash, None)
            if before is not None:
                self._counts[before.state] -= 1
                gone.append(torrent_hash)
        if refreshed or gone:
            self._announce(self._tracker.observe_changes(refreshed, gone))

    def _merge(self, records: Iterable[JsonObject]) -> set[str]:
        """Store records from ``torrents/info``; returns their hashes."""
        return {self._torrents.put(record) for record in records if record.get("hash")}

    async def _look_up(self, hashes: set[str]) -> tuple[set[str], set[str]]:
        """Refresh some torrents by hash; returns those found and those the daemon no longer has."""
        return self._take_look_up(hashes, await self._read_hashes(hashes))

    async def _read_hashes(self, hashes: set[str]) -> list[JsonObject]:
        records: list[JsonObject] = []
        wanted = sorted(hashes)
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            records += await self.client.torrents_info(hashes=wanted[start : start + _LOOKUP_CHUNK])
        return records

    def _take_look_up(self, hashes: set[str], records: list[JsonObject]) -> tuple[set[str], set[str]]:
        """Store what a look-up of ``hashes`` answered; returns the hashes found and those the daemon no longer has."""
        found = self._merge(r for r in records if str(r.get("hash")) in hashes)
        removed = {torrent_hash for torrent_hash in hashes - found if self._torrents.drop(torrent_hash)}
        return found, removed

    async def _read_log(self) -> list[JsonObject]:
        """qBittorrent's log from the line read last (included: a restarted daemon no longer has it)."""
        mark = self._log_mark
        return await self.client.log_main(last_known_id=-1 if mark is None else mark[0] - 1)

    def _log_names(self, entries: list[JsonObject]) -> list[str] | None:
        """Names of the torrents qBittorrent's new log lines are about (``Torrent: "name"``); None when the
        log no longer holds the line read last (a restarted qBittorrent numbers its log from 0 again)."""
        mark = self._log_mark
        if mark is not None:
            if not entries or _log_mark(entries[0]) != mark:
                return None
            entries = entries[1:]
        if entries:
            self._log_mark = _log_mark(entries[-1])
        return [match.group(1) for entry in entries if (match := _LOG_TORRENT.search(str(entry.get("message", ""))))]

    def _build_status(self) -> Status:
        state = self._server_state
        free = state.get("free_space_on_disk")
        return Status(
            connected=state.get("connection_status", "connected") != "disconnected",
            download_rate=int(state.get("dl_info_speed", 0)),
            upload_rate=int(state.get("up_info_speed", 0)),
            counts=dict(self._counts),
            free_space=int(free) if isinstance(free, int | float) else None,
            extra={
                "connection_status": state.get("connection_status"),
                "alltime_download": state.get("alltime_dl"),
                "alltime_upload": state.get("alltime_ul"),
                "global_ratio": state.get("global_ratio"),
                "use_alt_speed_limits": state.get("use_alt_speed_limits"),
                "dht_nodes": state.get("dht_nodes"),
            },
        )

    # ------------------------------------------------------------------ acting

    async def enqueue(self, target: EnqueueTarget, options: EnqueueOptions | None = None) -> list[str]:
        """Add a magnet, URL, .torrent or search hit; returns the info-hashes it knows."""
        opts = options or EnqueueOptions()
        urls: list[str] = []
        files: list[tuple[str, bytes]] = []
        hashes: list[str] = []
        if isinstance(target, Magnet):
            urls.append(validate_magnet(target.uri))
            hashes.extend(_magnet_hashes(target.uri))
        elif isinstance(target, TorrentUrl):
            urls.append(str(validate_http_url(target.url)))
        elif isinstance(target, TorrentFile):
            hashes.append(info_hash_v1(target.content))
            files.append((target.filename, target.content))
        elif isinstance(target, SearchHit):
            if not target.link:
                raise PeerdeckInputError("this search hit has no download link")
            if target.link.startswith("magnet:"):
                urls.append(validate_magnet(target.link))
                hashes.extend(_magnet_hashes(target.link))
            else:
                urls.append(str(validate_http_url(target.link)))
        else:
            raise PeerdeckNotSupportedError(
                f"qBittorrent cannot enqueue a {type(target).__name__}; give a magnet, URL or .torrent file"
            )
        await self.client.torrents_add(
            urls=urls,
            torrent_files=files,
            save_path=opts.save_path,
            category=opts.category,
            tags=opts.tags,
            stopped=opts.start_paused,
        )
        if hashes:
            self._watch_after_action(hashes)
        else:
            self._reconcile_needed = True
        return hashes

    async def pause(self, ids: TransferSelector) -> None:
        """Pause (stop, on 5.x) torrents."""
        await self.client.torrents_stop(self._select(ids))

    async def resume(self, ids: TransferSelector) -> None:
        """Resume (start, on 5.x) torrents."""
        await self.client.torrents_start(self._select(ids))

    async def remove(self, ids: TransferSelector, *, delete_data: bool = False) -> None:
        """Delete torrents, with their data when asked."""
        selected = self._select(ids)
        if isinstance(selected, list):
            # Read first (nearly free by hash): the removal's event carries the category and tags they have now,
            # which another program may have changed without a log line.
            async with self._lock:
                self._apply(*await self._look_up(set(selected)))
        await self.client.torrents_delete(selected, delete_files=delete_data)

    def _select(self, ids: TransferSelector) -> str | list[str]:
        """Validate ids and remember to look them up on the next tick."""
        if ids is ALL:
            self._reconcile_needed = True
            return "all"
        hashes = [validate_info_hash(i) for i in ids]
        if not hashes:
            raise PeerdeckInputError("no torrents given")
        self._watch_after_action(hashes)
        return hashes

    def _watch_after_action(self, hashes: Iterable[str]) -> None:
        """Look these torrents up for a while: an action takes effect a moment later."""
        until = time.monotonic() + _ACTION_WATCH_SECONDS
        for torrent_hash in hashes:
            self._lookup[torrent_hash] = until

    # ------------------------------------------------------------------ search

    async def search(self, query: str, *, timeout: float = 30.0, limit: int | None = None) -> AsyncIterator[SearchHit]:
        """Stream results of qBittorrent's search plugins as they arrive."""
        if not query.strip():
            raise PeerdeckInputError("the search text is empty")
        plugins = await self.client.search_plugins()
        if not any(p.get("enabled") for p in plugins):
            raise PeerdeckNotSupportedError(
                "qBittorrent has no enabled search plugin; install one in its Search tab (it needs Python)"
            )
        search_id = await self.client.search_start(query)
        sent = 0
        deadline = time.monotonic() + timeout
        try:
            while True:
                page = await self.client.search_results(search_id, offset=sent)
                for result in page.get("results") or []:
                    yield _search_hit(result)
                    sent += 1
                    if limit is not None and sent >= limit:
                        return
                if page.get("status") == "Stopped" or time.monotonic() >= deadline:
                    return
                await asyncio.sleep(_SEARCH_POLL)
        finally:
            await asyncio.shield(self._end_search(search_id))

    async def _end_search(self, search_id: int) -> None:
        try:
            await self.client.search_stop(search_id)
            await self.client.search_delete(search_id)
        except Exception:
            return


def _next_window(front: list[str], waiting: set[str]) -> int:
    """How much of a queue's front to look up next tick: as many as moved on this tick, plus a margin.

    qBittorrent takes its check and download queues in order, so the front is where things move;
    when the whole window moved, more may have, and the window doubles.
    """
    moved = sum(1 for torrent_hash in front if torrent_hash not in waiting)
    factor = 2 if front and moved == len(front) else 1
    return min(factor * moved + _WINDOW_MARGIN, _WINDOW_MAX)


def _selection(query: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What a placing list selects (its filter or category), whatever its sorting and limit."""
    return tuple(sorted((key, value) for key, value in query.items() if key in ("status_filter", "category")))


def _search_hit(result: Mapping[str, Any]) -> SearchHit:
    link = str(result.get("fileUrl") or "")
    return SearchHit(
        id=link or str(result.get("descrLink", "")),
        title=str(result.get("fileName", "")),
        size=_opt_int(result.get("fileSize")),
        source=str(result.get("siteUrl") or "") or None,
        seeders=_opt_int(result.get("nbSeeders")),
        leechers=_opt_int(result.get("nbLeechers")),
        link=link or None,
        raw=dict(result),
    )


def _magnet_hashes(uri: str) -> list[str]:
    """Hex v1 info-hashes named by a magnet's ``xt=urn:btih:`` topics (hex or base32)."""
    hashes: list[str] = []
    for part in uri.split("?", 1)[-1].split("&"):
        key, _, value = part.partition("=")
        if key != "xt" or not value.lower().startswith("urn:btih:"):
            continue
        topic = value[9:]
        if len(topic) == 32:
            topic = base64.b32decode(topic.upper()).hex()
        hashes.append(topic.lower())
    return hashes


def _session_totals(server_state: Mapping[str, Any]) -> tuple[int, int]:
    """Bytes down and up since the daemon started: they only go down when it restarts."""
    return _opt_int(server_state.get("dl_info_data")) or 0, _opt_int(server_state.get("up_info_data")) or 0


def _log_mark(entry: Mapping[str, Any]) -> tuple[int, Any, str]:
    return int(entry["id"]), entry.get("timestamp"), str(entry.get("message", ""))


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None
