"""Refusing a bad evaluation request: the recogniser, the target award and each credential record.

Records must carry the mandatory elements of EU Council Recommendation 2022/C 243/02 Annex I
(shared/reference/domain.md section 5; ``InvalidCredentialRecord`` names the element), in known frameworks
and levels (``UnknownFramework``, ``UnknownLevel``), and share one ECTS basis for the whole decision
(``MixedConversionBasis``, domain.md section 1). Fields are JSON paths (``$.credentials[2].credential...``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec

from adapters.frameworks import FrameworkRegistry, require_single_basis
from contracts.credentials import CredentialRecord
from contracts.errors import (
    GatewayError,
    InvalidCredentialRecord,
    InvalidRequest,
    MixedConversionBasis,
    NotFound,
)
from contracts.types import ConversionBasis
from gateway.recognition._inputs import EvaluationRequest
from gateway.recognition._validation import check_level, check_member

__all__ = ["decode_credential", "split_usable", "validate_request"]

# Annex I element carried by each mandatory field of a record (contracts/credentials.py lists the same).
_ANNEX_I: Final = {
    "learner": "element 1, identification of the learner",
    "title": "element 2, title",
    "awarding_body": "elements 3-4, awarding body and its country",
    "country": "element 3, country of the issuer",
    "name": "element 4, awarding body",
    "issued_on": "element 5, date of issuing",
    "learning_outcomes": "element 6, learning outcomes",
    "workload": "element 7, notional workload",
    "assessment": "element 9, type of assessment",
    "participation": "element 10, form of participation",
    "quality_assurance": "element 11, type of quality assurance",
    "type": "element 11, type of quality assurance",
}
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`(?: - at `(?P<at>\$[^`]*)`)?$")
_AT = re.compile(r"^(?P<message>.*) - at `(?P<at>\$[^`]*)`$")


def _annex(name: str) -> str:
    element = _ANNEX_I.get(name)
    return f"a value for {name}" + (f" (Annex I {element})" if element else "")


def _record_error(exc: msgspec.ValidationError, path: str, credential: str | None) -> InvalidCredentialRecord:
    """A msgspec message ("Object missing required field `x` - at `$.credential`") as a typed error."""
    message = str(exc)
    missing = _MISSING.match(message)
    if missing:
        at = (missing["at"] or "$")[1:]
        name = missing["name"]
        return InvalidCredentialRecord(
            f"{name} is missing", credential=credential, field=f"{path}{at}.{name}", expected=_annex(name)
        )
    located = _AT.match(message)
    at = located["at"][1:] if located else ""
    name = at.rsplit(".", 1)[-1].split("[", 1)[0] if at else ""
    return InvalidCredentialRecord(
        located["message"] if located else message,
        credential=credential,
        field=f"{path}{at}",
        expected=_annex(name) if name in _ANNEX_I else None,
    )


def decode_credential(data: bytes | str | Mapping[str, Any], *, path: str = "$") -> CredentialRecord:
    """A canonical record from JSON (or decoded JSON); a missing or malformed element raises
    ``InvalidCredentialRecord`` naming its path and, for mandatory elements, its Annex I element."""
    credential = data.get("id") if isinstance(data, Mapping) else None
    try:
        if isinstance(data, Mapping):
            return msgspec.convert(data, CredentialRecord)
        return msgspec.json.decode(data, type=CredentialRecord)
    except msgspec.ValidationError as exc:
        raise _record_error(exc, path, credential if isinstance(credential, str) else None) from exc
    except msgspec.DecodeError as exc:
        raise InvalidCredentialRecord(str(exc), field=path, expected="a JSON object") from exc


def _blank(record: CredentialRecord) -> tuple[str, str] | None:
    """The first mandatory text element that is only white space: (field, Annex I name)."""
    mc = record.credential
    checks: list[tuple[str, str, str]] = [
        (mc.title, ".credential.title", "title"),
        (mc.awarding_body.name, ".credential.awarding_body.name", "name"),
        (mc.quality_assurance.type, ".credential.quality_assurance.type", "type"),
    ]
    checks += [
        (text, f".credential.learning_outcomes[{k}]", "learning_outcomes")
        for k, text in enumerate(mc.learning_outcomes)
    ]
    for text, field, name in checks:
        if not text.strip():
            return field, name
    return None


def _check_record(
    record: CredentialRecord,
    registry: FrameworkRegistry,
    path: str,
    evaluation_date: dt.date,
    decoded: bool = False,
) -> None:
    # Structs built in Python skip msgspec's constraints: a JSON round trip applies them all. Records
    # msgspec decoded (HTTP bodies, files) were checked then, so they skip the round trip.
    if not decoded:
        try:
            msgspec.json.decode(msgspec.json.encode(record), type=CredentialRecord)
        except msgspec.ValidationError as exc:
            raise _record_error(exc, path, record.id) from exc
    blank = _blank(record)
    if blank is not None:
        raise InvalidCredentialRecord(
            f"{blank[0].rsplit('.', 1)[-1]} is blank",
            credential=record.id,
            field=path + blank[0],
            expected=_annex(blank[1]),
        )
    workload = record.credential.workload
    at = f"{path}.credential.workload"
    framework = registry.get(workload.framework, field=f"{at}.framework")
    if workload.unit != framework.credit.code:
        raise InvalidCredentialRecord(
            f"{workload.unit!r} is not the credit unit of {workload.framework}",
            credential=record.id,
            field=f"{at}.unit",
            expected=framework.credit.code,
        )
    if workload.amount <= 0:
        raise InvalidCredentialRecord(
            "the notional workload is zero",
            credential=record.id,
            field=f"{at}.amount",
            expected="more than 0",
        )
    level = record.credential.level
    if level is not None:
        check_level(registry, level.framework, level.code, f"{path}.credential.level")
    if record.grade is not None:
        registry.get(record.grade.framework, field=f"{path}.grade.framework")
    if record.issued_on > evaluation_date:
        raise InvalidCredentialRecord(
            "the credential was issued after the evaluation date",
            credential=record.id,
            field=f"{path}.issued_on",
            expected=f"a date on or before {evaluation_date.isoformat()}",
        )


def _single_basis(records: Sequence[CredentialRecord], basis: ConversionBasis | None) -> ConversionBasis:
    """The decision's one basis: ``basis`` if given, else the records' own, else ``convention``."""
    workloads = [r.credential.workload for r in records]
    try:
        found = require_single_basis(workloads)
    except MixedConversionBasis as exc:
        first = next(w.ects_basis for w in workloads if w.ects_basis is not None)
        i = next(i for i, w in enumerate(workloads) if w.ects_basis not in (None, first))
        raise MixedConversionBasis(
            exc.detail, field=f"$.credentials[{i}].credential.workload.ects_basis", expected=first
        ) from exc
    if basis is not None and found is not None and found != basis:
        i = next(i for i, w in enumerate(workloads) if w.ects_basis not in (None, basis))
        raise MixedConversionBasis(
            f"the request asks for the {basis} basis; this record was normalised on the {found} basis",
            field=f"$.credentials[{i}].credential.workload.ects_basis",
            expected=basis,
        )
    return basis or found or "convention"


def validate_request(
    request: EvaluationRequest,
    registry: FrameworkRegistry,
    members: Mapping[str, str] | None = None,
    *,
    decoded: bool = False,
) -> ConversionBasis:
    """Refuse a request the engine cannot evaluate; return the decision's one conversion basis.

    ``members`` (id -> framework id), when given, must know the recogniser and its framework. ``decoded``:
    the credentials were decoded by msgspec, so their type constraints were already enforced.
    """
    recogniser = request.recogniser
    check_member(recogniser.id, members, "$.recogniser.id")
    if members is not None and members[recogniser.id] != recogniser.framework:
        raise InvalidRequest(
            f"{recogniser.id} awards in {members[recogniser.id]}, not {recogniser.framework}",
            field="$.recogniser.framework",
            expected=members[recogniser.id],
        )
    framework = registry.get(recogniser.framework, field="$.recogniser.framework")
    if request.target_award is not None:
        try:
            framework.award_rule(request.target_award)
        except NotFound as exc:
            raise InvalidRequest(exc.detail, field="$.target_award", expected=exc.expected) from exc
    ids: dict[str, int] = {}
    for i, record in enumerate(request.credentials):
        path = f"$.credentials[{i}]"
        _check_record(record, registry, path, request.evaluation_date, decoded)
        if record.id in ids:
            raise InvalidCredentialRecord(
                f"credential {record.id!r} is given twice",
                credential=record.id,
                field=f"{path}.id",
                expected=f"ids unique within the request (first at $.credentials[{ids[record.id]}])",
            )
        ids[record.id] = i
    return _single_basis(request.credentials, request.basis)


def split_usable(
    records: Sequence[CredentialRecord], registry: FrameworkRegistry, evaluation_date: dt.date
) -> tuple[list[CredentialRecord], list[tuple[CredentialRecord, str]], ConversionBasis]:
    """Records from members' registries, as a pathway uses them: the ones the engine can evaluate, the
    others with the reason (one bad record must not hide a learner's other credentials), and the one
    basis to convert on. Records normalised on different bases are all converted on the ``convention``
    basis: the engine converts from each issuer's own credit value, never from a record's ECTS figure."""
    usable: list[CredentialRecord] = []
    unusable: list[tuple[CredentialRecord, str]] = []
    seen: set[str] = set()
    for i, record in enumerate(records):
        if record.id in seen:
            unusable.append((record, "given twice: evaluated once"))
            continue
        seen.add(record.id)
        try:
            _check_record(record, registry, f"$[{i}]", evaluation_date, decoded=True)
        except GatewayError as exc:
            unusable.append((record, exc.detail))
            continue
        usable.append(record)
    try:
        basis = _single_basis(usable, None)
    except MixedConversionBasis:
        basis = "convention"
    return usable, unusable, basis
