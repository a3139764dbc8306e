"""The consortium file: what an operator declares, validated before anything is written."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from contracts.members import Member, MemberConnector
from contracts.scopes import Scope
from contracts.types import CountryCode, FrameworkId, HttpUrl, MemberStatus, SchacHome, ShortText

__all__ = [
    "ClientEntry",
    "ConsortiumFile",
    "ConsortiumInfo",
    "MemberEndpoints",
    "MemberEntry",
    "MemberKeys",
    "SyncReport",
]

# JWK members that only a private key has (RFC 7518 sections 6.2.2, 6.3.2, 6.4; RFC 8037 section 2).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class _Config(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    pass


class ConsortiumInfo(_Config, frozen=True, kw_only=True):
    id: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    name: ShortText


class MemberEndpoints(_Config, frozen=True, kw_only=True):
    """Where the member's own services are. All optional until the capability that uses them is on."""

    registry: HttpUrl | None = None
    issuer: HttpUrl | None = None
    token: HttpUrl | None = None


class MemberKeys(_Config, frozen=True, kw_only=True):
    """The member's public keys: an inline JWKS or a ``jwks_uri``, never both, never private material."""

    jwks: dict[str, Any] | None = None
    jwks_uri: HttpUrl | None = None

    def __post_init__(self) -> None:
        if (self.jwks is None) == (self.jwks_uri is None):
            raise ValueError("give exactly one of `jwks` or `jwks_uri`")
        if self.jwks is not None:
            keys = self.jwks.get("keys")
            if not isinstance(keys, list) or not keys:
                raise ValueError("`jwks` must be a JWK Set with a non-empty `keys` list")
            for i, key in enumerate(keys):
                if not isinstance(key, dict) or "kty" not in key:
                    raise ValueError(f"`jwks.keys[{i}]` must be a JWK with a `kty`")
                private = sorted(PRIVATE_JWK_MEMBERS & key.keys())
                if private:
                    raise ValueError(f"`jwks.keys[{i}]` holds private key material ({', '.join(private)})")


# RFC 8725 section 3.10: identifiers that end up as map keys stay in a small, safe alphabet.
ClientId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{3,128}$")]


class ClientEntry(_Config, frozen=True, kw_only=True):
    """An OAuth client of a member: it authenticates with private_key_jwt using one of its keys (R1)."""

    client_id: ClientId
    scopes: Annotated[list[Scope], Meta(min_length=1)]
    keys: MemberKeys
    capabilities: list[Literal["introspect"]] = []
    status: Literal["active", "disabled"] = "active"


class MemberEntry(_Config, frozen=True, kw_only=True):
    id: SchacHome
    name: ShortText
    country: CountryCode
    framework: FrameworkId
    connector: MemberConnector
    status: MemberStatus = "active"
    endpoints: MemberEndpoints = MemberEndpoints()
    keys: MemberKeys | None = None
    webhook_url: HttpUrl | None = None
    clients: Annotated[list[ClientEntry], Meta(max_length=20)] = []

    def member(self) -> Member:
        return Member(
            id=self.id,
            name=self.name,
            country=self.country,
            framework=self.framework,
            connector=self.connector,
            status=self.status,
        )


class ConsortiumFile(_Config, frozen=True, kw_only=True):
    consortium: ConsortiumInfo
    members: Annotated[list[MemberEntry], Meta(min_length=1, max_length=1000)]


class SyncReport(msgspec.Struct, kw_only=True, frozen=True):
    """What one sync did. ``absent`` lists registered members the file no longer names."""

    consortium: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    absent: list[str]
    withdrawn: list[str] = []
    clients_written: list[str] = []
    clients_disabled: list[str] = []
