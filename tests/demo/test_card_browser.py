"""The Peerdeck card in a real headless Chromium, fed scripted ``peerdeck/transfers/subscribe`` messages.

The page (bench/card_page.py) loads the card's own files as Home Assistant serves them; a scripted
``hass`` records the actions the card calls. The demo test drives the same card against real daemons.
"""

from __future__ import annotations

import pytest

from scripts.demo_support.browser import Page

from .card_support import run

pytestmark = pytest.mark.daemon


MOUNT_2000 = """
  await h.mount({ config: { entry: "e1", sort: "name" } });
  h.deliver("e1", h.full("e1", h.transfers(2000)));
  await h.nextFrame();
"""


async def test_two_thousand_rows_are_virtualised(page: Page) -> None:
    result = await run(
        page,
        MOUNT_2000
        + """
        const elements = h.card.shadowRoot.querySelectorAll(".row").length;
        const first = h.shownRows();
        const viewport = h.card.shadowRoot.querySelector(".viewport");
        viewport.scrollTop = viewport.scrollHeight;
        await h.nextFrame(); await h.nextFrame();
        const last = h.shownRows();
        const names = h.transfers(2000).map((row) => row.name)
          .sort(new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }).compare);
        return { elements, first: first.map((r) => r.name), last: last.map((r) => r.name),
                 lastIndex: last[last.length - 1].index, expectedFirst: names[0], expectedLast: names[1999],
                 count: h.text(".count") };
        """,
    )
    assert result["elements"] <= 20  # 8 visible rows and a few either side, not 2,000
    assert result["first"][0] == result["expectedFirst"]
    assert result["lastIndex"] == 1999
    assert result["last"][-1] == result["expectedLast"]
    assert result["count"] == "2000 of 2000"


async def test_a_diff_of_ten_rows_touches_only_those_rows(page: Page) -> None:
    result = await run(
        page,
        MOUNT_2000
        + """
        const keys = h.card._keys.slice(0, 10).map((key) => key.split("|")[1]);
        const off = h.card._keys.slice(1500, 1510).map((key) => key.split("|")[1]);
        const touched = await h.mutatedRows(() => h.deliver("e1", {
          changed: keys.map((id, n) => ({ id, progress: 0.5, download_rate: 1000 * (n + 1) })) }));
        const offscreen = await h.mutatedRows(() => h.deliver("e1", {
          changed: off.map((id) => ({ id, progress: 0.5 })) }));
        const rows = h.shownRows();
        h.deliver("e1", { changed: [{ id: keys[1], progress: null }] });
        const unknown = h.shownRows()[1].percent;
        return { touched: touched.sort((a, b) => a - b), offscreen, percent: rows[0].percent, meta: rows[0].meta,
                 unknown };
        """,
    )
    assert result["touched"] == list(range(10))
    assert result["offscreen"] == []  # rows out of view cost no DOM work
    assert result["percent"] == "50%"
    assert result["unknown"] == "\u2013"  # an en dash: progress the daemon cannot tell (SoulSync) is not shown as 0 %
    assert "1 kB/s" in result["meta"]


