"""Which database errors mean "the database is not there just now" (503, retry) rather than a bug (500).

A server that is restarting, crashing or failing over cuts its connections: a statement in progress fails
with ``ConnectionDoesNotExistError``, idle pooled connections with the server's 57P01-57P03 codes or, once
asyncpg has seen the socket close, a bare ``InterfaceError``; new connections are refused (``OSError``) or
told to wait (57P03) until recovery ends. None of these committed anything the caller was told about.
"""

from __future__ import annotations

import asyncpg

__all__ = ["CONNECT_ERRORS", "is_database_unavailable"]

# What ``pool.acquire()`` raises when it cannot open a connection (or ran out of time for it).
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)

_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # 08xxx, and asyncpg's "closed in the middle of operation"
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.CannotConnectNowError,  # 57P03: starting up or in recovery
    asyncpg.TooManyConnectionsError,  # 53300
)


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that say the connection, not the statement, failed."""
    if isinstance(exc, _CONNECTION_LOST):
        return True
    # asyncpg says so with a bare InterfaceError once it has seen the socket close: "connection is closed",
    # or, for a pooled connection, "released back to the pool" (the pool takes a lost connection back at
    # once). The gateway uses a connection only inside ``pooled``, so the latter is not a use after release.
    # Its other InterfaceErrors (an operation already in progress, ...) are bugs.
    return type(exc) is asyncpg.InterfaceError and (
        "connection is closed" in str(exc) or "released back to the pool" in str(exc)
    )
