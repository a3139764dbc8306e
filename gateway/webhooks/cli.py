"""``consortium-gateway relay`` and ``consortium-gateway webhooks ...``: the outbox relay as its own process,
and the operator's view of dead letters (list, replay, re-enable an endpoint)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.webhooks.secrets import SecretStore

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


def _secrets(args: argparse.Namespace) -> SecretStore:
    """The members' webhook secrets, for a member the consortium has (exit 2 for any other)."""
    from gateway.cli import EXIT_BAD_INPUT, _settings
    from gateway.members.store import member_exists
    from gateway.webhooks.secrets import SecretStore

    if not _with_connection(args, lambda conn: member_exists(conn, args.member)):
        sys.stderr.write(f"no consortium member {args.member!r}\n")
        raise SystemExit(EXIT_BAD_INPUT)
    return SecretStore(_settings(args).signing_keys_dir)


def cmd_secret_add(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json

    issued = _secrets(args).add(args.member)
    # The one time the secret is shown: the operator hands it to the member's webhook receiver.
    _print_json({"member": args.member, "id": issued.id, "secret": issued.secret, "created": issued.created})
    return 0


def cmd_secret_list(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json

    issued = _secrets(args).issued(args.member)
    _print_json([{"id": s.id, "created": s.created} for s in issued])
    return 0


def cmd_secret_retire(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json

    _print_json({"retired": _secrets(args).retire(args.member, keep=args.keep)})
    return 0


def register(commands: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    add(
        "relay",
        cmd_relay,
        "deliver webhooks from the outbox (beside `serve` with GATEWAY_RELAY_ENABLED=false)",
    )
    webhooks = add("webhooks", lambda a: 2, "signed webhooks: dead letters, endpoints, shared secrets")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    dead = add("dead-letters", cmd_dead_letters, "list deliveries that will not be retried", actions)
    dead.add_argument("--member", help="one member only")
    dead.add_argument("--limit", type=int, default=100)
    replay = add("replay", cmd_replay, "send dead letters again (exit 3 when none matched)", actions)
    replay.add_argument("event_id", help="the event's id (webhook-id), or 'all'")
    replay.add_argument("--member", help="only the delivery to this member")
    enable = add("enable", cmd_enable, "turn a member's endpoint back on after a 410 Gone", actions)
    enable.add_argument("member")
    secret_add = add(
        "secret-add",
        cmd_secret_add,
        "issue a member a shared secret: deliveries also carry a v1 (HMAC-SHA256) signature with it",
        actions,
    )
    secret_add.add_argument("member")
    secret_list = add(
        "secret-list", cmd_secret_list, "a member's secrets (ids and dates, never the values)", actions
    )
    secret_list.add_argument("member")
    retire = add("secret-retire", cmd_secret_retire, "drop all but the newest secrets of a member", actions)
    retire.add_argument("member")
    retire.add_argument("--keep", type=int, default=1, help="how many of the newest to keep (0: v1a only)")
