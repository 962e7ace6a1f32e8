"""A loopback web server with the Peerdeck card and a scripted Home Assistant page (bench/card_harness.js).

The benchmark and the browser tests of the card open it in headless Chromium: the card's own
files, served as Home Assistant serves them, fed messages of the ``peerdeck/transfers/subscribe`` kind.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from custom_components.peerdeck.card import CARD_FOLDER, CARD_URL

HARNESS = Path(__file__).with_name("card_harness.js")
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Peerdeck card</title>
<style>body { margin: 16px; font-family: Roboto, sans-serif; max-width: 900px; }</style>
<script type="module" src="/harness.js"></script></head><body></body></html>
"""
READY = (
    "new Promise((resolve) => window.harness ? resolve(true) : addEventListener('harness-ready', () => resolve(true)))"
)
"""A JavaScript expression that resolves once the harness has loaded the card."""


@contextlib.asynccontextmanager
async def card_page() -> AsyncIterator[str]:
    """Serve the page on 127.0.0.1 (a free port); yields its URL."""
    app = web.Application()

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def harness(_: web.Request) -> web.FileResponse:
        return web.FileResponse(HARNESS, headers={"Content-Type": "text/javascript"})

    app.router.add_get("/", page)
    app.router.add_get("/harness.js", harness)
    app.router.add_static(CARD_URL, CARD_FOLDER)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()
