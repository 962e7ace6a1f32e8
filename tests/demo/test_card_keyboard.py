"""The card by keyboard and mouse on a long list, in a real Chromium with real key and mouse events.

Issue 26: Tab reached rows 0-15 of 2,007 and then left the card; after scrolling, the first Tab landed
below the view (the pool kept row i in slot i mod 16); a re-sort moved the focused button to another
torrent. Now the list is one tab stop (a WAI-ARIA grid), the arrow keys move a row focus bound to the
transfer, and the DOM order is the order on screen.
"""

from __future__ import annotations

import pytest

from scripts.demo_support.browser import Page

from .card_support import mouse, press, run

pytestmark = pytest.mark.daemon

MOUNT_2000 = """
  await h.mount({ config: { entry: "e1", sort: "name" } });
  h.deliver("e1", h.full("e1", h.transfers(2000)));
  await h.nextFrame();
"""

# Where the keyboard is: the focused element (through the shadow root) and the row it names as active.
FOCUS = """
  const root = h.card.shadowRoot;
  const viewport = root.querySelector(".viewport");
  const focused = root.activeElement;
  const activeId = viewport.getAttribute("aria-activedescendant");
  const target = activeId ? root.getElementById(activeId) : null;
  const row = target?.closest(".row");
  const box = row?.getBoundingClientRect();
  const view = viewport.getBoundingClientRect();
  const domOrder = [...root.querySelectorAll(".row:not([hidden])")].map((el) => el._index);
  return {
    focusedClass: focused ? focused.className : document.activeElement.tagName,
    inCard: document.activeElement === h.card,
    key: row ? row._key : null,
    index: row ? row._index : null,
    name: row ? row.querySelector(".name").textContent : null,
    target: target ? (target.dataset.action || "row") : null,
    inView: box ? box.top >= view.top - 1 && box.bottom <= view.bottom + 1 : false,
    offset: box ? Math.round(box.top - view.top) : null,
    domSorted: domOrder.every((value, at) => at === 0 || value === domOrder[at - 1] + 1),
  };
"""


async def focus_state(page: Page) -> dict[str, object]:
    state: dict[str, object] = await run(page, FOCUS)
    return state


async def test_every_row_of_two_thousand_is_reachable_with_one_tab_stop(page: Page) -> None:
    await run(page, MOUNT_2000 + "h.card.shadowRoot.querySelector('.direction').focus(); return true;")
    # From the last toolbar button, Tab goes to the list once, and the next Tab leaves the card.
    await press(page, "Tab", 3)  # pause all, resume all, then the list (add/search are hidden here)
    first = await focus_state(page)
    assert first["focusedClass"] == "viewport"
    assert first["index"] == 0 and first["inView"]
    await press(page, "ArrowDown", 25)
    down = await focus_state(page)
    assert down["index"] == 25 and down["inView"] and down["domSorted"]
    await press(page, "End")
    end = await focus_state(page)
    assert end["index"] == 1999 and end["inView"] and end["domSorted"]
    keys = await run(page, "return [h.card._keys[1999], h.card._keys[1998], h.card._keys[0]];")
    assert end["key"] == keys[0]
    await press(page, "ArrowUp")
    assert (await focus_state(page))["key"] == keys[1]
    await press(page, "PageUp")
    page_up = await focus_state(page)
    assert isinstance(page_up["index"], int) and page_up["index"] < 1998 and page_up["inView"]
    await press(page, "Home")
    home = await focus_state(page)
    assert home["key"] == keys[2] and home["inView"]
    await press(page, "Tab")
    assert (await focus_state(page))["inCard"] is False  # one tab stop: the next Tab leaves the card


async def test_after_scrolling_the_list_focus_lands_on_the_top_row_in_view(page: Page) -> None:
    await run(
        page,
        MOUNT_2000
        + """
        const viewport = h.card.shadowRoot.querySelector(".viewport");
        viewport.scrollTop = 1000 * 64;
        await h.nextFrame(); await h.nextFrame();
        h.card.shadowRoot.querySelector(".direction").focus();
        return true;
        """,
    )
    await press(page, "Tab", 3)
    state = await focus_state(page)
    assert state["index"] == 1000 and state["inView"] and state["domSorted"]


async def test_a_rows_buttons_by_arrow_keys_and_enter(page: Page) -> None:
    await run(page, MOUNT_2000 + "h.card.shadowRoot.querySelector('.viewport').focus(); return true;")
    await press(page, "ArrowDown", 1500)
    await press(page, "ArrowRight")
    on_toggle = await focus_state(page)
    assert on_toggle["index"] == 1500 and on_toggle["target"] in ("pause", "resume")
    await press(page, "Enter")
    await press(page, "ArrowRight")
    on_delete = await focus_state(page)
    await press(page, "ArrowLeft", 2)
    back = await focus_state(page)
    result = await run(page, "await h.settle(); return { commands: h.hass.commands, key: h.card._keys[1500] };")
    transfer = result["key"].split("|")[1]
    assert result["commands"][0]["ids"] == [transfer]
    assert result["commands"][0]["action"] == on_toggle["target"]
    assert on_delete["target"] == "delete"
    assert back["target"] == "row"


