"""The card's browser tests open the harness page in one headless Chromium per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from scripts.demo_support.browser import Browser, Page

from .card_support import open_card_page


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """The card harness in a 1000 x 900 tab."""
    async with aiohttp.ClientSession() as session, Browser() as browser, open_card_page(session, browser) as tab:
        yield tab
