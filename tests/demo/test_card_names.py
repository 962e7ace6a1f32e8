"""Hostile and odd names from a daemon, in every place they reach the card, in a real Chromium.

A right-to-left override (U+202E) turns "evil\u202egpj.exe" into "evilexe.jpg" on screen, and in the
delete dialog "Delete evil\u202egpj.exe?" reads "Delete evil?exe.jpg"; zero-width characters make a
name look empty or like another one. The card shows daemon text without them, as text (never markup),
and a name with nothing visible left says so.
"""

from __future__ import annotations

import json
import re

import aiohttp
import pytest

from scripts.demo_support.browser import Browser, Page

from .card_support import open_card_page, run

pytestmark = pytest.mark.daemon

OVERRIDE = "evil\u202egpj.exe"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u2066\u2069"
MARKUP = '<img src=x onerror="window.owned=1">**@everyone** `x`'
HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u061c]")

EVERYWHERE = """
  const entries = [{ entry_id: "e1", title: "qB", daemon: "qbittorrent" },
                   { entry_id: "e2", title: "Box\\u202e2", daemon: "qbittorrent" }];
  await h.mount({ config: { sort: "name" }, entries });
  const base = h.transfers(1)[0];
  const hostile = [
    { ...base, id: "a", name: NAMES.override, category: "mu\\u200bsic", tags: ["x\\u202ey"] },
    { ...base, id: "b", name: NAMES.invisible, category: null, tags: [] },
    { ...base, id: "c", name: NAMES.markup, category: null, tags: [] },
  ];
  h.deliver("e1", h.full("e1", hostile, { title: "qB", capabilities: { search: true, enqueue: true } }));
  h.deliver("e2", h.full("e2", [], { title: "Box\\u202e2", capabilities: { search: true } }));
  await h.nextFrame();
  const root = h.card.shadowRoot;
  const rowEl = (id) => [...root.querySelectorAll(".row")].find((el) => el._key === `e1|${id}`);
  h.hass.answers["peerdeck/transfers/details"] = () => ({ path: "/srv/\\u202eevil", tracker: "http://t\\u200b/" });
  rowEl("a").querySelector(".main").click();
  await h.settle(); await h.settle();
  const details = root.querySelector("dialog.details");
  const detailsText = details.textContent;
  details.close();
  rowEl("a").querySelector(".delete").click();
  const dialog = root.querySelector("dialog.confirm-delete").textContent;
  root.querySelector("dialog .cancel").click();
  h.hass.answers["peerdeck/transfers/act"] = () => Promise.reject({ message: "no such torrent \\u202eexe.txt" });
  rowEl("c").querySelector(".toggle").click();
  await h.settle(); await h.settle();
  root.querySelector(".open-search").click();
  root.querySelector(".search-query").value = "x";
  root.querySelector(".search-panel").requestSubmit();
  await h.settle();
  h.hass.connection.searches[0].callback({ hits: [
    { id: "h1", title: NAMES.override, size: 1, seeders: 1, source: "al\\u202eice" },
    { id: "h2", title: NAMES.invisible, size: 1, seeders: 1, source: null }] });
  const labels = [...root.querySelectorAll("[aria-label], [title]")]
    .flatMap((el) => [el.getAttribute("aria-label"), el.getAttribute("title")]).filter(Boolean);
  return {
    rows: Object.fromEntries(["a", "b", "c"].map((id) => [id, rowEl(id).querySelector(".name").textContent])),
    meta: rowEl("a").querySelector(".meta").textContent,
    status: rowEl("c").querySelector(".status").textContent,
    entries: [...root.querySelectorAll(".search-entry option")].map((o) => o.textContent),
    categories: [...root.querySelectorAll(".category-filter option")].map((o) => o.textContent),
    detailsText, dialog, labels, heard: h.text(".live"), count: h.text(".count"),
    hits: [...root.querySelectorAll(".hits li")].map((li) => li.textContent),
    images: root.querySelectorAll("img").length, owned: Boolean(window.owned),
    all: root.textContent,
  };
"""


