"""Test helpers for OAuth: member clients with real keys, and client assertions built by hand.

Assertions are built here with joserfc directly, not with the gateway's code, so tests of the
authorisation server do not use the implementation under test to produce their inputs.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from gateway.members.models import ClientEntry

ISSUER = "https://gw.test"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALL_SCOPES = [
    "members:read",
    "credentials:read",
    "learners:read",
    "learners:write",
    "recognition:read",
    "recognition:write",
    "mobility:read",
    "mobility:write",
    "mobility:decide",
]


def new_key(alg: str, kid: str) -> OKPKey | ECKey | RSAKey:
    if alg in ("EdDSA", "Ed25519"):
        return OKPKey.generate_key("Ed25519", parameters={"kid": kid, "alg": alg}, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": alg}, private=True)
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": alg}, private=True)


@dataclass
class MemberClient:
    client_id: str
    member_id: str
    alg: str = "ES256"
    scopes: list[str] = field(default_factory=lambda: list(ALL_SCOPES))
    capabilities: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = new_key(self.alg, f"{self.client_id}-k1")

    def client_entry(self) -> ClientEntry:
        return msgspec.convert(
            {
                "client_id": self.client_id,
                "scopes": self.scopes,
                "capabilities": self.capabilities,
                "keys": {"jwks": {"keys": [self.key.as_dict(private=False)]}},
            },
            ClientEntry,
        )

    def toml_client(self) -> str:
        public = self.key.as_dict(private=False)
        key_fields = ", ".join(f"{k} = {msgspec.json.encode(v).decode()}" for k, v in public.items())
        caps = msgspec.json.encode(self.capabilities).decode()
        return (
            f'\n[[members.clients]]\nclient_id = "{self.client_id}"\n'
            f"scopes = {msgspec.json.encode(self.scopes).decode()}\ncapabilities = {caps}\n"
            f"[members.clients.keys]\njwks = {{ keys = [{{ {key_fields} }}] }}\n"
        )

    def assertion(
        self,
        *,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        key: Any = None,
        alg: str | None = None,
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ISSUER,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        }
        body.update(claims or {})
        for name in drop:
            body.pop(name, None)
        head: dict[str, Any] = {
            "alg": alg or self.alg,
            "kid": f"{self.client_id}-k1",
            "typ": "client-authentication+jwt",
        }
        head.update(header or {})
        head = {k: v for k, v in head.items() if v is not None}
        if "crit" in head:  # joserfc refuses to sign unknown critical headers; an attacker would not
            registry = JWSRegistry(
                header_registry={n: HeaderParameter("test", "int") for n in head["crit"]},
                algorithms=[head["alg"]],
            )
            return jws.serialize_compact(head, msgspec.json.encode(body), key or self.key, registry=registry)
        return jwt.encode(head, body, key or self.key, algorithms=[head["alg"]], default_type=None)

    def token_form(self, assertion: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion or self.assertion(),
            **extra,
        }


def consortium_toml(members: dict[str, list[MemberClient]]) -> str:
    parts = ['[consortium]\nid = "test-consortium"\nname = "Test"\n']
    for member_id, clients in members.items():
        parts.append(
            f'\n[[members]]\nid = "{member_id}"\nname = "{member_id}"\ncountry = "GB"\n'
            f'framework = "uk-fheq"\nconnector = {{ id = "ooapi" }}\n'
        )
        parts.extend(c.toml_client() for c in clients)
    return "".join(parts)
