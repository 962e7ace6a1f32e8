"""Test-wide settings that hold on Python 3.11 without Home Assistant too (no HA imports here)."""

from __future__ import annotations

from pathlib import Path

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
