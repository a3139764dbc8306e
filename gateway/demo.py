"""``consortium-gateway demo``: the gateway on embedded PostgreSQL with the sample consortium."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gateway.config import Settings
from gateway.members.consortium_file import load_consortium_file
from gateway.members.service import sync_consortium
from gateway.runtime import database_dsn, migrated_connection
from gateway.serve import serve

__all__ = ["default_consortium_file", "run_demo"]


def default_consortium_file() -> Path:
    """``deploy/demo/consortium.toml`` of the working directory, else of the source checkout."""
    relative = Path("deploy/demo/consortium.toml")
    if relative.is_file():
        return relative
    return Path(__file__).resolve().parents[1] / relative


def run_demo(settings: Settings, *, host: str, port: int, workers: int, consortium: Path | None) -> int:
    path = consortium or default_consortium_file()
    file = load_consortium_file(path)

    async def prepare(dsn: str) -> int:
        async with migrated_connection(dsn, settings) as conn:
            report = await sync_consortium(conn, file)
        return len(report.created) + len(report.updated) + len(report.unchanged)

    with database_dsn(settings) as dsn:
        count = asyncio.run(prepare(dsn))
        base = f"http://{host}:{port}"
        first = file.members[0].id
        where = (
            "DATABASE_URL"
            if settings.database_url
            else f"embedded PostgreSQL in {settings.data_dir}/postgres"
        )
        sys.stdout.write(
            f"""
Consortium Gateway demo: {file.consortium.name}
  {count} members synced from {path}
  database: {where}

Open
  {base}/schema              API documentation (OpenAPI 3.1 at {base}/schema/openapi.json)
  {base}/readyz              readiness: database reachable, migrations current

Try
  curl -s {base}/v1/members
  curl -s {base}/v1/members/{first}
  curl -s {base}/v1/members/nowhere.example      # an RFC 9457 problem

Stop with Ctrl-C.
"""
        )
        sys.stdout.flush()
        serve(dsn, host=host, port=port, workers=workers)
    return 0
