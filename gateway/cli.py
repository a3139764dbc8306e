"""The ``consortium-gateway`` command.

Exit codes: 0 success; 1 failure (e.g. the database is unreachable); 2 bad input (a clear message on
stderr names what was wrong).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from contracts.errors import GatewayError
from gateway.config import Settings
from gateway.logs import configure_logging

__all__ = ["main"]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None),
        trace_console=getattr(args, "trace_console", None) or None,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    from gateway.db.migrate import applied_versions, migrate
    from gateway.runtime import connect, database_dsn

    settings = _settings(args)

    async def run(dsn: str) -> dict[str, object]:
        async with connect(dsn, settings) as conn:
            now = await migrate(conn)
            return {
                "applied_now": [f"{m.version:04d}_{m.name}" for m in now],
                "schema_version": max(await applied_versions(conn), default=0),
            }

    with database_dsn(settings) as dsn:
        _print_json(asyncio.run(run(dsn)))
    return 0


def cmd_members_sync(args: argparse.Namespace) -> int:
    from gateway.members.consortium_file import load_consortium_file
    from gateway.members.service import sync_consortium
    from gateway.runtime import database_dsn, migrated_connection

    settings = _settings(args)
    from adapters.frameworks import FrameworkRegistry

    known = FrameworkRegistry.from_entry_points().ids
    file = load_consortium_file(Path(args.file), known)  # validated before the database is touched

    async def run(dsn: str) -> object:
        async with migrated_connection(dsn, settings) as conn:
            return await sync_consortium(conn, file, prune=args.prune)

    with database_dsn(settings) as dsn:
        report = asyncio.run(run(dsn))
    _print_json(report)
    return 0


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from contracts.schema import json_schemas

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = out / f"{name}.schema.json"
        path.write_bytes(msgspec.json.format(msgspec.json.encode(schema), indent=2) + b"\n")
        written.append(str(path))
    _print_json({"written": written})
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.runtime import database_dsn, migrate_when_reachable
    from gateway.serve import serve

    settings = _settings(args)
    with database_dsn(settings) as dsn:
        # Migrate once here; each worker's trust store creates the signing keys on first start (under a lock).
        asyncio.run(migrate_when_reachable(dsn, settings))
        serve(dsn, settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from gateway.auth.token_client import fetch_token, load_client_file

    body = fetch_token(load_client_file(Path(args.client_file)), args.scope or None)
    if args.format == "json":
        _print_json(body)
    else:
        sys.stdout.write(body["access_token"] + "\n")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    import datetime as dt

    from gateway.auth.keys import key_algorithms, rotate_keys
    from gateway.runtime import database_dsn, migrated_connection

    settings = _settings(args)
    alg = args.alg or key_algorithms(settings.access_token_alg)[args.purpose]

    async def run(dsn: str) -> object:
        async with migrated_connection(dsn, settings) as conn:
            return await rotate_keys(
                conn,
                settings.signing_keys_dir,
                purpose=args.purpose,
                alg=alg,
                publish_lead=dt.timedelta(seconds=args.publish_lead),
                # A retired key stays published until every token it signed has expired, plus refresh slack.
                retire_after=dt.timedelta(seconds=settings.access_token_ttl + 60),
            )

    with database_dsn(settings) as dsn:
        _print_json(asyncio.run(run(dsn)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return run_demo(
        _settings(args),
        host=args.host,
        port=args.port,
        workers=args.workers,
        consortium=args.consortium,
        registry_port=args.registry_port,
    )


def _print_json(value: object) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consortium-gateway",
        description="Mutual recognition of micro-credentials across a consortium of institutions.",
    )
    parser.add_argument("--data-dir", type=Path, help="embedded PostgreSQL data directory (default ./var)")
    parser.add_argument("--trace-console", action="store_true", help="print spans to stdout, for people")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_: str, parent: object = commands
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(name, help=help_, description=help_)  # type: ignore[attr-defined]
        sub.set_defaults(func=func)
        return sub

    def add_server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
        sub.add_argument("--workers", type=int, default=1)

    add("migrate", cmd_migrate, "apply pending database migrations")
    add_server_options(add("serve", cmd_serve, "serve the gateway API"))
    demo = add("demo", cmd_demo, "run the gateway with the sample consortium on embedded PostgreSQL")
    add_server_options(demo)
    demo.add_argument("--consortium", type=Path, help="consortium file (default deploy/demo/consortium.toml)")
    demo.add_argument(
        "--registry-port",
        type=int,
        help="first port of the demo member registries, one per member (default: the gateway's port + 101)",
    )

    members = add("members", lambda a: EXIT_BAD_INPUT, "manage the consortium registry")
    members_cmds = members.add_subparsers(dest="members_command", required=True, metavar="ACTION")
    sync = add(
        "sync", cmd_members_sync, "upsert the members of a consortium file, in one transaction", members_cmds
    )
    sync.add_argument("file", help="consortium file (TOML)")
    sync.add_argument(
        "--prune", action="store_true", help="mark members the file no longer names as withdrawn"
    )

    token = add("token", cmd_token, "get an access token as a member, with its client file (private_key_jwt)")
    token.add_argument(
        "--client-file", required=True, help="JSON with client_id, private_jwk, token_endpoint"
    )
    token.add_argument(
        "--scope", action="append", help="a scope to ask for (repeatable); default: all registered"
    )
    token.add_argument("--format", choices=["token", "json"], default="token")

    keys = add("keys", lambda a: EXIT_BAD_INPUT, "the gateway's signing keys")
    keys_cmds = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = add(
        "rotate",
        cmd_keys_rotate,
        "one rotation step: activate the published next key, publish a new one",
        keys_cmds,
    )
    rotate.add_argument(
        "--purpose", choices=["access-token", "client-assertion", "webhook"], default="access-token"
    )
    rotate.add_argument("--alg", choices=["Ed25519", "ES256", "PS256"])
    rotate.add_argument(
        "--publish-lead",
        type=int,
        default=600,
        help="seconds a next key is published before it signs (default 600)",
    )

    from gateway.conversions.cli import register as register_conversions

    register_conversions(commands, add)
    from gateway.recognition.cli import register as register_recognition

    register_recognition(commands, add)
    from gateway.audit.cli import register as register_audit

    register_audit(commands, add)
    from gateway.webhooks.cli import register as register_webhooks

    register_webhooks(commands, add)

    schemas = add("schemas", lambda a: EXIT_BAD_INPUT, "JSON Schemas of the public contracts")
    schemas_cmds = schemas.add_subparsers(dest="schemas_command", required=True, metavar="ACTION")
    export = add("export", cmd_schemas_export, "write one JSON Schema file per contract", schemas_cmds)
    export.add_argument("dir", help="output directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings_error = None
    try:
        settings = _settings(args)
    except ValueError as exc:
        settings_error = str(exc)
    if settings_error:
        sys.stderr.write(f"consortium-gateway: {settings_error}\n")
        return EXIT_BAD_INPUT
    configure_logging(settings.log_level, settings.log_format)
    try:
        code: int = args.func(args)
    except GatewayError as exc:
        where = f" [{exc.field}]" if exc.field and exc.field not in exc.detail else ""
        expected = f" (expected {exc.expected})" if exc.expected else ""
        sys.stderr.write(f"consortium-gateway: {exc.detail}{where}{expected}\n")
        return EXIT_BAD_INPUT if exc.status < 500 else EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
