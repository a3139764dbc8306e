"""``consortium-gateway relay`` and ``consortium-gateway webhooks ...``: the outbox relay as its own process,
and the operator's view of dead letters (list, replay, re-enable an endpoint)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["register"]


def cmd_relay(args: argparse.Namespace) -> int:
    from gateway.cli import _settings
    from gateway.db.pool import database_pool
    from gateway.runtime import database_dsn, migrate_when_reachable
    from gateway.webhooks.relay import Relay, RelayConfig

    settings = _settings(args)

    async def run(dsn: str) -> None:
        await migrate_when_reachable(dsn, settings)
        async with database_pool(dsn, settings) as pool:
            relay = Relay(pool, settings.signing_keys_dir, RelayConfig.from_settings(settings))
            task = asyncio.create_task(relay.run())
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, task.cancel)
            with contextlib.suppress(asyncio.CancelledError):
                await task

    with database_dsn(settings) as dsn:
        asyncio.run(run(dsn))
    return 0


def _with_connection(args: argparse.Namespace, work: Callable[[Any], Any]) -> Any:
    from gateway.cli import _settings
    from gateway.runtime import database_dsn, migrated_connection

    settings = _settings(args)

    async def run(dsn: str) -> Any:
        async with migrated_connection(dsn, settings) as conn:
            return await work(conn)

    with database_dsn(settings) as dsn:
        return asyncio.run(run(dsn))


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json
    from gateway.webhooks import store

    _print_json(_with_connection(args, lambda c: store.dead_letters(c, member=args.member, limit=args.limit)))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from gateway.cli import EXIT_BAD_INPUT, _print_json
    from gateway.webhooks import store

    if args.event_id == "all":
        event_id = None
    else:
        try:
            event_id = uuid.UUID(args.event_id)
        except ValueError:
            raise SystemExit(EXIT_BAD_INPUT) from None
    replayed = _with_connection(args, lambda c: store.replay(c, event_id=event_id, member=args.member))
    _print_json({"replayed": [{"event_id": e, "member": m} for e, m in replayed]})
    return 0 if replayed else 3


def cmd_enable(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json
    from gateway.webhooks import store

    _print_json({"enabled": _with_connection(args, lambda c: store.enable_endpoint(c, args.member))})
    return 0


def register(commands: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    add(
        "relay",
        cmd_relay,
        "deliver webhooks from the outbox (beside `serve` with GATEWAY_RELAY_ENABLED=false)",
    )
    webhooks = add("webhooks", lambda a: 2, "signed webhooks: dead letters and endpoints")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    dead = add("dead-letters", cmd_dead_letters, "list deliveries that will not be retried", actions)
    dead.add_argument("--member", help="one member only")
    dead.add_argument("--limit", type=int, default=100)
    replay = add("replay", cmd_replay, "send dead letters again (exit 3 when none matched)", actions)
    replay.add_argument("event_id", help="the event's id (webhook-id), or 'all'")
    replay.add_argument("--member", help="only the delivery to this member")
    enable = add("enable", cmd_enable, "turn a member's endpoint back on after a 410 Gone", actions)
    enable.add_argument("member")
