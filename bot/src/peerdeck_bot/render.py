"""Presentation: sizes, rates, ETAs, progress bars and embeds, always within Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import discord

from peerdeck import EnqueueTarget, Magnet, SearchHit, TextRequest, TorrentFile, TorrentUrl, Transfer, TransferState

from .service import ActResult, Report, TransferFilter, active_first
from .state import Delivery, SearchRecord
from .text import clip, plain, plural

NO_MENTIONS = discord.AllowedMentions.none()
PAGE_SIZE = 10
TOP_TRANSFERS = 15
"""Transfers on a daemon's /status page, busiest first; the rest is counted."""
BOARD_TRANSFERS = 5
"""Transfers per daemon on a live status board."""
NAME_MAX = 120
"""Visible characters of a transfer name in a list."""
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
MESSAGE_MAX = 2000
MESSAGE_EMBEDS_MAX = 6000
"""Characters across all embeds of one message."""
EMBEDS_MAX = 10
GREEN, AMBER, RED = 0x2ECC71, 0xF1C40F, 0xE74C3C
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def safe(text: str, limit: int = 200, *, room: int | None = None) -> str:
    """Daemon-provided text made honest (see :func:`plain`) and inert (markdown and mentions escaped),
    showing at most ``limit`` characters.

    The limit counts what the reader sees: escapes are invisible, so a name full of ``_`` keeps as
    many letters as any other. ``room``, where given, bounds the escaped text itself (a Discord field limit).
    """
    raw = plain(text)
    if len(raw) > limit:
        raw = raw[: limit - 1]
        cut = True
    else:
        cut = False
    escaped = _escape(raw) + ("…" if cut else "")
    if room is None or len(escaped) <= room:
        return escaped
    low, high = 0, len(raw)  # the longest prefix whose escaped form and an ellipsis fit in ``room``
    while low < high:
        middle = (low + high + 1) // 2
        if len(_escape(raw[:middle])) + 1 <= room:
            low = middle
        else:
            high = middle - 1
    return _escape(raw[:low]) + "…"


