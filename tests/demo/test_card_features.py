"""The card's feedback, states, details, add and search panels and layouts, in a real Chromium.

The harness answers the card's websocket commands (``h.hass.answers``) and records them; the end to end
runs against the real daemons are in test_demo.py and tests/ha/test_card_commands.py.
"""

from __future__ import annotations

import aiohttp
import pytest

from scripts.demo_support.browser import Browser, Page

from .card_support import open_card_page, press, run, type_text

pytestmark = pytest.mark.daemon


async def test_a_click_shows_pending_at_once_then_the_confirmed_state(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        const rows = h.transfers(5).map((row) => ({ ...row, state: "active", status: "downloading" }));
        h.deliver("e1", h.full("e1", rows));
        let answer;
        h.hass.answers["peerdeck/transfers/act"] = () => new Promise((resolve) => { answer = resolve; });
        const id = h.card._keys[1].split("|")[1];
        const button = () => h.card.shadowRoot.querySelectorAll(".row")[1].querySelector(".toggle");
        button().click();
        const pending = { ...h.shownRows()[1], disabled: button().disabled };
        await h.settle();
        // The command reads the daemon back: its diff comes first, then the answer.
        h.deliver("e1", { changed: [{ id, state: "paused", status: "paused" }] });
        answer({ confirmed: true });
        await h.settle(); await h.settle();
        const confirmed = { ...h.shownRows()[1], disabled: button().disabled, heard: h.text(".live") };
        // A refused action: the error shows on the row, and the row can be used again.
        h.hass.answers["peerdeck/transfers/act"] = () => Promise.reject({ code: "home_assistant_error",
          message: "qBittorrent rejected the credentials" });
        button().click();
        await h.settle(); await h.settle();
        const failed = { ...h.shownRows()[1], disabled: button().disabled };
        return { pending, confirmed, failed, heard: h.text(".live") };
        """,
    )
    assert result["pending"]["pending"] == "pause"
    assert result["pending"]["status"] == "Pausing…"
    assert result["pending"]["disabled"] is True  # no second click while the first is under way
    assert result["confirmed"]["pending"] is None
    assert result["confirmed"]["status"] == "Paused"
    assert result["confirmed"]["toggle"] == "resume"
    assert result["confirmed"]["disabled"] is False
    assert result["confirmed"]["heard"] == f"{result['confirmed']['name']}: Paused"  # told to a screen reader
    assert result["failed"]["status"] == "Failed: qBittorrent rejected the credentials"
    assert result["failed"]["disabled"] is False
    assert result["heard"].endswith(": Failed: qBittorrent rejected the credentials")


async def test_a_deleted_row_cannot_be_clicked_again(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        h.deliver("e1", h.full("e1", h.transfers(5)));
        let answer;
        h.hass.answers["peerdeck/transfers/act"] = () => new Promise((resolve) => { answer = resolve; });
        const root = h.card.shadowRoot;
        const row = root.querySelectorAll(".row")[0];
        const id = h.card._keys[0].split("|")[1];
        row.querySelector(".delete").click();
        root.querySelector("dialog .confirm").click();
        await h.settle();
        const during = { pending: h.shownRows()[0].pending, deleteDisabled: row.querySelector(".delete").disabled };
        row.querySelector(".delete").click();
        const dialogAgain = root.querySelector("dialog.confirm-delete").open;
        h.deliver("e1", { removed: [id] });
        answer({ confirmed: true });
        await h.settle();
        return { during, dialogAgain, names: h.shownRows().map((r) => r.name), commands: h.hass.commands.length,
                 gone: h.card._rows.has("e1|" + id) };
        """,
    )
    assert result["during"] == {"pending": "remove", "deleteDisabled": True}
    assert result["dialogAgain"] is False
    assert result["commands"] == 1
    assert result["gone"] is False
    assert len(result["names"]) == 4


