"""What the card's browser tests share: the page with the card harness, scripts run in it, real key presses."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from bench.card_page import READY, card_page
from scripts.demo_support.browser import Browser, Page

KEYS: dict[str, tuple[str, int, str]] = {
    "Tab": ("Tab", 9, ""),
    "Enter": ("Enter", 13, "\r"),
    " ": ("Space", 32, " "),
    "ArrowDown": ("ArrowDown", 40, ""),
    "ArrowUp": ("ArrowUp", 38, ""),
    "ArrowRight": ("ArrowRight", 39, ""),
    "ArrowLeft": ("ArrowLeft", 37, ""),
    "PageDown": ("PageDown", 34, ""),
    "PageUp": ("PageUp", 33, ""),
    "Home": ("Home", 36, ""),
    "End": ("End", 35, ""),
    "Delete": ("Delete", 46, ""),
}


@contextlib.asynccontextmanager
async def open_card_page(
    session: aiohttp.ClientSession, browser: Browser, *, width: int = 1000, height: int = 900
) -> AsyncIterator[Page]:
    """The harness page in a tab of ``width`` x ``height``, once the card's modules loaded."""
    async with card_page() as url, browser.page(session, width=width, height=height) as tab:
        await tab.open(url)
        await tab.evaluate(READY)
        yield tab


async def run(page: Page, body: str) -> Any:
    """Run an async JavaScript body with ``h`` = the harness; returns what it returns, through JSON."""
    script = f"(async () => {{ const h = window.harness; {body} }})()"
    value = await page.evaluate(f"(async () => JSON.stringify(await {script}))()")
    return json.loads(value)


async def press(page: Page, key: str, times: int = 1, *, shift: bool = False) -> None:
    """Press ``key`` as a keyboard does (real key events through Chromium's input pipeline)."""
    code, number, text = KEYS[key]
    modifiers = 8 if shift else 0
    for _ in range(times):
        down: dict[str, Any] = {"key": key, "code": code, "windowsVirtualKeyCode": number, "modifiers": modifiers}
        if text:
            await page.send("Input.dispatchKeyEvent", type="keyDown", text=text, **down)
        else:
            await page.send("Input.dispatchKeyEvent", type="rawKeyDown", **down)
        await page.send("Input.dispatchKeyEvent", type="keyUp", **down)


async def type_text(page: Page, text: str) -> None:
    """Type ``text`` into the focused field."""
    await page.send("Input.insertText", text=text)


async def mouse(page: Page, x: float, y: float, *, click: bool = False) -> None:
    """Move the mouse to (x, y) and click there when asked."""
    await page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    if click:
        for kind in ("mousePressed", "mouseReleased"):
            await page.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
