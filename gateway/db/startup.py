"""A long-running process (``serve``, ``relay``) waits a bounded time at start for its database.

Started together with the database, or restarted while it recovers from a crash, the process would
otherwise exit at once and leave its supervisor to guess a restart rhythm. Errors that waiting cannot mend
(a wrong password, a database that does not exist, a malformed DSN) end the wait at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from gateway.config import Settings
from gateway.db.unavailable import is_database_unavailable

__all__ = ["until_reachable"]

log = logging.getLogger(__name__)

_FIRST_PAUSE = 0.1
_LONGEST_PAUSE = 2.0


async def until_reachable(
    dsn: str,
    settings: Settings,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once the database accepts a connection; raise its last error after ``db_start_wait``."""
    deadline = clock() + settings.db_start_wait
    pause = _FIRST_PAUSE
    attempts = 0
    while True:
        attempts += 1
        try:
            conn = await asyncpg.connect(dsn, timeout=settings.db_connect_timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            transient = isinstance(exc, OSError | TimeoutError) or is_database_unavailable(exc)
            if not transient or clock() + pause > deadline:
                raise
            log.warning(
                "database not reachable yet; waiting",
                extra={"error": type(exc).__name__, "attempt": attempts, "retry_in_s": pause},
            )
            await sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
        else:
            await conn.close()
            if attempts > 1:
                log.info("database reachable", extra={"attempts": attempts})
            return
