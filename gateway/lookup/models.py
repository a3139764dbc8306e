"""Federated answers: merged records plus every member's outcome (R26), so a caller sees exactly who
answered, who did not, and why."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from contracts.credentials import CredentialRecord, MicroCredential
from gateway.federation import MemberOutcome

__all__ = [
    "CatalogueItem",
    "CataloguePage",
    "CredentialsPage",
    "Verification",
    "VerifiedCredential",
    "credential_id",
    "split_credential_id",
]


def credential_id(issuer: str, local_id: str) -> str:
    """The gateway's id of an awarded credential: ``<issuer schacHome>:<the issuer's own id>``, so a
    lookup by id can be routed to the one member that issued it."""
    return f"{issuer}:{local_id}"


def split_credential_id(value: str) -> tuple[str, str] | None:
    issuer, sep, local_id = value.partition(":")
    return (issuer, local_id) if sep and issuer and local_id else None


class CredentialsPage(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """One page of a learner's credentials across members, de-duplicated, newest first."""

    learner: str
    purpose: str
    items: list[CredentialRecord]
    partial: bool
    members: list[MemberOutcome]
    elapsed_ms: float
    next_cursor: str | None = None


class Verification(msgspec.Struct, kw_only=True, frozen=True):
    """How the gateway knows the credential is real: the issuer's own registry confirmed it just now."""

    status: Literal["verified"]
    method: Literal["issuer-registry"] = "issuer-registry"
    issuer: str
    checked_at: dt.datetime


class VerifiedCredential(msgspec.Struct, kw_only=True, frozen=True):
    credential: CredentialRecord
    verification: Verification
    member: MemberOutcome


class CatalogueItem(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """A member's micro-credential with its size in ECTS and its EQF level (``None`` where not known)."""

    member: str
    ects: float | None
    eqf: int | None
    credential: MicroCredential


class CataloguePage(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    items: list[CatalogueItem]
    partial: bool
    members: list[MemberOutcome]
    elapsed_ms: float
    next_cursor: str | None = None
