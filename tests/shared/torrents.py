"""Generate small real .torrent files (and their data) for tests and benchmarks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PIECE_LENGTH = 16384


def bencode(value: object) -> bytes:
    """Encode ints, bytes, str, lists and dicts (keys sorted) as bencoding."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def make_torrent(name: str, size: int = 40_000, data_dir: Path | None = None) -> tuple[bytes, str]:
    """A single-file torrent without trackers; its data is written to ``data_dir`` when given.

    Returns the .torrent bytes and the v1 info-hash.
    """
    data = os.urandom(size)
    pieces = b"".join(
        hashlib.sha1(data[i : i + PIECE_LENGTH], usedforsecurity=False).digest() for i in range(0, size, PIECE_LENGTH)
    )
    info = {"length": size, "name": name, "piece length": PIECE_LENGTH, "pieces": pieces, "private": 1}
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / name).write_bytes(data)
    info_hash = hashlib.sha1(bencode(info), usedforsecurity=False).hexdigest()
    return bencode({"info": info, "created by": "peerdeck tests"}), info_hash
