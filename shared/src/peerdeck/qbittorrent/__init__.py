"""qBittorrent (WebUI API v2): the full client and the unified backend."""

from .backend import QBittorrentBackend, to_transfer
from .client import QBittorrentClient
from .maindata import MaindataChanges, MaindataState

__all__ = ["MaindataChanges", "MaindataState", "QBittorrentBackend", "QBittorrentClient", "to_transfer"]
