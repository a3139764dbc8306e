"""Consortium members: the institutions that take part."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from contracts.base import Contract
from contracts.types import ConnectorId, CountryCode, FrameworkId, MemberStatus, SchacHome, ShortText

__all__ = ["Member", "MemberConnector", "MemberPage", "MemberProfile"]


class MemberConnector(Contract, frozen=True, kw_only=True):
    """How the gateway reaches a member's registry: which connector adapter, and its settings."""

    id: ConnectorId
    settings: dict[str, Any] = {}


class Member(Contract, frozen=True, kw_only=True):
    """A consortium member as the gateway knows it.

    ``id`` is the institution's schacHomeOrganization (its DNS domain). Keys and webhook URLs belong to the
    consortium registry (``gateway.members``), not to this record.
    """

    id: SchacHome
    name: ShortText
    country: CountryCode
    framework: FrameworkId
    connector: MemberConnector
    status: MemberStatus = "active"

    def profile(self) -> MemberProfile:
        return MemberProfile(
            id=self.id, name=self.name, country=self.country, framework=self.framework, status=self.status
        )


class MemberProfile(Contract, frozen=True, kw_only=True):
    """The public directory entry of a member: nothing about how it is reached or authenticated."""

    id: SchacHome
    name: ShortText
    country: CountryCode
    framework: FrameworkId
    status: MemberStatus


class MemberPage(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One page of the member directory, in id order."""

    items: list[MemberProfile]
    next_cursor: Annotated[str | None, Meta(description="Pass as ?cursor= for the next page.")] = None
