"""What the learner routes read and write: links, consent records and the access report (R21, R22)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "DATA_CATEGORIES",
    "PURPOSES",
    "AccessEntry",
    "AccessReport",
    "Consent",
    "ConsentList",
    "ConsentRequest",
    "DataCategory",
    "Link",
    "LinkRequest",
    "PseudonymRequest",
    "Purpose",
]

# Why a member may ask for a learner's data. Each maps to a lawful basis the consortium recorded: a consent
# for that purpose, or (for credit transfer) an open mobility request between the caller and the learner.
Purpose = Literal["credit-transfer", "admission", "recognition-review", "verification"]
PURPOSES: tuple[str, ...] = ("credit-transfer", "admission", "recognition-review", "verification")
DataCategory = Literal["credentials", "grades"]
DATA_CATEGORIES: tuple[str, ...] = ("credentials", "grades")
LocalId = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[^\s/?#]+$")]


class _Body(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    pass


class LinkRequest(_Body, frozen=True, kw_only=True):
    """The caller's own id for the learner (e.g. its OOAPI personId)."""

    local_id: LocalId


class PseudonymRequest(_Body, frozen=True, kw_only=True):
    """A learner without an ESI: the gateway issues a consortium pseudonym linked to ``local_id``."""

    local_id: LocalId


class Link(msgspec.Struct, kw_only=True, frozen=True):
    learner: str
    member: str
    local_id: str
    created_at: dt.datetime


class ConsentRequest(_Body, frozen=True, kw_only=True):
    """A learner's consent, as collected by their own institution (EWP puts consent on the sender)."""

    recipient: Annotated[str, Meta(min_length=4, max_length=253, description="The member that may receive.")]
    purpose: Purpose
    valid_until: dt.datetime
    data_categories: Annotated[list[DataCategory], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["credentials", "grades"]
    )
    consent_text_version: Annotated[str, Meta(min_length=1, max_length=100)]
    method: Literal["online-form", "paper", "learner-portal", "email"] = "online-form"
    given_at: dt.datetime | None = None


class Consent(msgspec.Struct, kw_only=True, frozen=True):
    id: uuid.UUID
    learner: str
    recipient: str
    purpose: str
    data_categories: list[str]
    consent_text_version: str
    method: str
    recorded_by: str
    given_at: dt.datetime
    valid_until: dt.datetime
    withdrawn_at: dt.datetime | None = None
    status: Literal["active", "expired", "withdrawn"] = "active"


class ConsentList(msgspec.Struct, kw_only=True, frozen=True):
    """Every consent of the learner, withdrawn and expired ones included (R21: the full history)."""

    items: list[Consent]


class AccessEntry(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    at: dt.datetime
    action: str
    institution: str
    client_id: str
    purpose: str | None = None
    outcome: str
    resource: str
    members: list[str] | None = None
    basis: str | None = None


class AccessReport(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Who read or changed the learner's data through the gateway, newest first."""

    learner: str
    items: list[AccessEntry]
    next_cursor: str | None = None
