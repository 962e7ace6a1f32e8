"""Constants of the Peerdeck integration."""

from __future__ import annotations

import logging
from typing import Final

from peerdeck import BackendKind

DOMAIN: Final = "peerdeck"
LOGGER = logging.getLogger(__package__)

CONF_KIND: Final = "kind"
CONF_API_KEY: Final = "api_key"
CONF_TIMEOUT: Final = "timeout"
CONF_ADVANCED: Final = "advanced"
CONF_EXTRA_SENSORS: Final = "extra_sensors"
EXTRA_CATEGORIES: Final = "categories"
EXTRA_TAGS: Final = "tags"
EXTRA_SENSOR_KINDS: Final = {BackendKind.QBITTORRENT: (EXTRA_CATEGORIES, EXTRA_TAGS)}
"""The optional transfer-count sensors each daemon can offer (per category, per tag)."""

DEFAULT_TIMEOUT: Final = 10
DEFAULT_VERIFY_SSL: Final = True
MIN_SCAN_INTERVAL: Final = 5
MAX_SCAN_INTERVAL: Final = 3600

DEFAULT_URLS: Final[dict[BackendKind, str]] = {
    BackendKind.QBITTORRENT: "http://127.0.0.1:8080",
    BackendKind.SYNCTHING: "http://127.0.0.1:8384",
    BackendKind.SLSKD: "http://127.0.0.1:5030",
    BackendKind.SOULSYNC: "http://127.0.0.1:8008",
    BackendKind.TRIBLER: "http://127.0.0.1:20100",
}
"""Each daemon's usual web address, suggested in the config flow."""

PUSHED_BACKSTOP_INTERVAL: Final = 300
"""Seconds between backstop refreshes of daemons that push events, while nothing transfers."""
EVENT_REFRESH_COOLDOWN: Final = 0.5
"""Seconds between refreshes for Syncthing's events (its refresh costs no request): a change shows within 1 s."""
WATCHED_EXACT_MAX_AGE: Final = 30
"""Seconds qBittorrent's categories and tags may get old while the transfers card is open: it logs nothing when
they change, so only a full read shows them, and this is HA core's own pace of full reads."""
EVENT_RETRY_MIN: Final = 1
EVENT_RETRY_MAX: Final = 300
"""Bounds of the wait, in seconds, before following a failed event stream again (doubled each time)."""

DEFAULT_SCAN_INTERVALS: Final[dict[BackendKind, int]] = {
    BackendKind.QBITTORRENT: 10,
    BackendKind.SYNCTHING: 30,
    BackendKind.SLSKD: 15,
    BackendKind.SOULSYNC: 30,
    BackendKind.TRIBLER: 15,
}
"""Seconds between refreshes, by daemon (qBittorrent's update path is cheap enough for 10 s); for
Syncthing and Tribler, which push events, only while something transfers."""

CREDENTIAL_FIELDS: Final[dict[BackendKind, tuple[tuple[str, bool], ...]]] = {
    BackendKind.QBITTORRENT: (("username", False), ("password", False), (CONF_API_KEY, False)),
    BackendKind.SYNCTHING: ((CONF_API_KEY, True),),
    BackendKind.SLSKD: ((CONF_API_KEY, False), ("username", False), ("password", False)),
    BackendKind.SOULSYNC: ((CONF_API_KEY, False),),
    BackendKind.TRIBLER: ((CONF_API_KEY, True),),
}
"""The credential fields each daemon asks for, and whether each is required."""

DAEMON_NAMES: Final[dict[BackendKind, str]] = {
    BackendKind.QBITTORRENT: "qBittorrent",
    BackendKind.SYNCTHING: "Syncthing",
    BackendKind.SLSKD: "slskd",
    BackendKind.SOULSYNC: "SoulSync",
    BackendKind.TRIBLER: "Tribler",
}

EVENT_TRANSFER_ADDED: Final = "peerdeck_transfer_added"
EVENT_TRANSFER_COMPLETED: Final = "peerdeck_transfer_completed"
EVENT_TRANSFER_FAILED: Final = "peerdeck_transfer_failed"
EVENT_TRANSFER_REMOVED: Final = "peerdeck_transfer_removed"

SETUP_WAIT: Final = 5
"""Seconds set-up waits for the first refresh; a slower daemon's finishes in the background (its
entities unavailable until then), so it never holds up Home Assistant's start."""
CATCH_UP_DELAY: Final = 10
"""Seconds after Home Assistant has started before the catch-up events of set-up are announced."""
EVENT_TEXT_LIMIT: Final = 1_024
"""Characters of a name, path or category in an event or action answer; longer ones are cut."""
EVENT_TAGS_LIMIT: Final = 50
"""Tags of a transfer in an event or action answer."""

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 2
"""Seconds a save of the event state waits, so a burst of events (2,000 torrents added) is one write;
an unload writes at once, and a stop of Home Assistant writes what is waiting."""
SPEED_MODE_MAX_AGE: Final = 30
"""Seconds between reads of qBittorrent's alternative speed mode (HA core's pace): neither ``transfer/info`` nor its
log shows it, and each request of a refresh costs Home Assistant more CPU than it costs the daemon. A toggle made
through Peerdeck is read back at once."""
SAVE_MIN_GAP: Final = 30
"""Seconds between two writes of the event state at least. On a busy box (RSS, *arr, cross-seed adding torrents
all day) every refresh has events, and a write of a few thousand transfers was about a third of the integration's
CPU (py-spy inside a real Home Assistant, docs/benchmarks.md); a stop of Home Assistant still writes what is
waiting, and only a hard crash within these seconds announces their events again (never loses one)."""
SAVE_RETRY_DELAY: Final = 30
"""Seconds before a failed write of the event state (a full disk) is tried again."""
