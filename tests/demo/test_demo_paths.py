"""The demo prints where its files are as the host sees them (issue 26: it printed paths inside the forky root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.demo_support.__main__ import REPOSITORY, on_host


def test_paths_inside_todays_root_are_printed_as_the_host_sees_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    forky = tmp_path / "cache" / "forky"
    monkeypatch.setenv("PEERDECK_HOST_ROOT", str(forky))
    assert on_host(Path("/tmp/peerdeck-demo-x")) == forky / "tmp" / "peerdeck-demo-x"
    # The repository is bound at the same path inside the root.
    assert on_host(REPOSITORY / "demo-workdir") == REPOSITORY / "demo-workdir"


def test_on_the_floor_stack_paths_are_the_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEERDECK_HOST_ROOT", raising=False)
    assert on_host(Path("/tmp/peerdeck-demo-x")) == Path("/tmp/peerdeck-demo-x")
