"""Pacing of live status boards: at most one edit per interval per board, and none while nothing changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Shown:
    fingerprint: str
    at: float


class BoardPacer:
    """Decides when a board message is edited; knows nothing of Discord."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._shown: dict[int, _Shown] = {}

    def due(self, board: int, fingerprint: str) -> bool:
        """Whether ``board`` should now show content ``fingerprint``: it changed, and the interval has passed."""
        shown = self._shown.get(board)
        if shown is None:
            return True
        return shown.fingerprint != fingerprint and self._clock() - shown.at >= self.interval

    def shown(self, board: int, fingerprint: str) -> None:
        """Record that ``board`` now shows ``fingerprint``."""
        self._shown[board] = _Shown(fingerprint, self._clock())

    def forget(self, board: int) -> None:
        """The board is gone."""
        self._shown.pop(board, None)
