"""Text helpers shared by the service and the presentation: honest names, cutting and plurals."""

from __future__ import annotations

import unicodedata

NO_NAME = "(no visible name)"
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
"""Letters and marks that draw nothing (Hangul fillers, the blank braille cell, the grapheme joiner)."""


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> str:
    """A daemon-supplied name made honest to display: no direction overrides, no invisible characters.

    Unicode format and control characters (right-to-left overrides and isolates, zero-width spaces
    and joiners, byte-order marks, tags) are removed, so a file name cannot pose as another one, and
    runs of white space become one space. A name with nothing visible left is :data:`NO_NAME`.
    """
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or (unicodedata.category(ch) not in ("Cf", "Cc", "Co", "Cs") and ch not in _BLANK_LOOKING)
    )
    kept = " ".join(kept.split())
    if all(unicodedata.category(ch).startswith("M") for ch in kept):
        return NO_NAME
    return kept


def label(text: str, limit: int) -> str:
    """A daemon-supplied name for plain-text places (menu options, autocomplete choices): honest and cut."""
    return clip(plain(text), limit)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 hit``, ``2 hits``; ``many`` for nouns whose plural is not just an added s."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
