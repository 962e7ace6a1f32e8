"""SoulSync (REST API v1, 3.1.x): the full client, its rate limiter and the unified backend."""

from .backend import SoulSyncBackend, search_hits, to_transfer
from .client import SoulSyncClient
from .models import (
    ApiKeyInfo,
    ApiResult,
    DownloadList,
    DownloadTask,
    MetadataResults,
    MusicRequest,
    NewApiKey,
    Page,
    Pagination,
    SystemStats,
    SystemStatus,
    WishlistAdded,
)
from .ratelimit import RateLimiter
from .wire import SoulSyncAuthenticationError, SoulSyncForbiddenError

__all__ = [
    "ApiKeyInfo",
    "ApiResult",
    "DownloadList",
    "DownloadTask",
    "MetadataResults",
    "MusicRequest",
    "NewApiKey",
    "Page",
    "Pagination",
    "RateLimiter",
    "SoulSyncAuthenticationError",
    "SoulSyncBackend",
    "SoulSyncClient",
    "SoulSyncForbiddenError",
    "SystemStats",
    "SystemStatus",
    "WishlistAdded",
    "search_hits",
    "to_transfer",
]