async def test_enter_on_a_row_opens_its_details_and_delete_asks(page: Page) -> None:
    await run(page, MOUNT_2000 + "h.card.shadowRoot.querySelector('.viewport').focus(); return true;")
    await press(page, "ArrowDown", 3)
    await press(page, "Enter")
    opened = await run(
        page,
        """
        await h.settle();
        const dialog = h.card.shadowRoot.querySelector("dialog.details");
        const name = h.card._rows.get(h.card._keys[3]).name;
        const text = dialog.querySelector("dl").textContent;
        dialog.close();
        return { open: dialog.open === false && dialog.querySelector("h2").textContent === name, text };
        """,
    )
    assert opened["open"] is True
    assert "Saved in/downloads" in opened["text"]
    await run(page, "h.card.shadowRoot.querySelector('.viewport').focus(); return true;")
    await press(page, "Delete")
    asked = await run(page, "return h.card.shadowRoot.querySelector('dialog.confirm-delete').open;")
    assert asked is True


async def test_focus_stays_on_its_transfer_across_a_resort(page: Page) -> None:
    """Sorted by rate, a change elsewhere re-sorts the list: the focused row is still the same torrent."""
    await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "rate" } });
        h.deliver("e1", h.full("e1", h.transfers(2000)));
        await h.nextFrame();
        h.card.shadowRoot.querySelector(".viewport").focus();
        return true;
        """,
    )
    await press(page, "ArrowDown", 40)
    before = await focus_state(page)
    # Four rows above the focused one slow to a crawl and two rows below it become the fastest.
    await run(
        page,
        """
        const keys = h.card._keys;
        const changed = keys.slice(0, 4).map((key) => ({ id: key.split("|")[1], download_rate: 1, upload_rate: 0 }))
          .concat(keys.slice(50, 52).map((key) => ({ id: key.split("|")[1], download_rate: 9e9 })));
        h.deliver("e1", { changed });
        await h.nextFrame();
        return true;
        """,
    )
    after = await focus_state(page)
    moved = await run(page, f"return h.card._keys.indexOf({before['key']!r});")
    assert moved != before["index"]  # the torrent moved in the sorted list …
    assert after["key"] == before["key"]  # … and the focus went with it, not with the slot
    assert after["name"] == before["name"]
    assert after["offset"] == before["offset"]  # and it stayed where it was on screen
    await press(page, "ArrowRight")
    await press(page, "Enter")
    result = await run(page, "await h.settle(); return h.hass.commands;")
    assert result[0]["ids"] == [str(before["key"]).split("|")[1]]


async def test_rows_hold_still_under_the_mouse(page: Page) -> None:
    """A mouse aimed at a row during a re-sort hits the row it aimed at: the order waits for the pointer to leave."""
    box = await run(
        page,
        """
        await h.mount({ config: { entry: "e1", sort: "rate" } });
        h.deliver("e1", h.full("e1", h.transfers(200)));
        await h.nextFrame();
        const row = h.card.shadowRoot.querySelectorAll(".row")[2].getBoundingClientRect();
        return { x: row.left + 100, y: row.top + row.height / 2 };
        """,
    )
    await mouse(page, box["x"], box["y"])
    held = await run(
        page,
        """
        const under = () => h.card.shadowRoot.elementFromPoint(X, Y).closest(".row");
        const before = under().querySelector(".name").textContent;
        const keys = h.card._keys;
        const slow = (key) => ({ id: key.split("|")[1], download_rate: 0, upload_rate: 0 });
        h.deliver("e1", { changed: keys.slice(0, 3).map(slow), removed: [keys[3].split("|")[1]] });
        await h.nextFrame();
        const gone = h.shownRows()[3];
        const slowed = keys.slice(0, 3).map((key) => h.card._rows.get(key).name);
        return { before, slowed, after: under().querySelector(".name").textContent, goneLabel: gone.label,
                 goneDisabled: h.card.shadowRoot.querySelectorAll(".row")[3].querySelector(".toggle").disabled };
        """.replace("X", str(box["x"])).replace("Y", str(box["y"])),
    )
    assert held["after"] == held["before"]
    assert ", Removed, " in held["goneLabel"]  # a removed row says so and cannot be clicked again
    assert held["goneDisabled"] is True
    await mouse(page, 5, 5)  # the pointer leaves the list: the order catches up
    after = await run(page, "await h.nextFrame(); return { count: h.text('.count'), top: h.shownRows().slice(0, 3) };")
    assert after["count"] == "199 of 199"
    assert not {row["name"] for row in after["top"]} & set(held["slowed"])
