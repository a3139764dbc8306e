"""``consortium-gateway audit verify``: check the audit hash chains and name the first broken link."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from gateway.audit.verify import VerifyReport, verify

__all__ = ["register"]

EXIT_BROKEN = 3


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json, _settings
    from gateway.runtime import database_dsn, migrated_connection

    settings = _settings(args)

    async def run(dsn: str) -> VerifyReport:
        async with migrated_connection(dsn, settings) as conn:
            return await verify(conn, args.stream)

    with database_dsn(settings) as dsn:
        report = asyncio.run(run(dsn))
    _print_json(report)
    return 0 if report.ok else EXIT_BROKEN


def register(commands: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    audit = add("audit", lambda a: 2, "the append-only, hash-chained audit log")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = add(
        "verify",
        cmd_audit_verify,
        "recompute every audit hash chain; exit 3 and name the first broken link if one is broken",
        actions,
    )
    check.add_argument("--stream", help="check one stream only")