async def test_states_users_tell_apart_filters_ratio_and_sorts(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        const statuses = ["downloading", "stalled", "seeding", "completed", "queued", "paused", "checking", "error"];
        const unified = { downloading: "active", seeding: "completed", stalled: "active", checking: "active",
                          error: "failed" };
        const rows = statuses.map((status, n) => ({ ...h.transfers(8)[n], id: "s" + n, name: status + "-row",
          status, state: unified[status] ?? status, category: n % 2 ? "linux" : "music", ratio: n / 4,
          size: (n + 1) * 1000, eta: n === 0 ? 30 : n === 1 ? 10 : null }));
        h.deliver("e1", h.full("e1", rows));
        const root = h.card.shadowRoot;
        const shown = Object.fromEntries(h.shownRows().map((r) => [r.name, r]));
        const icons = Object.fromEntries([...root.querySelectorAll(".row:not([hidden])")].map((el) =>
          [el.querySelector(".name").textContent, el.querySelector("ha-icon.state").getAttribute("icon")]));
        const options = [...root.querySelector(".state-filter").options].map((o) => o.value);
        const pick = (selector, value) => {
          const el = root.querySelector(selector);
          el.value = value;
          el.dispatchEvent(new Event("change"));
        };
        pick(".state-filter", "stalled");
        const stalled = h.shownRows().map((r) => r.name);
        pick(".state-filter", "");
        const categories = [...root.querySelector(".category-filter").options].map((o) => o.value);
        pick(".category-filter", "music");
        const music = h.shownRows().map((r) => r.name);
        pick(".category-filter", "");
        const sorted = {};
        for (const sort of ["eta", "size", "ratio"]) {
          h.card.setConfig({ entry: "e1", sort });
          sorted[sort] = h.shownRows().map((r) => r.name);
        }
        return { shown, icons, options, stalled, categories, music, sorted };
        """,
    )
    shown = result["shown"]
    assert shown["stalled-row"]["status"] == "Stalled"
    assert shown["downloading-row"]["status"] == "Downloading"
    assert shown["seeding-row"]["status"] == "Seeding"
    assert shown["completed-row"]["status"] == "Completed"
    assert shown["checking-row"]["status"] == "Checking"
    assert shown["error-row"]["status"] == "Error"
    assert shown["stalled-row"]["label"].startswith("stalled-row, Stalled, ")  # the state as text for a screen reader
    assert len(set(result["icons"].values())) == 8  # one icon per state
    assert result["options"][1:] == [
        "downloading",
        "stalled",
        "seeding",
        "completed",
        "queued",
        "paused",
        "checking",
        "error",
        "cancelled",
    ]
    assert result["stalled"] == ["stalled-row"]
    assert result["categories"] == ["", "linux", "music"]
    assert set(result["music"]) == {"downloading-row", "seeding-row", "queued-row", "checking-row"}
    assert "ratio 1.75" in shown["error-row"]["meta"]
    assert result["sorted"]["eta"][:2] == ["stalled-row", "downloading-row"]  # least time left first
    assert result["sorted"]["size"][0] == "error-row"  # largest first
    assert result["sorted"]["ratio"][0] == "error-row"


async def test_details_and_syncthing_rows_say_what_they_are(page: Page) -> None:
    result = await run(
        page,
        """
        const entries = [{ entry_id: "s", title: "Syncthing", daemon: "syncthing" }];
        await h.mount({ config: { entry: "s" }, entries });
        const base = h.transfers(1)[0];
        h.deliver("s", { ...h.full("s", [
          { ...base, id: "folder:photos", name: "Photos", category: "folder", kind: "folder", status: "completed",
            state: "completed", tags: ["device:ABC"], path: "/srv/photos" },
          { ...base, id: "device:ABC", name: "Laptop", category: "device", kind: "peer", status: "downloading",
            state: "active", tags: ["folder:photos"], path: null },
        ], { title: "Syncthing", capabilities: { delete_data: false } }), daemon: "syncthing" });
        h.hass.answers["peerdeck/transfers/details"] = (message) => ({
          id: message.transfer_id, kind: message.transfer_id.startsWith("folder") ? "folder" : "peer",
          path: "/srv/photos",
          folder_type: "sendreceive", connected: null, tags: ["device:ABC"], ratio: null });
        const root = h.card.shadowRoot;
        const rowEl = (name) => [...root.querySelectorAll(".row")]
          .find((el) => el.querySelector(".name").textContent === name);
        const dialogText = (selector) => root.querySelector(`dialog.confirm-delete ${selector}`).textContent;
        rowEl("Photos").querySelector(".main").click();
        await h.settle(); await h.settle();
        const details = root.querySelector("dialog.details");
        const text = details.querySelector("dl").textContent;
        details.close();
        rowEl("Laptop").querySelector(".delete").click();
        const peer = { title: dialogText("h2"), explain: dialogText(".explain"),
                       confirm: root.querySelector("dialog .confirm").textContent,
                       withData: root.querySelector("dialog .with-data").hidden };
        root.querySelector("dialog .cancel").click();
        rowEl("Photos").querySelector(".delete").click();
        const folder = { title: dialogText("h2"), explain: dialogText(".explain") };
        root.querySelector("dialog .cancel").click();
        const rows = Object.fromEntries(h.shownRows().map((r) => [r.name, r]));
        return { text, peer, folder, asked: h.hass.commands.map((c) => c.type), rows,
                 deleteLabel: rowEl("Laptop").querySelector(".delete").getAttribute("aria-label") };
        """,
    )
    # The rows say what they are, in Syncthing's words.
    assert result["rows"]["Photos"]["status"] == "Up to date"
    assert result["rows"]["Photos"]["meta"].startswith("Up to date ")
    assert "Folder · Laptop" in result["rows"]["Photos"]["meta"]
    assert result["rows"]["Laptop"]["status"] == "Syncing"
    assert "Device · Photos" in result["rows"]["Laptop"]["meta"]
    assert "KindSyncthing folder" in result["text"]
    assert "StateUp to date" in result["text"]
    assert "Saved in/srv/photos" in result["text"]
    assert "Folder typesendreceive" in result["text"]
    assert "TagsLaptop" in result["text"]  # the peer by its name, not its device id
    assert result["asked"] == ["peerdeck/transfers/details"]
    assert result["peer"]["title"] == "Forget the device Laptop?"
    assert "No file is deleted" in result["peer"]["explain"]
    assert result["peer"]["confirm"] == "Forget"
    assert result["peer"]["withData"] is True
    assert result["folder"]["title"] == "Stop sharing the folder Photos?"
    assert "The files stay on disk" in result["folder"]["explain"]
    assert result["deleteLabel"] == "Forget: Laptop"


async def test_add_a_magnet_with_category_and_path_then_the_row_is_selected(page: Page) -> None:
    await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        const rows = h.transfers(30);
        h.deliver("e1", h.full("e1", rows, { capabilities: { enqueue: true, add_links: true, search: false } }));
        h.hass.answers["peerdeck/transfers/add"] = () => {
          setTimeout(() => h.deliver("e1", { added: [{ ...rows[0], id: "newhash", name: "zz-added.iso" }] }), 0);
          return { ids: ["newhash"], confirmed: true };
        };
        h.card.shadowRoot.querySelector(".open-add").click();
        return true;
        """,
    )
    await type_text(page, "magnet:?xt=urn:btih:" + "c" * 40)
    await press(page, "Tab")  # the drop zone's file picker is skipped by Tab: it is a hidden input
    await run(page, "h.card.shadowRoot.querySelector('.add-category').focus(); return true;")
    await type_text(page, "linux")
    await press(page, "Tab")
    await type_text(page, "/downloads/linux")
    await press(page, "Enter")
    result = await run(
        page,
        """
        for (let n = 0; n < 20 && !h.card.shadowRoot.querySelector(".row.active"); n += 1) await h.nextFrame();
        const active = h.card.shadowRoot.querySelector(".row.active");
        return { commands: h.hass.commands, active: active && active.querySelector(".name").textContent,
                 result: h.text(".add-panel .result"), link: h.card.shadowRoot.querySelector(".add-link").value,
                 buttonShown: !h.card.shadowRoot.querySelector(".open-add").hidden,
                 searchShown: !h.card.shadowRoot.querySelector(".open-search").hidden };
        """,
    )
    assert result["commands"] == [
        {
            "type": "peerdeck/transfers/add",
            "entry_id": "e1",
            "magnet": "magnet:?xt=urn:btih:" + "c" * 40,
            "category": "linux",
            "save_path": "/downloads/linux",
        }
    ]
    assert result["active"] == "zz-added.iso"  # the new row, scrolled into view and selected
    assert result["result"] == "Added; it is selected in the list"
    assert result["link"] == ""
    assert result["buttonShown"] is True
    assert result["searchShown"] is False  # this daemon cannot search