async def test_added_removed_filters_and_sort(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "progress" } });
        const rows = h.transfers(6);
        h.deliver("e1", h.full("e1", rows));
        const byProgress = h.shownRows().map((r) => r.name);
        const expected = [...rows].sort((a, b) => b.progress - a.progress).map((r) => r.name);
        const added = { ...rows[0], id: "new", name: "zzz-new.iso", progress: 2 };
        h.deliver("e1", { added: [added], removed: [rows[1].id] });
        const afterDiff = h.shownRows().map((r) => r.name);
        const root = h.card.shadowRoot;
        const filter = root.querySelector(".filter");
        filter.value = "zzz"; filter.dispatchEvent(new Event("input"));
        const filtered = h.shownRows().map((r) => r.name);
        filter.value = ""; filter.dispatchEvent(new Event("input"));
        const state = root.querySelector(".state-filter");
        state.value = "paused"; state.dispatchEvent(new Event("change"));
        const paused = h.shownRows().map((r) => r.state);
        return { byProgress, expected, afterDiff, removed: rows[1].name, filtered, paused, count: h.text(".count") };
        """,
    )
    assert result["byProgress"] == result["expected"]
    assert result["afterDiff"][0] == "zzz-new.iso"  # progress 2 sorts first, descending
    assert result["removed"] not in result["afterDiff"]
    assert len(result["afterDiff"]) == 6
    assert result["filtered"] == ["zzz-new.iso"]
    assert result["paused"]
    assert set(result["paused"]) == {"paused"}
    assert result["count"] == f"{len(result['paused'])} of 6"


async def test_buttons_act_through_the_integrations_commands(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        const rows = h.transfers(5);
        h.deliver("e1", h.full("e1", rows));
        const root = h.card.shadowRoot;
        const elements = [...root.querySelectorAll(".row")].sort((a, b) => a._index - b._index);
        const shown = h.shownRows();
        const idOf = (index) => h.card._keys[index].split("|")[1];
        const active = shown.findIndex((r) => r.state !== "paused");
        const paused = shown.findIndex((r) => r.state === "paused");
        elements[active].querySelector(".toggle").click();
        elements[paused].querySelector(".toggle").click();
        await h.until(() => !h.card._pending.size);
        elements[active].querySelector(".delete").click();
        const dialogOpen = root.querySelector("dialog").open;
        const dialogTitle = root.querySelector("dialog h2").textContent;
        const explain = root.querySelector("dialog .explain").textContent;
        root.querySelector("dialog .delete-data").click();
        root.querySelector("dialog .confirm").click();
        await h.until(() => h.hass.commands.length === 3 && !h.card._pending.size);
        elements[paused].querySelector(".delete").click();
        root.querySelector("dialog .cancel").click();
        await h.settle();
        root.querySelector(".pause-all").click();
        await h.until(() => h.hass.commands.length === 4);
        return { commands: h.hass.commands, calls: h.hass.calls, active: idOf(active), paused: idOf(paused),
                 dialogOpen, dialogTitle, explain, activeName: shown[active].name,
                 labels: [shown[active].toggleLabel, shown[paused].toggleLabel] };
        """,
    )
    active, paused = result["active"], result["paused"]
    assert result["dialogOpen"] is True
    assert result["dialogTitle"] == f"Delete {result['activeName']}?"
    assert "files stay on disk unless you tick" in result["explain"]  # qBittorrent: what deleting does
    assert result["labels"] == [f"Pause: {result['activeName']}", result["labels"][1]]
    assert result["labels"][1].startswith("Resume: ")
    act = {"type": "peerdeck/transfers/act", "entry_id": "e1"}
    assert result["commands"] == [
        {**act, "action": "pause", "ids": [active]},
        {**act, "action": "resume", "ids": [paused]},
        {**act, "action": "remove", "ids": [active], "delete_data": True},
        {**act, "action": "pause"},
    ]
    assert result["calls"] == []


async def test_merged_entries_names_theme_and_language(page: Page) -> None:
    result = await run(
        page,
        """
        const entries = [{ entry_id: "q", title: "qBittorrent" }, { entry_id: "s", title: "Syncthing" }];
        const subscribed = await h.mount({ config: {}, entries, language: "nl" });
        const long = "a-very-long-name-".repeat(20) + ".iso";
        h.deliver("q", h.full("q", [{ ...h.transfers(1)[0], name: long }], { title: "qBittorrent" }));
        // Syncthing's rows sort after the first list's row (no date), so that row stays where it was bound.
        h.deliver("s", h.full("s", [{ ...h.transfers(2)[1], id: "folder:demo", name: "Demo", category: "folder",
          tags: ["device:ABC"], added_at: null },
          { ...h.transfers(1)[0], id: "device:ABC", name: "Laptop", category: "device", added_at: null }],
          { title: "Syncthing", capabilities: { delete_data: false } }));
        await h.nextFrame();
        const root = h.card.shadowRoot;
        const names = [...root.querySelectorAll(".row:not([hidden]) .name")];
        const longName = names.find((el) => el.title === long);
        const before = getComputedStyle(longName).color;
        h.card.style.setProperty("--primary-text-color", "rgb(1, 2, 3)");
        const themed = getComputedStyle(longName).color;
        const folder = h.shownRows().find((r) => r.name === "Demo");
        const first = h.shownRows().find((r) => r.title === long);
        return { subscribed, rows: h.shownRows().length, overflow: longName.scrollWidth > longName.clientWidth,
                 ellipsis: getComputedStyle(longName).textOverflow, title: longName.title === long,
                 pauseAll: root.querySelector(".pause-all span").textContent, before, themed, folderMeta: folder.meta,
                 firstMeta: first.meta };
        """,
    )
    assert result["subscribed"] == ["q", "s"]
    assert result["rows"] == 3
    assert result["overflow"] is True
    assert result["ellipsis"] == "ellipsis"
    assert result["title"] is True
    assert result["pauseAll"] == "Alles pauzeren"
    assert result["themed"] == "rgb(1, 2, 3)"
    assert result["themed"] != result["before"]
    assert "Syncthing" in result["folderMeta"]
    assert "Laptop" in result["folderMeta"]  # the peer's name, not its device id
    assert "qBittorrent" in result["firstMeta"]  # shown before the second entry's list came, then re-bound


