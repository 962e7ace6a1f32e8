"""qBittorrent behind Peerdeck's unified :class:`~peerdeck.backend.Backend`.

The update path is built around what calls cost the daemon (measured at 2,000 torrents:
every ``sync/maindata`` or unfiltered ``torrents/info`` costs ~0.5 s of daemon CPU, filtered
lists cost in proportion to what they match, and ``transfer/info``, ``log/main`` deltas and
``hashes=`` look-ups cost almost nothing):

* every tick: ``transfer/info``, the torrents moving data (``filter=active``) and a
  ``hashes=`` look-up of the running torrents that can still finish or fail on their own
  (downloading, stalled, queued, checking, moving) and of those that just stopped moving;
* every tick, the new lines of qBittorrent's log: it logs each add, pause, resume and
  removal, so lines we did not cause mean someone else acted; every few ticks, a one-row
  probe of the (small) running list;
* the expensive ``sync/maindata`` (merged from deltas) only to start, when the log or the
  probe shows a change made elsewhere, after ``ALL`` actions, and as a slow reconciliation.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ..backend import TrackedBackend, count_states
from ..client import DEFAULT_TIMEOUT
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
from .client import JsonObject, QBittorrentClient
from .maindata import MaindataState
from .torrentfile import info_hash_v1

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
_ACTION_WATCH_SECONDS = 30.0
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
        probe_every: int = 6,
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
        self.probe_every = max(1, probe_every)
        self._maindata = MaindataState()
        self._torrents: dict[str, JsonObject] = {}
        self._progressing: set[str] = set()
        """Running torrents that can still finish or fail on their own (kept as records change)."""
        self._paused: set[str] = set()
        self._server_state: JsonObject = {}
        self._transfers: dict[str, Transfer] = {}
        self._lookup: dict[str, float] = {}
        """Torrents we acted on, looked up by hash until this monotonic time (actions apply a moment later)."""
        self._was_moving: set[str] = set()
        self._log_id: int | None = None
        self._expected_log_lines = 0
        self._reconcile_needed = True
        self._last_reconcile = 0.0
        self._tick = 0

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
        """The cheap tick, or the reconciliation when it is due or the tick calls for it."""
        self._tick += 1
        due = time.monotonic() - self._last_reconcile >= self.reconcile_interval
        if self._reconcile_needed or due:
            await self._reconcile()
        else:
            outcome = await self._cheap_tick()
            if outcome is None:
                await self._reconcile()
            else:
                self._apply(*outcome)
        return self._build_status(), dict(self._transfers)

    async def reconcile(self) -> None:
        """Fetch the expensive full picture now (``sync/maindata`` deltas merged in place)."""
        async with self._lock:
            await self._reconcile()

    async def _reconcile(self) -> None:
        if self._log_id is None:
            entries = await self.client.log_main()
            self._log_id = int(entries[-1]["id"]) if entries else -1
        data = await self.client.sync_maindata(self._maindata.rid)
        self._maindata.apply(data)
        self._torrents = {h: dict(r) for h, r in self._maindata.torrents.items()}
        self._progressing = {h for h, r in self._torrents.items() if _can_progress(r)}
        self._paused = {h for h, r in self._torrents.items() if _is_paused(r)}
        self._server_state = dict(self._maindata.server_state)
        self._transfers = {h: to_transfer(h, r) for h, r in self._torrents.items()}
        self._announce(self._tracker.observe(self._transfers))
        self._reconcile_needed = False
        self._last_reconcile = time.monotonic()
        self._expected_log_lines = 0

    async def _cheap_tick(self) -> tuple[set[str], set[str]] | None:
        """Refresh what can change by itself; returns the hashes changed and removed, or
        None when a change made elsewhere calls for a reconciliation."""
        self._server_state.update(await self.client.transfer_info())
        moving = self._merge(await self.client.torrents_info(status_filter="active"))
        # Torrents that can finish or fail on their own, and those that just stopped moving
        # (their rates drop to zero), are looked up by hash; finished ones only change when
        # someone acts on them, which qBittorrent's log and the running-count probe reveal.
        now = time.monotonic()
        self._lookup = {h: until for h, until in self._lookup.items() if until >= now}
        watch = self._progressing | self._was_moving | set(self._lookup)
        found, removed = await self._look_up(watch - moving)
        self._was_moving = moving
        if await self._log_shows_outside_changes():
            return None
        if self._tick % self.probe_every == 0 and await self._running_count_moved():
            return None
        return moving | found, removed

    def _apply(self, changed: set[str], removed: set[str]) -> None:
        refreshed = [to_transfer(h, self._torrents[h]) for h in changed if h in self._torrents]
        for transfer in refreshed:
            self._transfers[transfer.id] = transfer
        for torrent_hash in removed:
            self._transfers.pop(torrent_hash, None)
        self._announce(self._tracker.observe_changes(refreshed, removed))

    def _merge(self, records: Iterable[JsonObject]) -> set[str]:
        seen: set[str] = set()
        for record in records:
            torrent_hash = str(record.get("hash", ""))
            if torrent_hash:
                self._torrents[torrent_hash] = record
                _mark(self._progressing, torrent_hash, _can_progress(record))
                _mark(self._paused, torrent_hash, _is_paused(record))
                seen.add(torrent_hash)
        return seen

    async def _look_up(self, hashes: set[str]) -> tuple[set[str], set[str]]:
        """Refresh some torrents by hash; returns those found and those the daemon no longer has."""
        wanted = sorted(hashes)
        found: set[str] = set()
        removed: set[str] = set()
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            present = self._merge(await self.client.torrents_info(hashes=chunk))
            found |= present
            for torrent_hash in set(chunk) - present:
                self._progressing.discard(torrent_hash)
                self._paused.discard(torrent_hash)
                if self._torrents.pop(torrent_hash, None) is not None:
                    removed.add(torrent_hash)
        return found, removed

    async def _log_shows_outside_changes(self) -> bool:
        """qBittorrent logs every add, pause, resume and removal: more lines than we caused means
        someone else acted (web UI, RSS, another client) and a reconciliation is due."""
        entries = await self.client.log_main(last_known_id=self._log_id if self._log_id is not None else -1)
        if entries:
            self._log_id = int(entries[-1]["id"])
        unexplained = len(entries) - self._expected_log_lines
        self._expected_log_lines = 0
        return unexplained > 0

    async def _running_count_moved(self) -> bool:
        """One-row probe of the (small) running list: a seeding torrent paused elsewhere shows here."""
        running = len(self._torrents) - len(self._paused)
        name = await self.client.status_filter_name("resumed")
        rows = await self.client.torrents_info(status_filter=name, limit=2, offset=max(running - 1, 0))
        return len(rows) != min(running, 1)

    def _build_status(self) -> Status:
        counts = count_states(self._transfers.values())
        state = self._server_state
        free = state.get("free_space_on_disk")
        return Status(
            connected=state.get("connection_status", "connected") != "disconnected",
            download_rate=int(state.get("dl_info_speed", 0)),
            upload_rate=int(state.get("up_info_speed", 0)),
            counts=counts,
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
            self._expected_log_lines += len(hashes)
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
        await self.client.torrents_delete(self._select(ids), delete_files=delete_data)

    def _select(self, ids: TransferSelector) -> str | list[str]:
        """Validate ids and remember to look them up on the next tick."""
        if ids is ALL:
            self._reconcile_needed = True
            return "all"
        hashes = [validate_info_hash(i) for i in ids]
        if not hashes:
            raise PeerdeckInputError("no torrents given")
        self._watch_after_action(hashes)
        self._expected_log_lines += len(hashes)
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


def _mark(members: set[str], torrent_hash: str, member: bool) -> None:
    if member:
        members.add(torrent_hash)
    else:
        members.discard(torrent_hash)


def _is_paused(record: Mapping[str, Any]) -> bool:
    return STATE_MAP.get(str(record.get("state"))) is TransferState.PAUSED


def _can_progress(record: Mapping[str, Any]) -> bool:
    """Running torrents that are still downloading, checking or moving."""
    state = str(record.get("state"))
    if _is_paused(record) or STATE_MAP.get(state) is TransferState.FAILED:
        return False
    return float(record.get("progress", 0.0)) < 1.0 or state.startswith(("checking", "moving"))


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


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None