async def test_search_hits_stream_in_and_one_click_adds_one(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "name" } });
        h.deliver("e1", h.full("e1", h.transfers(3), { capabilities: { enqueue: true, search: true } }));
        h.hass.answers["peerdeck/transfers/add"] = (message) => {
          const row = { ...h.transfers(1)[0], id: "hit-hash", name: "Found album" };
          setTimeout(() => h.deliver("e1", { added: [row] }), 0);
          return { ids: ["hit-hash"], confirmed: true };
        };
        const root = h.card.shadowRoot;
        root.querySelector(".open-search").click();
        root.querySelector(".search-query").value = "album";
        root.querySelector(".search-panel").requestSubmit();
        await h.settle();
        const search = h.hass.connection.searches[0];
        search.callback({ hits: [{ id: "h1", title: "Found album", size: 5e7, seeders: 12, source: "plugin" }] });
        const first = root.querySelectorAll(".hits li").length;
        const during = h.text(".search-panel .result");
        search.callback({ hits: [{ id: "h2", title: "Another album", size: null, seeders: null, source: "alice" }] });
        search.callback({ done: true });
        const done = h.text(".search-panel .result");
        const meta = root.querySelector(".hits li .hit-meta").textContent;
        root.querySelector(".hits li button").click();
        for (let n = 0; n < 20 && !root.querySelector(".row.active"); n += 1) await h.nextFrame();
        return { message: search.message, first, during, all: root.querySelectorAll(".hits li").length,
                 done, stopped: search.stopped, meta,
                 add: h.hass.commands.at(-1), button: root.querySelector(".hits li button").textContent,
                 active: root.querySelector(".row.active .name").textContent };
        """,
    )
    assert result["message"] == {"type": "peerdeck/search/subscribe", "entry_id": "e1", "query": "album"}
    assert result["first"] == 1  # shown as it came, before the search ended
    assert result["during"].startswith("Searching…")
    assert result["all"] == 2
    assert result["done"] == "2 results from qBittorrent"
    assert result["stopped"] is True
    assert result["meta"] == "50 MB · 12 seeders · plugin"
    assert result["add"] == {"type": "peerdeck/transfers/add", "entry_id": "e1", "hit": "h1"}
    assert result["button"] == "Added"
    assert result["active"] == "Found album"


async def test_turtle_toggles_the_alternative_speed_switch(page: Page) -> None:
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1" } });
        const full = h.full("e1", h.transfers(2));
        h.deliver("e1", { ...full, alternative_speed_entity: "switch.qbittorrent_alternative_speed",
                          status: { ...full.status, alternative_speed: false } });
        const turtle = h.card.shadowRoot.querySelector(".turtle");
        const before = { hidden: turtle.hidden, pressed: turtle.getAttribute("aria-pressed"),
                         label: turtle.getAttribute("aria-label") };
        turtle.click();
        await h.settle();
        h.deliver("e1", { status: { ...full.status, alternative_speed: true } });
        return { before, pressed: turtle.getAttribute("aria-pressed"), calls: h.hass.calls };
        """,
    )
    assert result["before"] == {"hidden": False, "pressed": "false", "label": "Alternative speed limits"}
    assert result["calls"] == [
        {"domain": "switch", "service": "turn_on", "data": {"entity_id": "switch.qbittorrent_alternative_speed"}}
    ]
    assert result["pressed"] == "true"


