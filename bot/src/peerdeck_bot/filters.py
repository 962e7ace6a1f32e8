"""What a user asks /search to keep: file formats and a minimum bit rate (Soulseek users' filters)."""

from __future__ import annotations

from dataclasses import dataclass

from peerdeck import PeerdeckInputError, SearchHit
from peerdeck.hits import filter_hits, normalise_formats

from .errors import UserFacingError


@dataclass(frozen=True, slots=True)
class HitFilter:
    """The formats and minimum bit rate a user asked /search for (nothing asked: every hit)."""

    formats: frozenset[str] = frozenset()
    min_bitrate: int | None = None

    @classmethod
    def parse(cls, formats: str | None, min_bitrate: int | None) -> HitFilter:
        """``"flac, mp3"`` and a number; a word that is no file format is refused, in words."""
        try:
            names = normalise_formats(part for part in (formats or "").replace(",", " ").split())
        except PeerdeckInputError as err:
            raise UserFacingError(f"{err}.") from None
        return cls(names, min_bitrate)

    @property
    def active(self) -> bool:
        return bool(self.formats) or self.min_bitrate is not None

    def keeps(self, hit: SearchHit) -> bool:
        return not self.active or bool(filter_hits([hit], formats=self.formats, min_bitrate=self.min_bitrate))
