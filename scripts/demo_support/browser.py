"""Headless Chromium driven over its DevTools protocol (a websocket on 127.0.0.1): open, script, screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# True once the dashboard's cards are rendered: searched through the shadow roots of the frontend.
_RENDERED = """
(() => {
  const cards = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName.startsWith('HUI-') && el.tagName.endsWith('-CARD')) cards.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  const text = (node) => {
    let out = '';
    const kids = node.shadowRoot ? [...node.shadowRoot.childNodes, ...node.childNodes] : [...node.childNodes];
    for (const child of kids) {
      if (child.nodeType === Node.TEXT_NODE) out += ' ' + child.textContent;
      else if (child.nodeType === Node.ELEMENT_NODE && !['STYLE', 'SCRIPT'].includes(child.tagName)) {
        out += ' ' + text(child);
      }
    }
    return out.replace(/\\s+/g, ' ').trim();
  };
  walk(document);
  const tiles = cards.filter((el) => el.tagName === 'HUI-TILE-CARD');
  const shown = tiles.map(text).filter((t) => t.length > 0);
  return JSON.stringify({cards: cards.length, tiles: shown.length, text: shown.join(' | '),
    path: location.pathname});
})()
"""


# The Peerdeck card wherever the dashboard put it (behind several shadow roots); ``__CARD__`` names it.
_FIND_CARD = """
const findCard = (root) => {
  for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'PEERDECK-TRANSFERS-CARD' && el.shadowRoot) return el;
    if (el.shadowRoot) { const found = findCard(el.shadowRoot); if (found) return found; }
  }
  return null;
};
const __CARD__ = findCard(document);
"""

# What the card shows: its rows top to bottom, the sparkline's points and the notice line.
_CARD_STATE = f"""
(() => {{
  {_FIND_CARD}
  if (!__CARD__) return null;
  const root = __CARD__.shadowRoot;
  const rows = [...root.querySelectorAll('.row')].filter((row) => !row.hidden)
    .sort((a, b) => a._index - b._index)
    .map((row) => ({{
      name: row.querySelector('.name').textContent,
      percent: row.querySelector('.percent').textContent,
      state: row.dataset.state,
      status: row.querySelector('.status').textContent,
      pending: row.dataset.pending || null,
      toggle: row.querySelector('.toggle').hidden ? null : row.querySelector('.toggle').dataset.action,
    }}));
  return JSON.stringify({{
    rows,
    down: root.querySelector('polyline.down').getAttribute('points'),
    up: root.querySelector('polyline.up').getAttribute('points'),
    notice: root.querySelector('.notice').textContent,
    count: root.querySelector('.count').textContent,
  }});
}})()
"""

# The tile cards' names, and every text a tile cuts off with an ellipsis.
_TILE_TEXT = """
(() => {
  const tiles = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'HUI-TILE-CARD') tiles.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const cut = [];
  const inspect = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) inspect(el.shadowRoot);
      if (el.children.length === 0 && el.scrollWidth > el.clientWidth + 1
          && getComputedStyle(el).textOverflow === 'ellipsis') cut.push(el.textContent.trim());
    }
  };
  tiles.forEach((tile) => tile.shadowRoot && inspect(tile.shadowRoot));
  return JSON.stringify({ names: tiles.map((tile) => tile._config?.name).filter(Boolean), cut });
})()
"""


class Browser:
    """One headless Chromium with a throwaway profile, in its own process group."""

    def __init__(self, binary: str = CHROMIUM) -> None:
        found = shutil.which(binary)
        if found is None:
            raise RuntimeError(f"{binary} is not installed; ./scripts/test installs the Debian package chromium")
        self.binary = found
        self.profile = Path(tempfile.mkdtemp(prefix="peerdeck-chromium-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.profile / "chromium.log"

    async def __aenter__(self) -> Browser:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - fixed argv; returns at once
                [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # renderer and zygote stragglers
        shutil.rmtree(self.profile, ignore_errors=True)

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])

    async def _devtools_port(self, timeout: float = 30.0) -> int:
        """Chromium writes the port it chose into the profile."""
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}:\n{self._log_tail()}")
            if marker.exists() and (lines := marker.read_text().splitlines()):
                return int(lines[0])
            await asyncio.sleep(0.1)
        raise RuntimeError(f"chromium opened no DevTools port within {timeout:.0f} s:\n{self._log_tail()}")

    @contextlib.asynccontextmanager
    async def page(
        self, session: aiohttp.ClientSession, *, width: int = 1440, height: int = 1000, dark: bool = False
    ) -> AsyncIterator[Page]:
        """The browser's tab as a :class:`Page` of ``width`` x ``height``, in dark mode when asked."""
        port = await self._devtools_port()
        async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
            targets = await reply.json()
        target = next(t for t in targets if t.get("type") == "page")
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            await page.send("Page.enable")
            await page.send(
                "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
            )
            scheme = "dark" if dark else "light"
            await page.send("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": scheme}])
            yield page

    async def screenshot(
        self,
        session: aiohttp.ClientSession,
        url: str,
        output: Path,
        *,
        width: int = 1440,
        height: int = 1000,
        timeout: float = 90.0,
        min_tiles: int = 1,
        settle: float = 3.0,
        dark: bool = False,
    ) -> dict[str, Any]:
        """Open ``url``, wait until at least ``min_tiles`` tile cards show, and save a PNG; returns what rendered."""
        async with self.page(session, width=width, height=height, dark=dark) as page:
            await page.open(url)
            rendered = await wait_for_dashboard(page, min_tiles, timeout)
            await asyncio.sleep(settle)  # let values and icons arrive
            rendered = json.loads(await page.evaluate(_RENDERED))
            await page.screenshot(output)
        return dict(rendered)


