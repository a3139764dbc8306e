"""Serving the app with granian: several workers behind one port, the database found once by the parent."""

from __future__ import annotations

import os

from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server
from litestar import Litestar

from gateway import affinity, heap, scheduling
from gateway.app import create_app
from gateway.config import Settings

__all__ = ["serve", "worker_app"]


def worker_app() -> Litestar:
    """The app of one serving worker: ``create_app`` from the environment. Once its start-up is done, when
    everything that lives as long as the worker exists (its threads too), it is pinned to a CPU
    (``gateway.affinity``; ``app.state.pinned_cpu``) and its threads put under ``SCHED_BATCH``
    (``gateway.scheduling``; ``app.state.batch_scheduled``) if the settings ask for it, and its heap is
    settled (``gateway.heap``)."""
    app = create_app()
    settings: Settings = app.state.settings
    app.state.pinned_cpu = None
    app.state.batch_scheduled = False
    if settings.worker_cpu_affinity == "auto":
        lock_dir = settings.data_dir / "run" / "cpus"

        def pin() -> None:
            app.state.pinned_cpu = affinity.pin_worker(lock_dir)

        app.on_startup.append(pin)
    if settings.worker_scheduling == "batch":

        def batch() -> None:
            app.state.batch_scheduled = scheduling.batch_worker()

        app.on_startup.append(batch)
    app.on_startup.append(lambda: heap.settle(settings.gc_gen0_threshold))
    return app


def serve(dsn: str, settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve ``worker_app`` until SIGINT/SIGTERM.

    Workers are separate processes that build their own app from the environment, so the parent hands them
    what it resolved: the database (embedded or not, already migrated), the issuer and the keys directory.

    A worker that dies (the OOM killer, a crash in native code) is replaced at once, so the others do not
    go down with it; granian's own default ends the whole server. One that dies again within 5.5 s of being
    replaced is a crash loop, and then the server exits for its supervisor to see.
    """
    os.environ["DATABASE_URL"] = dsn
    os.environ["GATEWAY_MIGRATE_ON_START"] = "false"
    os.environ["GATEWAY_ISSUER"] = settings.issuer
    os.environ["GATEWAY_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["GATEWAY_KEYS_DIR"] = str(settings.signing_keys_dir.resolve())
    os.environ["GATEWAY_OUTBOUND_ALLOW_LOOPBACK"] = "true" if settings.outbound_allow_loopback else "false"
    Server(
        "gateway.serve:worker_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        loop=Loops.auto,
        log_level=LogLevels.warning,
        log_access=False,
        respawn_failed_workers=True,
    ).serve()
