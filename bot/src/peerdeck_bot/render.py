"""Presentation: sizes, rates, ETAs, progress bars and embeds, always within Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from peerdeck import SearchHit, Transfer, TransferState

from .service import Report, active_first
from .state import Delivery, SearchRecord

NO_MENTIONS = discord.AllowedMentions.none()
PAGE_SIZE = 10
TOP_TRANSFERS = 8
"""Transfers per /status page."""
MAX_STATUS_PAGES = 5
"""Pages per backend; the rest is counted."""
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
MESSAGE_MAX = 2000
GREEN, AMBER, RED = 0x2ECC71, 0xF1C40F, 0xE74C3C
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe(text: str, limit: int = 200) -> str:
    """Daemon-provided text made inert (markdown and mentions escaped) and cut to ``limit``."""
    raw = " ".join(text.split()) or "(no name)"
    escaped = _escape(raw)
    while len(escaped) > limit:
        raw = raw[: len(raw) - (len(escaped) - limit) - 1]
        escaped = _escape(raw) + "…"
    return escaped


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


def page_count(record: SearchRecord) -> int:
    """Pages of results (at least one)."""
    return max(1, -(-len(record.hits) // PAGE_SIZE))


def hit_details(hit: SearchHit) -> str:
    """One line of facts about a hit, plain text."""
    parts = [size(hit.size)]
    if hit.seeders is not None:
        parts.append(f"{hit.seeders} seeders")
    if hit.bitrate is not None:
        parts.append(f"{hit.bitrate} kbps")
    if hit.free_slot is not None:
        parts.append("free slot" if hit.free_slot else f"queue {hit.queue_length or 0}")
    if hit.source:
        parts.append(hit.source)
    return " · ".join(parts)


def search_embed(record: SearchRecord, page: int, selected: set[int]) -> discord.Embed:
    """The result list of one page of a search."""
    embed = discord.Embed(title=safe(f"Search: {record.query}", TITLE_MAX), colour=GREEN if record.done else AMBER)
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
    embed.set_footer(
        text=f"{record.backend} · {len(record.hits)} hits · {state} · page {page + 1} of {page_count(record)}"
    )
    return embed


def status_pages(reports: Sequence[Report]) -> list[discord.Embed]:
    """Per backend: connection, speeds and counts, then its transfers, busiest first, paged."""
    return [page for report in reports for page in _status_embeds(report)]


def _status_embeds(report: Report) -> list[discord.Embed]:
    title = f"{report.name} ({report.kind})"
    if report.status is None:
        embed = discord.Embed(title=safe(title, TITLE_MAX), colour=RED)
        embed.description = safe(report.error or "unavailable", DESCRIPTION_MAX)
        return [embed]
    status = report.status
    counts = " · ".join(f"{n} {state.value}" for state, n in status.counts.items() if n) or "no transfers"
    summary = [
        f"{'Connected' if status.connected else 'Not connected'} · ↓ {rate(status.download_rate)} · "
        f"↑ {rate(status.upload_rate)}",
        counts,
    ]
    if status.free_space is not None:
        summary.append(f"{size(status.free_space)} free")
    ordered = active_first(report.transfers)
    shown = ordered[: TOP_TRANSFERS * MAX_STATUS_PAGES]
    chunks = [shown[i : i + TOP_TRANSFERS] for i in range(0, len(shown), TOP_TRANSFERS)] or [[]]
    embeds = []
    for chunk in chunks:
        lines = ["\n".join(summary), ""]
        lines += [_transfer_line(t) for t in chunk] or ["No transfers right now."]
        if chunk is chunks[-1] and len(ordered) > len(shown):
            lines.append(f"… and {len(ordered) - len(shown)} more.")
        embed = discord.Embed(title=safe(title, TITLE_MAX), colour=GREEN if status.connected else RED)
        embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
        embeds.append(embed)
    return embeds


def _transfer_line(transfer: Transfer) -> str:
    facts = [transfer.state.value, size(transfer.size)]
    if transfer.state in (TransferState.ACTIVE, TransferState.QUEUED):
        facts += [f"↓ {rate(transfer.download_rate)}", f"ETA {eta(transfer.eta)}"]
    shown = f"{transfer.progress:.0%}" if transfer.progress_known else "progress unknown"
    return f"`{bar(transfer.progress)}` {shown} **{safe(transfer.name, 120)}**\n" + " · ".join(facts)


def with_page_footer(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """Number the pages when there is more than one."""
    if len(embeds) > 1:
        for index, embed in enumerate(embeds):
            embed.set_footer(text=f"Page {index + 1} of {len(embeds)}")
    return list(embeds)


def dm_notice(delivery: Delivery) -> str:
    """The requester's private notice."""
    verb = "has finished downloading" if delivery.outcome == "completed" else "failed"
    return clip(f"Your download **{safe(delivery.name, 300)}** on {safe(delivery.backend, 40)} {verb}.", MESSAGE_MAX)


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
    pinged = sorted({d.user_id for d in deliveries if d.mention and d.user_id is not None})
    content = " ".join(f"<@{uid}>" for uid in pinged) or None
    return content, embed, pinged