async def test_every_language_has_every_string_and_the_editor_keeps_only_changes(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1" } });
        const { STRINGS } = await import("/peerdeck_frontend/translations.js");
        const missing = {};
        for (const [language, table] of Object.entries(STRINGS)) {
          missing[language] = Object.keys(STRINGS.en).filter((key) => !(key in table));
        }
        // Home Assistant's ha-form, as far as the editor uses it: an element that takes properties.
        if (!customElements.get("ha-form")) customElements.define("ha-form", class extends HTMLElement {});
        const Card = customElements.get("peerdeck-transfers-card");
        const editor = await Card.getConfigElement();
        const seen = [];
        editor.addEventListener("config-changed", (event) => seen.push(event.detail.config));
        editor.setConfig({ type: "custom:peerdeck-transfers-card" });
        editor.hass = { language: "en", locale: { language: "en" } };
        await h.settle();
        const form = editor.querySelector("ha-form");
        const fields = form.schema.map((field) => field.name);
        const value = { ...form.data, entry: "e1", sort: "rate" };
        form.dispatchEvent(new CustomEvent("value-changed", { detail: { value } }));
        let invalid = "";
        try { h.card.setConfig({ sort: "speed" }); } catch (err) { invalid = err.message; }
        const picker = window.customCards.filter((card) => card.type === "peerdeck-transfers-card");
        return { missing, fields, seen, invalid, stub: Card.getStubConfig(), picker: picker.length };
        """,
    )
    assert result["missing"] == {"en": [], "nl": [], "de": []}
    assert result["fields"] == ["entry", "title", "columns", "states", "sort", "descending", "rows"]
    assert result["seen"] == [{"type": "custom:peerdeck-transfers-card", "entry": "e1", "sort": "rate"}]
    assert result["invalid"].startswith("sort must be one of")
    assert result["stub"] == {}
    assert result["picker"] == 1


async def test_long_press_silence_and_unload(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        const rows = h.transfers(3);
        h.deliver("e1", h.full("e1", rows));
        const root = h.card.shadowRoot;
        const name = [...root.querySelectorAll(".row:not([hidden]) .name")][1];
        name.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true, composed: true }));
        await new Promise((resolve) => setTimeout(resolve, 700));
        const tip = root.querySelector(".fullname");
        const pressed = { hidden: tip.hidden, text: tip.textContent, name: name.title };
        h.deliver("e1", { status: { available: false, download_rate: 0, upload_rate: 0 } });
        const silent = h.text(".notice");
        h.deliver("e1", { status: { available: true, download_rate: 5, upload_rate: 0 } });
        const back = h.text(".notice");
        h.deliver("e1", { closed: true });
        return { pressed, silent, back, afterClose: h.shownRows().length };
        """,
    )
    assert result["pressed"] == {"hidden": False, "text": result["pressed"]["name"], "name": result["pressed"]["name"]}
    assert result["silent"] == "qBittorrent does not answer; showing the last known transfers"
    assert result["back"] == ""
    assert result["afterClose"] == 0  # an unloaded entry's rows go; the card subscribes again later


async def test_hass_before_the_config_still_subscribes(page: Page) -> None:
    """Home Assistant sets the config first, but a card made by hand may get ``hass`` first."""
    result = await run(
        page,
        """
        document.body.replaceChildren();
        const card = document.createElement("peerdeck-transfers-card");
        const subscribed = [];
        card.hass = { language: "en", locale: { language: "en" }, connection: {
          subscribeMessage: (callback, message) => { subscribed.push(message); return Promise.resolve(() => {}); } } };
        document.body.append(card);
        card.setConfig({ entry: "e9" });
        await h.settle();
        return subscribed;
        """,
    )
    assert result == [{"type": "peerdeck/transfers/subscribe", "entry_id": "e9"}]
