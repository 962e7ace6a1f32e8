"""Presentation: formats and Discord's limits."""

from __future__ import annotations

import re

import discord
import pytest

from peerdeck import SearchHit, Status, Transfer, TransferState
from peerdeck_bot import render
from peerdeck_bot.service import Report
from peerdeck_bot.state import SearchRecord
from peerdeck_bot.views import search_view


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "?"), (512, "512 B"), (1536, "1.5 KiB"), (5 * 1024**3, "5.0 GiB"), (3 * 1024**6, "3072.0 PiB")],
)
def test_size(value: int | None, text: str) -> None:
    assert render.size(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "∞"), (-1, "∞"), (45, "45s"), (125, "2m 5s"), (7260, "2h 1m"), (90000, "1d 1h")]
)
def test_eta(seconds: float | None, text: str) -> None:
    assert render.eta(seconds) == text


def test_bar_and_rate() -> None:
    assert render.bar(0.0) == "░" * 10
    assert render.bar(0.55) == "██████░░░░"
    assert render.bar(2.0) == "█" * 10
    assert render.rate(2048) == "2.0 KiB/s"


def visible(text: str) -> str:
    """What Discord shows of escaped text: the escaping backslashes and zero-width spaces disappear."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


def test_safe_escapes_and_respects_the_limit() -> None:
    text = render.safe("_a_ " * 100 + "@here", 50)
    assert len(visible(text)) == 50
    assert text.endswith("…")
    assert "@here" not in render.safe("hi @here")
    assert render.safe("a*b") == "a\\*b"
    assert render.safe("  \n ") == "(no visible name)"


def test_search_embed_and_menu_stay_within_limits() -> None:
    long = "x_*" * 200
    record = SearchRecord(
        "abcdef0123", 1, "seedbox", long, [SearchHit(str(i), long, size=1, source=long) for i in range(30)]
    )
    embed = render.search_embed(record, 2, {20, 21})
    view = search_view(record, 2, {20, 21})

    assert len(embed) <= 6000
    assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
    assert "page 3 of 3" in (embed.footer.text or "")
    assert view is not None
    menu = view.to_components()
    select = menu[0]["components"][0]
    assert len(select["options"]) == 10
    assert all(len(o["label"]) <= 100 and len(o.get("description", "")) <= 100 for o in select["options"])
    assert [o["value"] for o in select["options"] if o.get("default")] == ["20", "21"]
    assert all(len(c["custom_id"]) <= 100 for row in menu for c in row["components"])


def test_status_has_one_page_per_daemon_with_the_busiest_transfers() -> None:
    transfers = tuple(Transfer(str(i), "n" * 300, TransferState.ACTIVE, progress=0.5) for i in range(50))
    pages = render.status_pages(
        [
            Report("down", "slskd", None, error="down cannot be reached right now."),
            Report("box", "qbittorrent", Status(True, 10, 20, {TransferState.ACTIVE: 50}), transfers),
        ]
    )

    assert len(pages) == 2
    assert pages[0].colour == discord.Colour(render.RED)
    assert "cannot be reached" in (pages[0].description or "")
    assert all(len(p) <= 6000 and len(p.description or "") <= 4096 for p in pages)
    shown = (pages[1].description or "").count("█████░░░░░")
    assert 0 < shown <= render.TOP_TRANSFERS
    assert f"… and {50 - shown} more" in (pages[1].description or "")
    assert pages[1].footer.text == "box · daemon 2 of 2"