async def wait_for_dashboard(page: Page, min_tiles: int, timeout: float = 90.0) -> dict[str, Any]:
    """Wait until the dashboard shows ``min_tiles`` tile cards; returns what rendered."""
    deadline = time.monotonic() + timeout
    rendered: dict[str, Any] = {}
    while time.monotonic() < deadline:
        value = await page.evaluate(_RENDERED)
        if isinstance(value, str):
            rendered = json.loads(value)
            if rendered.get("tiles", 0) >= min_tiles:
                return rendered
        await asyncio.sleep(0.5)
    raise RuntimeError(f"the dashboard did not render {min_tiles} tiles within {timeout:.0f} s: {rendered}")


class Page:
    """One tab, driven over its DevTools websocket: navigate, evaluate JavaScript, screenshot."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout: float = 90.0) -> None:
        self.ws = ws
        self.timeout = timeout
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are skipped)."""
        number = next(self._ids)
        await self.ws.send_json({"id": number, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=self.timeout)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"chromium {method} failed: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def open(self, url: str) -> None:
        """Navigate to ``url`` (returns once the navigation is committed, not when the page is done)."""
        await self.send("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises awaited); a thrown error raises RuntimeError."""
        answer = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            raise RuntimeError(f"the page threw: {description}")
        return answer.get("result", {}).get("value")

    async def screenshot(self, output: Path, clip: dict[str, float] | None = None) -> None:
        """Save what the tab shows as a PNG (only the ``clip`` box, in CSS pixels, when given)."""
        options: dict[str, Any] = {"format": "png", "captureBeyondViewport": False}
        if clip is not None:
            options["clip"] = {**clip, "scale": 1}
        shot = await self.send("Page.captureScreenshot", **options)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(base64.b64decode(shot["data"]))  # noqa: ASYNC240 - one small file


async def card_state(page: Page) -> dict[str, Any] | None:
    """What the Peerdeck card on the page shows (rows, sparkline, notice), or None before it renders."""
    value = await page.evaluate(_CARD_STATE)
    return dict(json.loads(value)) if isinstance(value, str) else None


async def tile_texts(page: Page) -> dict[str, list[str]]:
    """The tile cards' names and the texts the tiles cut off with an ellipsis."""
    return dict(json.loads(await page.evaluate(_TILE_TEXT)))


async def click_row_button(page: Page, name: str, action: str) -> None:
    """Click, with the mouse, the ``action`` button of the card's row named ``name``."""
    expression = f"""
    (() => {{
      {_FIND_CARD}
      const row = [...__CARD__.shadowRoot.querySelectorAll('.row')]
        .find((el) => !el.hidden && el.querySelector('.name').textContent === {json.dumps(name)});
      const button = row && row.querySelector('button[data-action={json.dumps(action)}]');
      if (!button) return null;
      button.scrollIntoView({{ block: 'center' }});
      const box = button.getBoundingClientRect();
      return [box.x + box.width / 2, box.y + box.height / 2];
    }})()
    """
    point = await page.evaluate(expression)
    if not point:
        raise RuntimeError(f"the card shows no {action} button for {name!r}")
    x, y = point
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        await page.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


async def in_card(page: Page, body: str) -> Any:
    """Run an async JavaScript ``body`` with ``card`` = the Peerdeck card and ``root`` = its shadow root;
    returns what it returns, through JSON."""
    expression = f"""
    (async () => {{
      {_FIND_CARD}
      const card = __CARD__;
      const root = card.shadowRoot;
      const value = await (async () => {{ {body} }})();
      return JSON.stringify(value === undefined ? null : value);
    }})()
    """
    return json.loads(await page.evaluate(expression))


async def card_box(page: Page, margin: float = 8.0) -> dict[str, float]:
    """The Peerdeck card's box on the page, with a margin, to screenshot it alone."""
    expression = f"""
    (() => {{
      {_FIND_CARD}
      const box = __CARD__.getBoundingClientRect();
      return [box.x, box.y, box.width, box.height];
    }})()
    """
    x, y, width, height = await page.evaluate(expression)
    return {
        "x": max(0.0, x - margin),
        "y": max(0.0, y - margin),
        "width": width + 2 * margin,
        "height": height + 2 * margin,
    }
