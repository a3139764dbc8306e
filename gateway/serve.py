"""Serving the app with granian: several workers behind one port, the database found once by the parent."""

from __future__ import annotations

import os

from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server

__all__ = ["serve"]


def serve(dsn: str, *, host: str, port: int, workers: int) -> None:
    """Serve ``gateway.app:create_app`` until SIGINT/SIGTERM.

    Workers are separate processes that build their own app from the environment, so the parent hands them
    the database it resolved (embedded or not) and has already migrated it.
    """
    os.environ["DATABASE_URL"] = dsn
    os.environ["GATEWAY_MIGRATE_ON_START"] = "false"
    Server(
        "gateway.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        loop=Loops.auto,
        log_level=LogLevels.warning,
        log_access=False,
    ).serve()