async def test_hostile_names_are_shown_honestly_everywhere(page: Page) -> None:
    names = {"override": OVERRIDE, "invisible": INVISIBLE, "markup": MARKUP}
    result = await run(page, f"const NAMES = {json.dumps(names)};" + EVERYWHERE)

    # No direction override or invisible character anywhere on screen or in what a screen reader hears.
    for text in [result["all"], result["dialog"], result["detailsText"], result["heard"], *result["labels"]]:
        found = HIDDEN.search(text)
        assert found is None, repr(text[max(0, found.start() - 60) : found.end() + 60])
    assert result["rows"]["a"] == "evilgpj.exe"
    assert result["rows"]["b"] == "(no visible name)"  # never an empty-looking row
    assert result["rows"]["c"] == MARKUP  # shown as text, never as markup
    assert result["images"] == 0 and result["owned"] is False
    assert "Delete evilgpj.exe?" in result["dialog"]
    assert "/srv/evil" in result["detailsText"] and "http://t/" in result["detailsText"]
    assert "music" in result["categories"]
    assert "music" in result["meta"] and "#xy" in result["meta"]
    assert result["entries"] == ["qB", "Box2"]
    assert result["status"].endswith("no such torrent exe.txt")
    assert result["hits"][0].startswith("evilgpj.exe") and "alice" in result["hits"][0]
    assert result["hits"][1].startswith("(no visible name)")


async def test_a_very_long_name_is_cut_with_an_ellipsis_in_one_line(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1" } });
        h.deliver("e1", h.full("e1", [{ ...h.transfers(1)[0], name: "Ω".repeat(5000) + " end" }]));
        await h.nextFrame();
        const name = h.card.shadowRoot.querySelector(".row .name");
        const row = name.closest(".row").getBoundingClientRect();
        return { cut: name.scrollWidth > name.clientWidth, ellipsis: getComputedStyle(name).textOverflow,
                 rowHeight: row.height, title: name.title.length };
        """,
    )
    assert result["cut"] is True and result["ellipsis"] == "ellipsis"
    assert result["rowHeight"] == 64
    assert result["title"] == 5004  # the whole name on hover


async def test_details_of_two_transfers_with_the_same_name_never_mix(page: Page) -> None:
    """The same file name on two entries: a late answer for the first never fills the second's details."""
    result = await run(
        page,
        """
        const entries = [{ entry_id: "e1", title: "qB", daemon: "qbittorrent" },
                         { entry_id: "e2", title: "Box", daemon: "qbittorrent" }];
        await h.mount({ config: { sort: "name" }, entries });
        const base = h.transfers(1)[0];
        h.deliver("e1", h.full("e1", [{ ...base, id: "a", name: "same.iso", path: "/one" }], { title: "qB" }));
        h.deliver("e2", h.full("e2", [{ ...base, id: "b", name: "same.iso", path: "/two" }], { title: "Box" }));
        await h.nextFrame();
        const answers = {};
        h.hass.answers["peerdeck/transfers/details"] = (message) =>
          new Promise((resolve) => {
            answers[message.entry_id] = () => resolve({ path: `/late-${message.entry_id}` });
          });
        const root = h.card.shadowRoot;
        const rowEl = (key) => [...root.querySelectorAll(".row")].find((el) => el._key === key);
        rowEl("e1|a").querySelector(".main").click();
        await h.settle();
        root.querySelector("dialog.details").close();
        rowEl("e2|b").querySelector(".main").click();
        await h.settle();
        answers.e1();
        await h.settle(); await h.settle();
        const afterFirst = root.querySelector("dialog.details dl").textContent;
        answers.e2();
        await h.settle(); await h.settle();
        return { afterFirst, afterSecond: root.querySelector("dialog.details dl").textContent };
        """,
    )
    assert "/two" in result["afterFirst"] and "/late-e1" not in result["afterFirst"]
    assert "/late-e2" in result["afterSecond"]


async def test_a_very_long_name_leaves_the_dialogs_buttons_on_a_phone_screen() -> None:
    """A 3,000-character name in the delete dialog: the whole name can be read, and Cancel and Delete stay in view."""
    async with (
        aiohttp.ClientSession() as session,
        Browser() as browser,
        open_card_page(session, browser, width=390, height=844) as page,
    ):
        result = await run(
            page,
            """
            await h.mount({ config: { entry: "e1" } });
            h.deliver("e1", h.full("e1", [{ ...h.transfers(1)[0], name: "Ω".repeat(3000) + " end.iso" }]));
            await h.nextFrame();
            const root = h.card.shadowRoot;
            root.querySelector(".row .delete").click();
            const dialog = root.querySelector("dialog.confirm-delete");
            const box = (selector) => dialog.querySelector(selector).getBoundingClientRect();
            const inView = (r) => r.top >= 0 && r.bottom <= innerHeight;
            return { fits: dialog.getBoundingClientRect().height <= innerHeight,
                     buttons: inView(box(".cancel")) && inView(box(".confirm")),
                     title: dialog.querySelector("h2").textContent.length };
            """,
        )
    assert result["fits"] and result["buttons"]
    assert result["title"] == len("Delete ?") + 3008  # the whole name is there, in a box that scrolls
