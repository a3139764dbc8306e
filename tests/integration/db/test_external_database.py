"""DATABASE_URL pointing at another server (here a second embedded one) works the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.db.embedded import embedded_postgres


async def test_second_server_via_database_url(tmp_path: Path, demo_consortium_file: Path) -> None:
    with embedded_postgres(tmp_path / "second") as dsn:
        env = {**os.environ, "DATABASE_URL": dsn, "GATEWAY_DATA_DIR": str(tmp_path / "unused")}
        for args in (["migrate"], ["members", "sync", str(demo_consortium_file)]):
            result = subprocess.run(
                [sys.executable, "-m", "gateway.cli", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr
        # With DATABASE_URL set, no embedded server was started in the data directory.
        assert not (tmp_path / "unused" / "postgres").exists()

        settings = Settings.from_env({"DATABASE_URL": dsn, "GATEWAY_KEYS_DIR": str(tmp_path / "keys")})
        async with AsyncTestClient(create_app(settings)) as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/v1/members")).status_code == 401  # the directory needs a token
            # The gateway created its signing keys in that database, and their private halves on disk only.
            conn = await asyncpg.connect(dsn)
            try:
                purposes = {
                    r["purpose"] for r in await conn.fetch("SELECT purpose FROM gateway_signing_keys")
                }
            finally:
                await conn.close()
            assert purposes == {"access-token", "client-assertion", "webhook"}
            assert len(list((tmp_path / "keys").glob("*.jwk.json"))) == 3
