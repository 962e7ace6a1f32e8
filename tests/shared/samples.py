"""Recorded answers from real daemons, in the team folder beside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "samples"


def sample_json(daemon: str, name: str) -> Any:
    """A recorded JSON answer, e.g. ``sample_json("qbittorrent", "torrents_info")``."""
    return json.loads((SAMPLES / daemon / f"{name}.json").read_text())


def sample_http(daemon: str, name: str) -> tuple[int, dict[str, str], str]:
    """A recorded ``.http`` answer: status, headers and body."""
    text = (SAMPLES / daemon / f"{name}.http").read_text()
    head, _, body = text.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip()] = value.strip()
    if not headers and len(lines) > 1:
        body = "\n".join(lines[1:])
    return status, headers, body
