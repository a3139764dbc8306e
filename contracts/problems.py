"""RFC 9457 problem details, the body of every error response."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from contracts.base import Contract

__all__ = ["FieldError", "Problem"]


class FieldError(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One input field at fault."""

    field: Annotated[str, Meta(description="JSON path of the field, e.g. $.items[3].credit.amount")]
    message: str
    expected: str | None = None


class Problem(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details (``application/problem+json``).

    ``type``, ``title``, ``status``, ``detail`` and ``instance`` are the RFC's members (section 3.1);
    ``field``, ``expected``, ``errors`` and ``trace_id`` are extension members (section 3.2).
    """

    type: Annotated[str, Meta(description="Stable URI identifying the problem type.")]
    title: str
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: str | None = None
    instance: str | None = None
    field: str | None = None
    expected: str | None = None
    errors: list[FieldError] | None = None
    trace_id: str | None = None
