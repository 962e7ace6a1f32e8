"""Headless Chromium driven over its DevTools protocol (a websocket on 127.0.0.1) to screenshot a page."""

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
    ) -> dict[str, Any]:
        """Open ``url``, wait until at least ``min_tiles`` tile cards show, and save a PNG; returns what rendered."""
        port = await self._devtools_port()
        async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
            targets = await reply.json()
        page = next(t for t in targets if t.get("type") == "page")
        ids = itertools.count(1)
        async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:

            async def send(method: str, **params: Any) -> dict[str, Any]:
                number = next(ids)
                await ws.send_json({"id": number, "method": method, "params": params})
                while True:
                    message = await ws.receive_json(timeout=timeout)
                    if message.get("id") == number:
                        if "error" in message:
                            raise RuntimeError(f"chromium {method} failed: {message['error']}")
                        result: dict[str, Any] = message.get("result", {})
                        return result

            await send("Page.enable")
            await send(
                "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
            )
            await send("Page.navigate", url=url)
            deadline = time.monotonic() + timeout
            rendered: dict[str, Any] = {}
            while time.monotonic() < deadline:
                answer = await send("Runtime.evaluate", expression=_RENDERED, returnByValue=True)
                value = answer.get("result", {}).get("value")
                if isinstance(value, str):
                    rendered = json.loads(value)
                    if rendered.get("tiles", 0) >= min_tiles:
                        break
                await asyncio.sleep(0.5)
            else:
                raise RuntimeError(f"the dashboard did not render {min_tiles} tiles within {timeout:.0f} s: {rendered}")
            await asyncio.sleep(settle)  # let values and icons arrive
            answer = await send("Runtime.evaluate", expression=_RENDERED, returnByValue=True)
            rendered = json.loads(answer["result"]["value"])
            shot = await send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(base64.b64decode(shot["data"]))  # noqa: ASYNC240 - one small file
        return rendered
