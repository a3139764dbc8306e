"""Refusing agreements and equivalences the engine cannot apply, with typed errors naming field and expected.

Dates, parties, scope levels and grants (``InvalidAgreement``); unknown frameworks, levels and members
(``UnknownFramework``, ``UnknownLevel``, ``UnknownMember``); two versions of one id in force on the same day
(``OverlappingAgreementVersions``). Fields are JSON paths (``$.agreements[3].grant.modules[0].level``); the
HTTP layer renders the errors as RFC 9457 problems.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Final, TypeVar

from adapters.frameworks import FrameworkRegistry
from contracts.credits import CreditValue
from contracts.errors import (
    InvalidAgreement,
    NotFound,
    OverlappingAgreementVersions,
    UnknownGrade,
    UnknownLevel,
    UnknownMember,
)
from gateway.recognition._inputs import (
    Bilateral,
    BlockCreditGrant,
    Equivalence,
    FrameworkGradeMinimum,
    GeneralCreditGrant,
    LevelRef,
    ModuleGrant,
    RecognisedModule,
    RecognitionAgreement,
)

__all__ = ["check_agreements", "check_equivalences", "check_level", "check_member"]

_Versioned = TypeVar("_Versioned", RecognitionAgreement, Equivalence)

_MEMBER_EXPECTED: Final = "the id of a consortium member"


def _in_force(valid_from: dt.date, valid_to: dt.date | None) -> str:
    return f"{valid_from.isoformat()}..{valid_to.isoformat() if valid_to else 'open'}"


def check_member(member: str, members: Mapping[str, str] | None, field: str) -> None:
    if members is not None and member not in members:
        raise UnknownMember(f"{member!r} is not a consortium member", field=field, expected=_MEMBER_EXPECTED)


def check_level(registry: FrameworkRegistry, framework: str, code: str, field: str) -> None:
    found = registry.get(framework, field=f"{field}.framework")
    try:
        found.level(code)
    except UnknownLevel as exc:
        raise UnknownLevel(exc.detail, field=f"{field}.code", expected=exc.expected) from exc


def _check_credits(
    registry: FrameworkRegistry, value: CreditValue, field: str, label: str, *, positive: bool = True
) -> None:
    framework = registry.get(value.framework, field=f"{field}.framework")
    if value.unit != framework.credit.code:
        raise InvalidAgreement(
            f"{value.unit!r} is not the credit unit of {value.framework}",
            agreement=label,
            field=f"{field}.unit",
            expected=framework.credit.code,
        )
    if positive and value.amount <= 0:
        raise InvalidAgreement(
            "a grant of no credit", agreement=label, field=f"{field}.amount", expected="more than 0"
        )


def _check_module(registry: FrameworkRegistry, module: RecognisedModule, field: str, label: str) -> None:
    _check_credits(registry, module.credits, f"{field}.credits", label)
    try:
        registry.get(module.credits.framework).level(module.level)
    except UnknownLevel as exc:
        raise UnknownLevel(exc.detail, field=f"{field}.level", expected=exc.expected) from exc


def _check_dates(item: RecognitionAgreement | Equivalence, path: str) -> None:
    if item.valid_to is not None and item.valid_to < item.valid_from:
        raise InvalidAgreement(
            f"{item.label} ends before it starts",
            agreement=item.label,
            field=f"{path}.valid_to",
            expected=f"a date on or after valid_from ({item.valid_from.isoformat()})",
        )


def _check_grant(registry: FrameworkRegistry, agreement: RecognitionAgreement, path: str) -> None:
    grant, label, field = agreement.grant, agreement.label, f"{path}.grant"
    refs: list[tuple[LevelRef, str]] = []
    if isinstance(grant, ModuleGrant):
        for j, module in enumerate(grant.modules):
            _check_module(registry, module, f"{field}.modules[{j}]", label)
    elif isinstance(grant, GeneralCreditGrant):
        if grant.max_credits is not None:
            _check_credits(registry, grant.max_credits, f"{field}.max_credits", label)
        if grant.level is not None:
            refs.append((grant.level, f"{field}.level"))
    elif isinstance(grant, BlockCreditGrant):
        _check_credits(registry, grant.credits, f"{field}.credits", label)
        refs.append((grant.level, f"{field}.level"))
        framework = registry.get(grant.award.framework, field=f"{field}.award.framework")
        try:
            framework.award_rule(grant.award.id)
        except NotFound as exc:
            raise InvalidAgreement(
                exc.detail, agreement=label, field=f"{field}.award.id", expected=exc.expected
            ) from exc
    for ref, at in refs:
        check_level(registry, ref.framework, ref.code, at)


def _check_agreement(
    registry: FrameworkRegistry, agreement: RecognitionAgreement, path: str, members: Mapping[str, str] | None
) -> None:
    label = agreement.label
    _check_dates(agreement, path)
    parties = agreement.parties
    if isinstance(parties, Bilateral):
        if parties.members[0] == parties.members[1]:
            raise InvalidAgreement(
                "a bilateral agreement needs two different members",
                agreement=label,
                field=f"{path}.parties.members",
                expected="two different member ids",
            )
        for k, member in enumerate(parties.members):
            check_member(member, members, f"{path}.parties.members[{k}]")
    scope = agreement.scope
    if scope.eqf is not None and scope.eqf.min > scope.eqf.max:
        raise InvalidAgreement(
            "the EQF range is empty",
            agreement=label,
            field=f"{path}.scope.eqf",
            expected="min at most max (EQF 1 to 8)",
        )
    for j, ref in enumerate(scope.levels):
        check_level(registry, ref.framework, ref.code, f"{path}.scope.levels[{j}]")
    minimum = agreement.conditions.min_grade
    if isinstance(minimum, FrameworkGradeMinimum):
        at = f"{path}.conditions.min_grade"
        framework = registry.get(minimum.framework, field=f"{at}.framework")
        try:
            framework.normalise_grade(minimum.value, minimum.scheme)
        except UnknownGrade as exc:
            raise UnknownGrade(exc.detail, field=f"{at}.{exc.field}", expected=exc.expected) from exc
    _check_grant(registry, agreement, path)


def _check_versions(items: Sequence[_Versioned], kind: str) -> None:
    """Unique ``(id, version)``; versions that can apply (not draft or withdrawn) never overlap in time."""
    seen: dict[tuple[str, int], int] = {}
    by_id: dict[str, list[tuple[int, _Versioned]]] = {}
    for i, item in enumerate(items):
        if (item.id, item.version) in seen:
            raise InvalidAgreement(
                f"{item.label} is given twice",
                agreement=item.label,
                field=f"$.{kind}[{i}].version",
                expected=f"one entry per version (first at $.{kind}[{seen[item.id, item.version]}])",
            )
        seen[item.id, item.version] = i
        if getattr(item, "status", "active") in ("active", "suspended"):
            by_id.setdefault(item.id, []).append((i, item))
    for versions in by_id.values():
        versions.sort(key=lambda pair: (pair[1].valid_from, pair[1].version))
        latest: tuple[int, _Versioned] | None = None  # the version that ends last among those seen
        for i, item in versions:
            if latest is not None:
                before = latest[1]
                if before.valid_to is None or before.valid_to >= item.valid_from:
                    raise OverlappingAgreementVersions(
                        f"{before.label} ({_in_force(before.valid_from, before.valid_to)}) and {item.label} "
                        f"({_in_force(item.valid_from, item.valid_to)}) are both in force on "
                        f"{item.valid_from.isoformat()}",
                        agreement=item.id,
                        versions=(before.version, item.version),
                        field=f"$.{kind}[{i}].valid_from",
                        expected=f"a date after {before.label} ends, or an end date on {before.label}",
                    )
            if latest is None or _ends_later(item, latest[1]):
                latest = (i, item)


def _ends_later(a: RecognitionAgreement | Equivalence, b: RecognitionAgreement | Equivalence) -> bool:
    return b.valid_to is not None and (a.valid_to is None or a.valid_to > b.valid_to)


def check_agreements(
    agreements: Sequence[RecognitionAgreement],
    registry: FrameworkRegistry,
    members: Mapping[str, str] | None = None,
) -> None:
    """Refuse agreements the engine cannot apply; ``members`` (id -> framework), when given, must name every
    party. Fields are ``$.agreements[i]....``."""
    for i, agreement in enumerate(agreements):
        _check_agreement(registry, agreement, f"$.agreements[{i}]", members)
    _check_versions(agreements, "agreements")


def check_equivalences(
    equivalences: Sequence[Equivalence],
    registry: FrameworkRegistry,
    members: Mapping[str, str] | None = None,
) -> None:
    """Refuse equivalences the engine cannot apply. Fields are ``$.equivalences[i]....``."""
    for i, eq in enumerate(equivalences):
        path = f"$.equivalences[{i}]"
        _check_dates(eq, path)
        if eq.issuer == eq.recogniser:
            raise InvalidAgreement(
                "an equivalence maps one member's credential onto another member's modules",
                agreement=eq.label,
                field=f"{path}.recogniser",
                expected="a member other than the issuer",
            )
        check_member(eq.issuer, members, f"{path}.issuer")
        check_member(eq.recogniser, members, f"{path}.recogniser")
        for j, module in enumerate(eq.modules):
            _check_module(registry, module, f"{path}.modules[{j}]", eq.label)
    _check_versions(equivalences, "equivalences")