LAYOUT = """
  await h.mount({ config: { entry: "e1", sort: "name" } });
  const rows = h.transfers(6).map((row) => ({ ...row, state: "active", status: "downloading",
    eta: 195, size: 25e6, done: 0 }));
  h.deliver("e1", h.full("e1", rows));
  document.body.style.maxWidth = "WIDTHpx";
  await h.nextFrame(); await h.nextFrame();
  const root = h.card.shadowRoot;
  const cut = [];
  for (const el of root.querySelectorAll(".row:not([hidden]) .meta span, .title, .count")) {
    const style = getComputedStyle(el);
    if (style.display === "none" || !el.textContent) continue;
    const ellipsis = style.textOverflow === "ellipsis";
    if (el.scrollWidth > el.clientWidth + 1 && !ellipsis) cut.push(el.className + ": " + el.textContent);
    // A figure on the meta line's first line must end inside it (one that does not fit wraps, hidden, whole).
    const line = el.parentElement.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const onFirstLine = el.parentElement.classList.contains("meta") && box.top < line.bottom;
    if (onFirstLine && box.right > line.right + 1 && !ellipsis) {
      cut.push(el.className + " (clipped): " + el.textContent);
    }
  }
  const title = root.querySelector(".title");
  const first = [...root.querySelectorAll(".row:not([hidden])")][0];
  return { cut, titleWhole: title.scrollWidth <= title.clientWidth, size: first.querySelector(".size").textContent,
           eta: first.querySelector(".eta").textContent, cardWidth: h.card.getBoundingClientRect().width,
           overflow: root.querySelector("ha-card").scrollWidth > root.querySelector("ha-card").clientWidth };
"""


