"""Just enough bencode to name a .torrent's info-hash before qBittorrent has it."""

from __future__ import annotations

import hashlib

from ..exceptions import PeerdeckInputError


def info_hash_v1(content: bytes) -> str:
    """SHA-1 of the bencoded ``info`` dictionary, in lower-case hex."""
    if not content.startswith(b"d"):
        raise PeerdeckInputError("this is not a .torrent file (it is not a bencoded dictionary)")
    position = 1
    while position < len(content) and content[position : position + 1] != b"e":
        key_end = _skip(content, position)
        key = content[position:key_end]
        value_end = _skip(content, key_end)
        if key == b"4:info":
            return hashlib.sha1(content[key_end:value_end], usedforsecurity=False).hexdigest()
        position = value_end
    raise PeerdeckInputError("this .torrent file has no 'info' dictionary")


def _skip(data: bytes, position: int) -> int:
    """Index just after the bencoded value starting at ``position``."""
    try:
        lead = data[position : position + 1]
        if lead == b"i":
            return data.index(b"e", position) + 1
        if lead in (b"l", b"d"):
            position += 1
            while data[position : position + 1] != b"e":
                position = _skip(data, position)
            return position + 1
        colon = data.index(b":", position)
        end = colon + 1 + int(data[position:colon])
        if end > len(data):
            raise ValueError("string runs past the end")
        return end
    except (ValueError, IndexError) as err:
        raise PeerdeckInputError("this .torrent file is damaged (bad bencoding)") from err
