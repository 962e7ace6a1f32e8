"""Reads sent together, so their answers are waited for once.

Each answer a client waits for wakes its event loop; on a small machine that wake-up costs more
than the answer (Home Assistant's loop, measured in docs/benchmarks.md). Independent reads sent
together come back together, so the loop wakes about once for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def task_group() -> AsyncIterator[asyncio.TaskGroup]:
    """An :class:`asyncio.TaskGroup` that raises the first task's error itself, not an ``ExceptionGroup``.

    Callers catch Peerdeck's typed errors; when one read fails the others are cancelled (nothing is left
    running against the daemon) and the error is the one a read made one by one would have raised.
    """
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as failed:
        first = failed.exceptions[0]
        raise first from first.__cause__
