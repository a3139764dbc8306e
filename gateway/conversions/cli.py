"""``consortium-gateway convert ...`` and ``consortium-gateway frameworks ...``: JSON by default,
``--format text`` for people. Bad input raises ``contracts.errors`` types; the CLI exits 2 with the message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from adapters.frameworks import Converter, FrameworkRegistry
from contracts.errors import InvalidRequest
from contracts.frameworks import (
    CreditConversion,
    Explanation,
    GradeConversion,
    GradeDistribution,
    LevelConversion,
)
from gateway.conversions.models import CreditsRequest, GradeRequest, LevelRequest
from gateway.conversions.service import convert

__all__ = ["register"]

Add = Callable[..., argparse.ArgumentParser]


def _converter() -> Converter:
    return Converter(FrameworkRegistry.from_entry_points())


def _out(args: argparse.Namespace, value: Any, text: Callable[[], str]) -> int:
    if args.format == "text":
        sys.stdout.write(text() + "\n")
    else:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")
    return 0


def _explain(explanation: Explanation) -> str:
    lines = [f"  basis: {explanation.basis}; chain: {' -> '.join(explanation.chain)}"]
    for step in explanation.steps:
        factor = (
            f" x{step.factor:g}"
            if step.factor is not None
            else f" x{step.factor_min:g}..{step.factor_max:g}"
            if step.factor_min is not None and step.factor_max is not None
            else ""
        )
        lines.append(
            f"  {step.from_} -> {step.to}{factor}: {step.rule} [{step.source}; status {step.status}]"
        )
    lines += [f"  note: {note}" for note in explanation.notes]
    lines.append(f"  least certain fact: status {explanation.weakest_status}")
    return "\n".join(lines)


def _credits_text(r: CreditConversion) -> str:
    answer = f"{r.value:g}" if r.value is not None else f"{r.min:g} to {r.max:g}"
    return (
        f"{r.amount:g} {r.from_unit} ({r.from_framework}) = {answer} {r.to_unit} ({r.to_framework})\n"
        + _explain(r.explanation)
    )


def _level_text(r: LevelConversion) -> str:
    eqf = f"EQF {r.eqf}" if r.eqf is not None else "no EQF level"
    found = ", ".join(c.code for c in r.candidates) or "none"
    more = " (several candidates: choose with care)" if r.ambiguous else ""
    return f"{r.from_framework} {r.from_level.code} -> {eqf} -> {r.to_framework}: {found}{more}\n" + _explain(
        r.explanation
    )


def _grade_text(r: GradeConversion) -> str:
    status = "pass" if r.passed else "fail"
    others = f" (overlaps {', '.join(r.candidates)})" if len(r.candidates) > 1 else ""
    return (
        f"{r.from_framework} {r.from_grade.value} -> {r.to_framework} {r.value} [{status}]{others}\n"
        + _explain(r.explanation)
    )


def _distribution(path: str | None, flag: str) -> GradeDistribution | None:
    if path is None:
        return None
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=GradeDistribution)
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}", field=flag) from exc
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequest(f"{path} is not a grade-distribution table: {exc}", field=flag) from exc


def _request(factory: Callable[..., Any], **fields: Any) -> Any:
    try:
        return msgspec.convert(fields, factory, from_attributes=False)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc).replace("`$.", "`")) from exc


def cmd_credits(args: argparse.Namespace) -> int:
    try:
        amount = float(args.amount)
    except ValueError as exc:
        raise InvalidRequest(
            f"{args.amount!r} is not a number", field="AMOUNT", expected="a number >= 0"
        ) from exc
    request = _request(
        CreditsRequest, kind="credits", amount=amount, to=args.to, basis=args.basis, **{"from": args.from_}
    )
    result = convert(_converter(), request)
    assert isinstance(result, CreditConversion)
    return _out(args, result, lambda: _credits_text(result))


def cmd_level(args: argparse.Namespace) -> int:
    request = _request(LevelRequest, kind="level", code=args.code, to=args.to, **{"from": args.from_})
    result = convert(_converter(), request)
    assert isinstance(result, LevelConversion)
    return _out(args, result, lambda: _level_text(result))


def cmd_grade(args: argparse.Namespace) -> int:
    request = _request(
        GradeRequest,
        kind="grade",
        value=args.value,
        to=args.to,
        from_scheme=args.from_scheme,
        to_scheme=args.to_scheme,
        from_distribution=_distribution(args.table, "--table"),
        to_distribution=_distribution(args.to_table, "--to-table"),
        **{"from": args.from_},
    )
    result = convert(_converter(), request)
    assert isinstance(result, GradeConversion)
    return _out(args, result, lambda: _grade_text(result))


def cmd_frameworks_list(args: argparse.Namespace) -> int:
    frameworks = list(FrameworkRegistry.from_entry_points())
    rows = [
        {"id": fw.id, "name": fw.name, "jurisdiction": fw.jurisdiction, "credit_unit": fw.credit.code}
        for fw in frameworks
    ]
    return _out(
        args, rows, lambda: "\n".join(f"{r['id']:<12} {r['credit_unit']:<12} {r['name']}" for r in rows)
    )


def cmd_frameworks_show(args: argparse.Namespace) -> int:
    framework = FrameworkRegistry.from_entry_points().get(args.framework, field="FW")
    spec = framework.spec

    def text() -> str:
        lines = [f"{spec.id}: {spec.name} ({spec.jurisdiction}), data version {spec.version}"]
        credit = spec.credit
        lines.append(
            f"credit unit: {credit.name} ({credit.code}), {credit.hours.min:g}-{credit.hours.max:g} h"
        )
        lines.append("levels:")
        for level in spec.levels:
            eqf = f"EQF {level.eqf}" if level.eqf is not None else "no EQF level"
            lines.append(f"  {level.code:<10} {eqf:<13} {level.name}")
        lines.append("awards: " + (", ".join(a.id for a in spec.award_rules) or "none"))
        return "\n".join(lines)

    return _out(args, spec, text)


def register(commands: Any, add: Add) -> None:
    def with_format(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--format", choices=["json", "text"], default="json")
        return parser

    convert_cmd = add(
        "convert", lambda a: 2, "convert credits, levels or grades between frameworks, explained"
    )
    kinds = convert_cmd.add_subparsers(dest="convert_command", required=True, metavar="WHAT")
    credits = with_format(add("credits", cmd_credits, "convert a credit amount", kinds))
    credits.add_argument("amount", metavar="AMOUNT")
    credits.add_argument("--from", dest="from_", required=True, metavar="FW")
    credits.add_argument("--to", default="ects", metavar="FW")
    credits.add_argument("--basis", choices=["convention", "hours"], default="convention")
    level = with_format(add("level", cmd_level, "convert a level through EQF (every candidate)", kinds))
    level.add_argument("code", metavar="CODE")
    level.add_argument("--from", dest="from_", required=True, metavar="FW|eqf")
    level.add_argument("--to", required=True, metavar="FW|eqf")
    grade = with_format(add("grade", cmd_grade, "convert a grade", kinds))
    grade.add_argument("value", metavar="VALUE")
    grade.add_argument("--from", dest="from_", required=True, metavar="FW")
    grade.add_argument("--to", required=True, metavar="FW")
    grade.add_argument("--from-scheme")
    grade.add_argument("--to-scheme")
    grade.add_argument("--table", help="the source institution's grade-distribution table (JSON)")
    grade.add_argument("--to-table", help="the target institution's grade-distribution table (JSON)")

    frameworks = add("frameworks", lambda a: 2, "the credit frameworks this gateway knows")
    actions = frameworks.add_subparsers(dest="frameworks_command", required=True, metavar="ACTION")
    with_format(add("list", cmd_frameworks_list, "list frameworks", actions))
    show = with_format(add("show", cmd_frameworks_show, "show one framework: unit, levels, awards", actions))
    show.add_argument("framework", metavar="FW")
