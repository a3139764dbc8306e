"""Mobility requests on the wire: what members send (creations, registrar actions) and what they read.

A request's representation (``MobilityRequest``) is stored as written and returned by GET; the queue view
lists ``MobilityRequestSummary`` rows built from indexed columns. ``StoredRequest`` is the same document
with its items kept as raw JSON: actions never change items, so they are not decoded again.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from contracts.base import Contract
from contracts.credentials import CredentialRecord
from contracts.credits import CreditValue, Level
from contracts.types import SchacHome, ShortText
from gateway.mobility.workflow import Action, ItemVerdict, Outcome, State
from gateway.recognition.models import AwardProgress, CredentialOutcome

__all__ = [
    "MAX_ITEMS",
    "ActionBody",
    "Actor",
    "AppealBody",
    "AssignBody",
    "Decision",
    "DecisionBody",
    "EventPage",
    "HistoryEntry",
    "InfoRequestBody",
    "InfoResponseBody",
    "Item",
    "ItemDecision",
    "MobilityEvent",
    "MobilityRequest",
    "MobilityRequestCreate",
    "MobilityRequestPage",
    "MobilityRequestSummary",
    "Purpose",
    "ReasonCode",
    "RequestItem",
    "StoredRequest",
    "Target",
]

MAX_ITEMS = 50
# TES denial reason vocabulary, narrowed to what recognition can explain (issue 7).
ReasonCode = Literal["subject", "level", "currency", "quality_assurance", "grade", "other"]
Purpose = Literal["credit_transfer", "exchange", "admission"]
# The acting registrar's id as their member registry supplies it: an opaque, safe identifier, never a name.
RegistrarId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:@+-]{1,128}$")]
Note = Annotated[str, Meta(min_length=1, max_length=2000)]
CredentialId = Annotated[str, Meta(min_length=1, max_length=200)]


class Target(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """What the learner wants the credit for at the host: a programme, and/or an award rule of the host's
    framework (the engine then reports progress towards it)."""

    programme: ShortText | None = None
    award: Annotated[str, Meta(min_length=1, max_length=40)] | None = None


class RequestItem(Contract, frozen=True, kw_only=True):
    """A credential to transfer: its id and the canonical record (as federated lookup returns it). The
    record is stored with the request: it is what the pre-evaluation used."""

    credential_id: CredentialId
    record: CredentialRecord


class MobilityRequestCreate(Contract, frozen=True, kw_only=True):
    """``POST /v1/mobility-requests``, by the home or the host member's registry."""

    learner: Annotated[str, Meta(min_length=1, max_length=255)]
    home_member: SchacHome
    host_member: SchacHome
    items: Annotated[tuple[RequestItem, ...], Meta(min_length=1, max_length=MAX_ITEMS)]
    target: Target = Target()
    purpose: Purpose = "credit_transfer"
    registrar: RegistrarId | None = None


class Actor(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """Who acted: the member, its client, and the registrar its registry named."""

    institution: str
    client_id: str
    registrar: str | None = None


class Item(Contract, frozen=True, kw_only=True):
    position: int
    credential_id: str
    record: CredentialRecord
    evaluation: CredentialOutcome


class ItemDecision(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """A registrar's decision on one item: credits and level granted, or why not (reason code + note)."""

    credential_id: CredentialId
    decision: ItemVerdict
    credits: CreditValue | None = None
    level: Level | None = None
    reason: ReasonCode | None = None
    note: Note | None = None


class Decision(Contract, frozen=True, kw_only=True, omit_defaults=True):
    round: int
    outcome: Outcome
    items: tuple[ItemDecision, ...]
    decided_by: Actor
    decided_at: dt.datetime
    note: str | None = None


class HistoryEntry(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One change of the request: the version it made, the action, the state after it."""

    version: int
    action: Action | Literal["submit"]
    state: State
    at: dt.datetime
    by: Actor
    note: str | None = None
    assigned_to: str | None = None


class _RequestFields(Contract, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    version: int
    state: State
    learner: str
    home_member: str
    host_member: str
    target: Target
    purpose: Purpose
    round: int
    submitted_by: Actor
    created_at: dt.datetime
    updated_at: dt.datetime
    history: tuple[HistoryEntry, ...]
    evaluation_date: dt.date
    outcome: Outcome | None = None
    decisions: tuple[Decision, ...] = ()
    assigned_to: str | None = None
    due_at: dt.datetime | None = None
    decision_due: dt.datetime | None = None
    paused_since: dt.datetime | None = None
    appeal_until: dt.datetime | None = None
    award_progress: AwardProgress | None = None


class MobilityRequest(_RequestFields, frozen=True, kw_only=True, omit_defaults=True):
    """A mobility request with its items, each with the record used and the engine's explanation."""

    items: tuple[Item, ...]


class StoredRequest(_RequestFields, frozen=True, kw_only=True, omit_defaults=True):
    items: msgspec.Raw


class MobilityRequestSummary(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One row of the registrar queue."""

    id: str
    version: int
    state: State
    home_member: str
    host_member: str
    round: int
    items: int
    created_at: dt.datetime
    updated_at: dt.datetime
    outcome: Outcome | None = None
    assigned_to: str | None = None
    due_at: dt.datetime | None = None
    appeal_until: dt.datetime | None = None


class MobilityRequestPage(Contract, frozen=True, kw_only=True, omit_defaults=True):
    items: list[MobilityRequestSummary]
    next_cursor: str | None = None


class ActionBody(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """Every registrar action names the acting registrar; a note is optional."""

    registrar: RegistrarId
    note: Note | None = None


class InfoRequestBody(Contract, frozen=True, kw_only=True):
    """``request-info``: what the host needs to decide."""

    registrar: RegistrarId
    note: Note


class InfoResponseBody(Contract, frozen=True, kw_only=True):
    """``info-response``: the answer (or, from the host, why review resumes)."""

    registrar: RegistrarId
    note: Note


class AssignBody(Contract, frozen=True, kw_only=True, omit_defaults=True):
    registrar: RegistrarId
    assign_to: RegistrarId
    note: Note | None = None


class AppealBody(Contract, frozen=True, kw_only=True):
    """The grounds of the one appeal a decision allows."""

    registrar: RegistrarId
    note: Note


class DecisionBody(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """The host's decision: an outcome and one decision per item (every item, once)."""

    registrar: RegistrarId
    outcome: Outcome
    items: Annotated[tuple[ItemDecision, ...], Meta(min_length=1, max_length=MAX_ITEMS)]
    note: Note | None = None


class MobilityEvent(Contract, frozen=True, kw_only=True):
    """A thin event (R20): ids only. ``id`` is also the ``webhook-id`` of its deliveries."""

    seq: int
    id: str
    type: str
    timestamp: dt.datetime
    request_id: str
    version: int


class EventPage(Contract, frozen=True, kw_only=True):
    """Events after ``after``, in order; poll again with ``after=next_after``."""

    items: list[MobilityEvent]
    next_after: int