@pytest.mark.parametrize(("width", "column"), [(390, 358), (1000, 290)])
async def test_phone_and_narrow_column_layouts(width: int, column: int) -> None:
    """A phone (390 px wide) and a ~290 px dashboard column: nothing cut mid-word, the title whole."""
    async with (
        aiohttp.ClientSession() as session,
        Browser() as browser,
        open_card_page(session, browser, width=width, height=800) as tab,
    ):
        result = await run(tab, LAYOUT.replace("WIDTH", str(column)))
    assert result["cut"] == []  # every text either fits or ends in an ellipsis
    assert result["titleWhole"] is True
    assert result["size"] in ("0 B / 25 MB", "")  # hidden on a narrow card, and spaced when shown
    assert result["eta"] == "3 min 15 sec"
    assert result["overflow"] is False


async def test_a_torrent_file_too_big_for_one_websocket_message_is_refused_in_the_card(page: Page) -> None:
    """Home Assistant's websocket (aiohttp's default) closes the whole connection on a message over 4 MiB,
    so a .torrent whose base64 would not fit is refused before it is sent; a smaller one goes."""
    result = await run(
        page,
        """
        await h.mount({ config: { entry: "e1" } });
        h.deliver("e1", h.full("e1", h.transfers(3), { capabilities: { enqueue: true, add_links: true } }));
        h.hass.answers["peerdeck/transfers/add"] = () => ({ ids: [], confirmed: false });
        const root = h.card.shadowRoot;
        root.querySelector(".open-add").click();
        const pick = async (bytes) => {
          root.querySelector(".add-panel .result").textContent = "";
          const files = new DataTransfer();
          files.items.add(new File([new Uint8Array(bytes)], "big.torrent"));
          const input = root.querySelector(".add-file");
          input.files = files.files;
          input.dispatchEvent(new Event("change"));
          await h.until(() => !["", "Adding…"].includes(h.text(".add-panel .result")));
        };
        await pick(3.5 * 1024 * 1024);
        const refused = { sent: h.hass.commands.length, result: h.text(".add-panel .result") };
        await pick(1024 * 1024);
        const sent = h.hass.commands.filter((c) => c.type === "peerdeck/transfers/add");
        return { refused, sizes: sent.map((c) => JSON.stringify(c).length) };
        """,
    )
    assert result["refused"]["sent"] == 0
    assert "too big to send through Home Assistant" in result["refused"]["result"]
    assert len(result["sizes"]) == 1 and result["sizes"][0] < 4 * 1024 * 1024
