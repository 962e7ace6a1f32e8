"""The Peerdeck card at 2,000 (or 20,000) transfers in a real headless Chromium: first render, updates,
scrolling and memory.

    .venv/bin/python -m bench.card_bench            # --rows 2000 --updates 200 --changed 10
    .venv/bin/python -m bench.card_bench --rows 20000 --renders 6

Chromium is Debian's (/usr/bin/chromium) with a fresh profile. Each figure is the time from handing
the card a feed message to the end of the style and layout it causes (forced by reading a size),
and separately to the next frame the page paints (which waits for the display's next 60 Hz tick).
Side by side, the same first render with virtualisation off (every row in the DOM). Updates change
10 random rows' progress and rates; "in view" updates change 10 of the 12 rows on screen, which the
card must re-bind. Memory is the JavaScript heap and the DOM's node count that one card with the whole
list adds to an empty page, each after a forced garbage collection (Chromium's own counters, read over
its DevTools protocol). The every-row-in-the-DOM comparison runs up to 5,000 rows only (it takes minutes
beyond).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics

import aiohttp

from bench.card_page import READY, card_page
from scripts.demo_support.browser import Browser, Page

MEASURE = """
(async () => {
  const h = window.harness;
  const rowsCount = %(rows)d, updates = %(updates)d, changedCount = %(changed)d, inView = %(in_view)s;
  const first = [], firstFrame = [], mount = [];
  for (let run = 0; run < %(renders)d; run += 1) {
    const started = performance.now();
    await h.mount({ config: { entry: "e1", sort: "name", rows: 12 } });
    mount.push(performance.now() - started);
    const rows = h.transfers(rowsCount, run + 1);
    if (run %% 2) first.push(h.deliver("e1", h.full("e1", rows)));
    else firstFrame.push(await h.deliverToFrame("e1", h.full("e1", rows)));
  }
  // Side by side: the same card with every row in the DOM (what the virtualised list avoids).
  const unvirtualised = [];
  for (let run = 0; rowsCount <= 5000 && run < Math.max(3, Math.floor(%(renders)d / 4)); run += 1) {
    await h.mount({ config: { entry: "e1", sort: "name", rows: 12 } });
    h.card._view.maxRows = rowsCount;
    unvirtualised.push(h.deliver("e1", h.full("e1", h.transfers(rowsCount, run + 1))));
  }
  const rows = h.transfers(rowsCount, 7);
  await h.mount({ config: { entry: "e1", sort: "name", rows: 12 } });
  h.deliver("e1", h.full("e1", rows));
  await h.nextFrame();
  const ids = rows.map((row) => row.id);
  const inViewIds = h.card._keys.slice(0, 12).map((key) => key.split("|")[1]);
  const update = [], updateFrame = [], domRows = [];
  let seed = 11;
  const random = () => { seed = (seed * 1103515245 + 12345) %% 2147483648; return seed / 2147483648; };
  for (let round = 0; round < updates; round += 1) {
    const picked = new Set();
    while (picked.size < changedCount) {
      picked.add(inView ? inViewIds[Math.floor(random() * inViewIds.length)] : ids[Math.floor(random() * ids.length)]);
    }
    const changed = [...picked].map((id) => ({
      id, progress: Math.round(random() * 1000) / 1000, download_rate: Math.floor(random() * 5e6),
      upload_rate: Math.floor(random() * 1e6), eta: Math.floor(random() * 9000),
    }));
    const status = { available: true, download_rate: Math.floor(random() * 5e7), upload_rate: 1000 };
    const message = { changed, status };
    if (round %% 2) update.push(h.deliver("e1", message));
    else updateFrame.push(await h.deliverToFrame("e1", message));
  }
  domRows.push(h.card.shadowRoot.querySelectorAll(".row").length);
  // Scrolling: three rows at a time from the top to the bottom, each step rendered and laid out.
  const scroll = [];
  const viewport = h.card.shadowRoot.querySelector(".viewport");
  for (let top = 0; top < viewport.scrollHeight - viewport.clientHeight; top += 3 * 64) {
    const started = performance.now();
    viewport.scrollTop = top;
    h.card._list.render();
    viewport.getBoundingClientRect();
    void document.body.offsetHeight;
    scroll.push(performance.now() - started);
  }
  return JSON.stringify({ mount, first, firstFrame, unvirtualised, update, updateFrame, domRows, scroll,
    visible: h.shownRows().length });
})()
"""


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.2f} ms   p95 {p95:6.2f} ms   (n={len(ordered)})"


async def _measure(page: Page, args: argparse.Namespace, *, in_view: bool) -> dict[str, list[float]]:
    script = MEASURE % {
        "rows": args.rows,
        "updates": args.updates,
        "changed": args.changed,
        "renders": args.renders,
        "in_view": "true" if in_view else "false",
    }
    result: dict[str, list[float]] = json.loads(await page.evaluate(script))
    return result


async def _memory(page: Page, rows: int) -> tuple[int, int]:
    """The JavaScript heap (bytes) and DOM nodes one card showing ``rows`` transfers adds to an empty page."""

    async def counters() -> tuple[int, int]:
        await page.send("HeapProfiler.collectGarbage")
        heap = await page.send("Runtime.getHeapUsage")
        dom = await page.send("Memory.getDOMCounters")
        return int(heap["usedSize"]), int(dom["nodes"])

    await page.evaluate(
        "(async () => { document.body.replaceChildren(); window.harness.card = window.harness.hass = null; "
        "await window.harness.nextFrame(); return true; })()"
    )
    heap_before, nodes_before = await counters()
    await page.evaluate(
        f"""(async () => {{ const h = window.harness;
          await h.mount({{ config: {{ entry: "e1", sort: "name", rows: 12 }} }});
          h.deliver("e1", h.full("e1", h.transfers({rows}, 3)));
          await h.nextFrame(); return true; }})()"""
    )
    heap_after, nodes_after = await counters()
    return heap_after - heap_before, nodes_after - nodes_before


async def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()
    async with (
        card_page() as url,
        aiohttp.ClientSession() as session,
        Browser() as browser,
        browser.page(session, width=1000, height=900) as page,
    ):
        await page.open(url)
        await page.evaluate(READY)
        version = (await page.send("Browser.getVersion"))["product"]
        print(f"{version}, {args.rows} transfers, {args.changed} changed per update\n")
        anywhere = await _measure(page, args, in_view=False)
        in_view = await _measure(page, args, in_view=True)
        heap, nodes = await _memory(page, args.rows)
    print(f"row elements in the DOM at {args.rows} transfers: {anywhere['domRows'][0]} ({anywhere['visible']} shown)")
    print(f"card created and subscribed          {_summary(anywhere['mount'])}")
    print(f"first render (script+style+layout)   {_summary(anywhere['first'] + in_view['first'])}")
    print(f"first render to next painted frame   {_summary(anywhere['firstFrame'] + in_view['firstFrame'])}")
    if anywhere["unvirtualised"]:
        print(f"first render, every row in the DOM   {_summary(anywhere['unvirtualised'] + in_view['unvirtualised'])}")
    print(f"update, 10 rows anywhere (layout)    {_summary(anywhere['update'])}")
    print(f"update, 10 rows anywhere (to frame)  {_summary(anywhere['updateFrame'])}")
    print(f"update, 10 rows in view (layout)     {_summary(in_view['update'])}")
    print(f"update, 10 rows in view (to frame)   {_summary(in_view['updateFrame'])}")
    print(f"scroll by 3 rows (render+layout)     {_summary(anywhere['scroll'])}")
    print(f"memory of one card with every row    {heap / 1e6:6.1f} MB JS heap, {nodes:,} DOM nodes")


if __name__ == "__main__":
    asyncio.run(main())
