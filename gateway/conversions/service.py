"""Dispatching conversion requests to the framework converter, item by item."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.frameworks import Converter
from contracts.errors import GatewayError, InvalidRequest, UnknownLevel
from contracts.frameworks import CreditConversion, GradeConversion, LevelConversion
from contracts.problems import Problem
from gateway.conversions.models import (
    OUTCOME_BY_REQUEST,
    ConversionOutcome,
    ConversionRequest,
    ConversionResults,
    CreditsRequest,
    CreditValueRequest,
    FailedOutcome,
    LevelRequest,
)

__all__ = ["convert", "convert_batch"]

_AT = " - at `$"


def convert(
    converter: Converter, request: ConversionRequest
) -> CreditConversion | LevelConversion | GradeConversion:
    """One conversion; raises ``contracts.errors`` types naming the field at fault."""
    if isinstance(request, CreditsRequest):
        return converter.credits(request.amount, request.from_, request.to, request.basis)
    if isinstance(request, CreditValueRequest):
        return converter.credit_value(request.value, request.to, request.basis)
    if isinstance(request, LevelRequest):
        if request.from_ == "eqf":
            if not request.code.isdigit():
                raise UnknownLevel(f"{request.code!r} is not an EQF level", field="code", expected="1 to 8")
            return converter.eqf(int(request.code), request.to)
        return converter.level(request.code, request.from_, request.to)
    return converter.grade(
        request.value,
        request.from_,
        request.to,
        from_scheme=request.from_scheme,
        to_scheme=request.to_scheme,
        from_distribution=request.from_distribution,
        to_distribution=request.to_distribution,
    )


def _problem(exc: GatewayError, index: int) -> Problem:
    field = f"items[{index}].{exc.field}" if exc.field else f"items[{index}]"
    return Problem(
        type=exc.type_uri(),
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        field=field,
        expected=exc.expected,
    )


def _decode(raw: dict[str, Any]) -> ConversionRequest:
    try:
        request: ConversionRequest = msgspec.convert(raw, ConversionRequest)
        return request
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = None
        if _AT in message:
            message, _, path = message.partition(_AT)
            field = path.rstrip("`").lstrip(".") or None
        raise InvalidRequest(message, field=field) from exc


_REQUESTS = list[ConversionRequest]


def _decode_all(items: list[dict[str, Any]]) -> list[ConversionRequest | dict[str, Any]]:
    """Decode the whole list in one call (about 5x faster than item by item); only when some item is
    malformed are items decoded one by one, so that each malformed item gets its own problem."""
    try:
        decoded: list[ConversionRequest | dict[str, Any]] = msgspec.convert(items, _REQUESTS)
    except msgspec.ValidationError:
        return list(items)
    return decoded


def convert_batch(converter: Converter, items: list[dict[str, Any]]) -> ConversionResults:
    """Every item gets an outcome; an item's error is its own problem and never fails the batch."""
    outcomes: list[ConversionOutcome] = []
    failed = 0
    for index, raw in enumerate(_decode_all(items)):
        try:
            request = _decode(raw) if isinstance(raw, dict) else raw
            result = convert(converter, request)
        except GatewayError as exc:
            failed += 1
            outcomes.append(FailedOutcome(index=index, ok=False, problem=_problem(exc, index)))
            continue
        outcome_type = OUTCOME_BY_REQUEST[str(type(request).__struct_config__.tag)]
        outcomes.append(outcome_type(index=index, ok=True, result=result))  # type: ignore[call-arg,arg-type]
    return ConversionResults(items=outcomes, failed=failed)
