"""``consortium-gateway recognise``: evaluate credentials for a member against the stored agreements."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from adapters.frameworks import FrameworkRegistry
from contracts.credentials import CredentialRecord
from contracts.errors import InvalidRequest
from gateway.members.store import member_frameworks
from gateway.recognition import RecognitionEngine, store
from gateway.recognition.models import EvaluationRequest, EvaluationResult, RecognisingMember

__all__ = ["register"]


def _credentials(path: str) -> tuple[CredentialRecord, ...]:
    try:
        raw = msgspec.json.decode(Path(path).read_bytes())
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}", field="--credential") from exc
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"{path} is not JSON: {exc}", field="--credential") from exc
    items = raw if isinstance(raw, list) else [raw]
    try:
        return tuple(msgspec.convert(item, CredentialRecord) for item in items)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"{path}: not a credential record: {exc}", field="--credential") from exc


def _text(result: EvaluationResult) -> str:
    lines = [
        f"recognition at {result.recogniser.id} ({result.recogniser.framework}) on {result.evaluation_date}"
    ]
    for outcome in result.outcomes:
        credits = f"{outcome.credits.amount:g} {outcome.credits.unit}" if outcome.credits else "no credit"
        level = f" at level {outcome.level.code}" if outcome.level else ""
        lines.append(f"- {outcome.credential}: {outcome.status}, {credits}{level}")
        for rule in outcome.explanation.rules:
            version = f" [{rule.agreement}]" if rule.agreement else ""
            lines.append(f"    {rule.result:<12} {rule.rule}{version}: {rule.reason}")
        if outcome.undecided:
            lines.append(f"    for a registrar: {', '.join(outcome.undecided)}")
    if result.award_progress is not None:
        progress = result.award_progress
        lines.append(f"award {progress.award}: {msgspec.json.encode(progress).decode()}")
    return "\n".join(lines)


def cmd_recognise(args: argparse.Namespace) -> int:
    from gateway.cli import _print_json, _settings
    from gateway.runtime import database_dsn, migrated_connection

    settings = _settings(args)
    credentials = _credentials(args.credential)
    registry = FrameworkRegistry.from_entry_points()

    async def run(dsn: str) -> EvaluationResult:
        async with migrated_connection(dsn, settings) as conn:
            _, agreements, equivalences = await store.load_all(conn)
            members = await member_frameworks(conn)
        if args.member not in members:
            raise InvalidRequest(
                f"{args.member!r} is not a member",
                field="--member",
                expected="one of: " + ", ".join(sorted(members)),
            )
        engine = RecognitionEngine(agreements, equivalences, registry=registry, members=members)
        request = EvaluationRequest(
            credentials=credentials,
            recogniser=RecognisingMember(id=args.member, framework=members[args.member]),
            evaluation_date=args.date or dt.date.today(),
            target_award=args.award,
        )
        return engine.evaluate(request, decoded=True)  # records were decoded from the file by msgspec

    with database_dsn(settings) as dsn:
        result = asyncio.run(run(dsn))
    if args.format == "text":
        sys.stdout.write(_text(result) + "\n")
    else:
        _print_json(result)
    return 0


def register(commands: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    recognise = add(
        "recognise",
        cmd_recognise,
        "evaluate credentials for a member against the stored agreements, explained",
    )
    recognise.add_argument(
        "--credential", required=True, help="a credential record (JSON), or a list of them"
    )
    recognise.add_argument("--member", required=True, help="the recognising member's id")
    recognise.add_argument("--award", help="an award rule id of the member's framework, to report progress")
    recognise.add_argument("--date", type=dt.date.fromisoformat, help="evaluation date (default today)")
    recognise.add_argument("--format", choices=["json", "text"], default="json")
