"""Pause, resume and remove that stick, also while libtorrent has no handle for a download.

Tribler acts on a download's handle; until libtorrent has one (about a second after an add,
after every restart, up to its 30 s DHT wait) a change only marks the download's settings:

* a stop is lost: the handle starts the download anyway (a new one to check what is on disk,
  a reloaded one as it ran before the restart: STOPPED → SEEDING a second later, issue 24);
* a resume sticks (the handle resumes a download not marked stopped, ``download.py``
  ``on_add_torrent_alert``), but is checked the same way;
* a removal drops the download from the list without its handle, so its data is never deleted
  (``download_manager.py`` ``remove_download``: "Cannot remove handle … because it does not exist").

So such a download is acted on once its handle exists, and again until the change shows,
bounded by ``wait`` seconds; a removal waits for the handle before it is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ..exceptions import PeerdeckError, PeerdeckTimeoutError
from .client import TriblerClient

POLL = 0.5
"""Seconds between reads of the list while waiting for handles."""
RESEND_AFTER = 2.0
"""A change once the handle exists takes about a second (Tribler's alert tick); resent if it did not show."""

Act = Callable[[str], Awaitable[None]]


def has_handle(record: Mapping[str, Any]) -> bool:
    """False while libtorrent has no handle for the download (its status is then a placeholder).

    Tribler says EXIT_NODES or LOADING only then, and STOPPED with the integer progress 0
    (libtorrent's progress is always a float).
    """
    status, progress = record.get("status"), record.get("progress")
    if status in ("EXIT_NODES", "LOADING"):
        return False
    return not (status == "STOPPED" and type(progress) is int)


def stopped(record: Mapping[str, Any]) -> bool:
    """The download does not run (stopped, or failed)."""
    return record.get("status") in ("STOPPED", "STOPPED_ON_ERROR")


def running(record: Mapping[str, Any]) -> bool:
    """The download is not stopped."""
    return record.get("status") != "STOPPED"


async def act_on(hashes: Iterable[str], act: Act, concurrency: int) -> dict[str, BaseException | None]:
    """``act`` on each download, ``concurrency`` at a time; each one's error (or None)."""
    slots = asyncio.Semaphore(concurrency)

    async def one(infohash: str) -> None:
        async with slots:
            await act(infohash)

    wanted = list(hashes)
    results = await asyncio.gather(*(one(h) for h in wanted), return_exceptions=True)
    return dict(zip(wanted, results, strict=True))


async def once_loaded(
    client: TriblerClient,
    hashes: list[str],
    act: Act,
    *,
    settled: Callable[[Mapping[str, Any]], bool] | None,
    wait: float,
    concurrency: int,
    at_once: bool,
) -> dict[str, PeerdeckError]:
    """Act on downloads that have no handle yet, so that the change sticks; the failures.

    ``at_once`` acts before the handle exists too (a stop or resume marks the download). Once
    a download has its handle, ``act`` is sent (again) until ``settled`` holds for it (resent
    every :data:`RESEND_AFTER` s); with ``settled`` None it is sent once and the download is
    expected to leave the list. After ``wait`` s a download still without its handle is
    acted on all the same when ``settled`` is None (a removal then leaves its data), else
    it fails with a timeout naming its state. A download gone from the list is done.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    failed: dict[str, PeerdeckError] = {}
    if at_once:
        failed.update(_errors(await act_on(hashes, act, concurrency)))
    todo = [h for h in hashes if h not in failed]
    sent_at: dict[str, float] = {}
    while todo:
        records = {str(r.get("infohash")): r for r in (await client.downloads())["downloads"] if isinstance(r, dict)}
        now = loop.time()
        late = now >= deadline
        due: list[str] = []
        for infohash in list(todo):
            record = records.get(infohash)
            if record is None or (has_handle(record) and settled is not None and settled(record)):
                todo.remove(infohash)
            elif (has_handle(record) or (late and settled is None)) and now - sent_at.get(
                infohash, -RESEND_AFTER
            ) >= RESEND_AFTER:
                due.append(infohash)
        errors = _errors(await act_on(due, act, concurrency))
        sent_at.update(dict.fromkeys(due, now))
        failed.update(errors)
        todo = [h for h in todo if h not in errors and not (late and settled is None and h in due)]
        if not todo:
            break
        if late:
            for infohash in todo:
                status = records[infohash].get("status") if infohash in records else "gone"
                failed[infohash] = PeerdeckTimeoutError(f"it was still {status} after {wait:g} s")
            break
        await asyncio.sleep(POLL)
    return failed


def _errors(results: Mapping[str, BaseException | None]) -> dict[str, PeerdeckError]:
    """The library errors among ``results``; anything else is raised as it is."""
    failed: dict[str, PeerdeckError] = {}
    for infohash, result in results.items():
        if isinstance(result, PeerdeckError):
            failed[infohash] = result
        elif isinstance(result, BaseException):
            raise result
    return failed
