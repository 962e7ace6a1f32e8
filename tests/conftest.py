"""Test-wide settings that hold on Python 3.11 without Home Assistant too (no HA imports here)."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

_TESTS = Path(__file__).resolve().parent
_LOOPBACK_SUITES = ("shared", "bot", "demo")


def _needs_loopback(node: pytest.Item | pytest.Collector | None) -> bool:
    if node is None:
        return False
    if any(True for _ in node.iter_markers("daemon")):
        return True
    try:
        suite = Path(str(node.path)).resolve().relative_to(_TESTS).parts[0]
    except (ValueError, IndexError):
        return False
    return suite in _LOOPBACK_SUITES


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest) -> None:
    """Let real-daemon and conformance-server tests use loopback sockets, and nothing else.

    Home Assistant's test plugin disables sockets before every test; these suites talk to
    daemons and servers they start on 127.0.0.1, so they get loopback back (any other
    destination stays blocked).
    """
    if not _needs_loopback(request.node):
        return
    try:
        import pytest_socket  # noqa: PLC0415 - present only with Home Assistant's test plugin
    except ImportError:
        return
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)


def pytest_configure(config: pytest.Config) -> None:
    """Let aioresponses 0.7.9 build responses on aiohttp 3.14 (HA 2026.11's pin) too.

    aiohttp 3.14 added a required ``stream_writer`` argument to ``ClientResponse``, which
    aioresponses does not pass yet; a finished request only reads its ``output_size``.
    """
    if "stream_writer" not in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
        return
    try:
        import aioresponses.core  # noqa: PLC0415 - only where the mock library is installed
    except ImportError:
        return

    class MockedResponse(aiohttp.ClientResponse):
        def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
            super().__init__(method, url, **kwargs)

    aioresponses.core.ClientResponse = MockedResponse  # type: ignore[misc]