def _escape(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def size(value: int | None) -> str:
    """Bytes in binary units: ``1.5 GiB``."""
    if value is None:
        return "?"
    amount, index = float(value), 0
    while amount >= 1024 and index < len(_UNITS) - 1:
        amount /= 1024
        index += 1
    return f"{value} B" if index == 0 else f"{amount:.1f} {_UNITS[index]}"


def rate(value: int) -> str:
    """Bytes per second: ``1.5 MiB/s``."""
    return f"{size(value)}/s"


def eta(seconds: float | None) -> str:
    """A short duration: ``2h 5m``, ``45s``; ``∞`` when unknown."""
    if seconds is None or seconds < 0:
        return "∞"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def bar(progress: float, width: int = 10) -> str:
    """A text progress bar: ``██████░░░░``."""
    filled = round(min(max(progress, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def fit_lines(lines: Sequence[str], room: int, *, more: str = "") -> str:
    """Whole lines joined while they fit in ``room``; ``more`` (with ``{n}`` = lines left out) ends a cut list."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        left = len(lines) - index
        tail = len(more.format(n=left)) + 1 if more else 0
        if used + len(line) + 1 + (tail if index < len(lines) - 1 else 0) > room:
            if more:
                kept.append(more.format(n=left))
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def target_label(target: EnqueueTarget) -> str:
    """What the user asked to download, as they would name it (a magnet's display name is decoded)."""
    if isinstance(target, SearchHit):
        return target.title
    if isinstance(target, Magnet):
        names = parse_qs(urlsplit(target.uri).query).get("dn")
        return names[0] if names and names[0].strip() else "the magnet link"
    if isinstance(target, TorrentUrl):
        return target.url
    if isinstance(target, TorrentFile):
        return target.filename
    if isinstance(target, TextRequest):
        return target.query
    return target.source


def page_count(record: SearchRecord) -> int:
    """Pages of results (at least one)."""
    return max(1, -(-len(record.hits) // PAGE_SIZE))


def folder_facts(hit: SearchHit) -> list[str]:
    """A folder (album) hit's file count, formats and bit rates; nothing for a single file."""
    if hit.folder is None:
        return []
    facts = [f"📁 {len(hit.folder.files)} files"]
    if hit.folder.formats:
        facts.append("/".join(name.upper() for name in hit.folder.formats[:3]))
    low, high = hit.folder.bitrate_min, hit.folder.bitrate_max
    if low is not None and high is not None:
        facts.append(f"{low} kbps" if low == high else f"{low}-{high} kbps")
    return facts


def hit_details(hit: SearchHit) -> str:
    """One line of facts about a hit, plain text (a folder hit leads with its files and formats)."""
    parts = [*folder_facts(hit), size(hit.size)]
    if hit.seeders is not None:
        parts.append(plural(hit.seeders, "seeder"))
    if hit.bitrate is not None and hit.folder is None:
        parts.append(f"{hit.bitrate} kbps")
    if hit.free_slot is not None:
        parts.append("free slot" if hit.free_slot else f"queue {hit.queue_length or 0}")
    if hit.source:
        parts.append(plain(hit.source))
    return " · ".join(parts)


def search_embed(record: SearchRecord, page: int, selected: set[int]) -> discord.Embed:
    """The result list of one page of a search."""
    embed = discord.Embed(
        title=safe(f"Search: {record.query}", TITLE_MAX, room=TITLE_MAX), colour=GREEN if record.done else AMBER
    )
    start = page * PAGE_SIZE
    lines = []
    for index, hit in enumerate(record.hits[start : start + PAGE_SIZE], start):
        mark = "☑" if index in selected else "▫"
        lines.append(f"{mark} `{index + 1}.` **{safe(hit.title, 180)}**\n{safe(hit_details(hit), 180)}")
    if lines:
        embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
    elif record.done:
        embed.description = "Nothing found. Try other words."
    else:
        embed.description = "Searching…"
    state = "done" if record.done else "searching…"
    hits = plural(len(record.hits), "hit")
    embed.set_footer(text=f"{record.backend} · {hits} · {state} · page {page + 1} of {page_count(record)}")
    return embed


def search_waiting(record: SearchRecord, slots: int) -> discord.Embed:
    """A search queued behind others on the same daemon."""
    embed = discord.Embed(title=safe(f"Search: {record.query}", TITLE_MAX, room=TITLE_MAX), colour=AMBER)
    embed.description = (
        f"Waiting for a free search slot on {safe(record.backend, 40)}: it runs "
        f"{plural(slots, 'search', 'searches')} at a time for this bot. Yours starts as soon as one ends."
    )
    return embed


def status_pages(reports: Sequence[Report], only: TransferFilter | None = None) -> list[discord.Embed]:
    """One page per daemon: connection, speeds and counts, then its busiest transfers (those passing ``only``)."""
    pages = [_daemon_embed(r, TOP_TRANSFERS, DESCRIPTION_MAX, only) for r in reports]
    if len(pages) > 1:
        for index, (page, report) in enumerate(zip(pages, reports, strict=True)):
            page.set_footer(text=f"{report.name} · daemon {index + 1} of {len(pages)}")
    return pages


def board_embeds(reports: Sequence[Report]) -> list[discord.Embed]:
    """A live status board: every daemon in one message, within the message's total size."""
    shown = reports[:EMBEDS_MAX]
    room = (MESSAGE_EMBEDS_MAX - 200) // max(1, len(shown)) - TITLE_MAX
    return [_daemon_embed(r, BOARD_TRANSFERS, room, None) for r in shown]


def _daemon_embed(report: Report, top: int, room: int, only: TransferFilter | None) -> discord.Embed:
    title = safe(f"{report.name} ({report.kind})", TITLE_MAX, room=TITLE_MAX)
    if report.status is None:
        embed = discord.Embed(title=title, colour=RED)
        embed.description = safe(report.error or "unavailable", room, room=room)
        return embed
    status = report.status
    counts = " · ".join(f"{n} {state.value}" for state, n in status.counts.items() if n) or "no transfers"
    summary = [
        f"{'Connected' if status.connected else 'Not connected'} · ↓ {rate(status.download_rate)} · "
        f"↑ {rate(status.upload_rate)}",
        counts + (f" · {size(status.free_space)} free" if status.free_space is not None else ""),
    ]
    if report.filtered and only:
        summary.append(f"Showing {len(report.transfers)} matching {_filter_words(only)}")
    ordered = active_first(report.transfers)
    lines = [_transfer_line(t) for t in ordered[:top]]
    more = len(ordered) - len(lines)
    if not lines:
        lines = ["No matching transfers." if report.filtered else "No transfers right now."]
    head = "\n".join(summary) + "\n\n"
    hint = "" if report.filtered else " (narrow with state: or text:)"
    body = fit_lines(
        [*lines, f"… and {more} more{hint}."] if more else lines,
        room - len(head),
        more="… and {n} more.",
    )
    embed = discord.Embed(title=title, colour=GREEN if status.connected else RED)
    embed.description = head + body
    return embed


def _filter_words(only: TransferFilter) -> str:
    parts = []
    if only.state is not None:
        parts.append(f"state {only.state.value}")
    if only.text.strip():
        parts.append(f"text “{safe(only.text, 50)}”")
    return " and ".join(parts)


def _transfer_line(transfer: Transfer) -> str:
    facts = [transfer.state.value, size(transfer.size)]
    if transfer.state in (TransferState.ACTIVE, TransferState.QUEUED):
        facts += [f"↓ {rate(transfer.download_rate)}", f"ETA {eta(transfer.eta)}"]
    shown = f"{transfer.progress:.0%}" if transfer.progress_known else "progress unknown"
    return f"`{bar(transfer.progress)}` {shown} **{safe(transfer.name, NAME_MAX)}**\n" + " · ".join(facts)


def stamped(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """Copies of a board's embeds, the last one showing when the board was last updated."""
    copies = [e.copy() for e in embeds]
    if copies:
        copies[-1].timestamp = discord.utils.utcnow()
        copies[-1].set_footer(text="Updated")
    return copies


def act_on_all_text(done: str, results: Sequence[ActResult], unable: Sequence[str]) -> str:
    """The answer to ``/pause all`` or ``/resume all``: where it worked, where it failed, who cannot."""
    worked = [safe(r.backend, 40) for r in results if r.error is None]
    lines = [f"{done} all transfers on {_and(worked)}." if worked else f"Nothing was {done.lower()}."]
    lines += [f"❌ {safe(r.error, 300)}" for r in results if r.error is not None]
    lines += [f"• {safe(why, 300)}" for why in unable]
    return fit_lines(lines, MESSAGE_MAX, more="… and {n} more.")


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def help_text(entries: Sequence[tuple[str, str]]) -> str:
    """What the caller may do: ``(command, what it does)`` pairs."""
    if not entries:
        return "You cannot use any Peerdeck command here. Ask a server admin for a role."
    lines = ["**What you can do here**"] + [f"`/{name}` · {what}" for name, what in entries]
    return clip("\n".join(lines), MESSAGE_MAX)


def dm_notice(delivery: Delivery) -> str:
    """A private notice: to the requester, or to someone who asked to be told."""
    verb = "has finished downloading" if delivery.outcome == "completed" else "failed"
    whose = "Your download" if delivery.own else "The download you are watching,"
    return clip(f"{whose} **{safe(delivery.name, 300)}** on {safe(delivery.backend, 40)} {verb}.", MESSAGE_MAX)


def channel_summary(deliveries: Sequence[Delivery]) -> tuple[str | None, discord.Embed, list[int]]:
    """One channel message for everything that finished: mention text, embed, and who may be pinged."""
    lines = []
    for delivery in deliveries:
        icon = "✅" if delivery.outcome == "completed" else "❌"
        who = f" · for <@{delivery.user_id}>" if delivery.user_id is not None else ""
        lines.append(f"{icon} **{safe(delivery.name, 200)}** · {safe(delivery.backend, 40)}{who}")
    failed = any(d.outcome != "completed" for d in deliveries)
    embed = discord.Embed(title="Downloads finished", colour=AMBER if failed else GREEN)
    embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
    pinged = sorted(
        {d.user_id for d in deliveries if d.mention and d.user_id is not None}
        | {u for d in deliveries for u in d.also_ping}
    )
    content = " ".join(f"<@{uid}>" for uid in pinged) or None
    return content, embed, pinged
