"""JWT access tokens: RFC 9068 profile, issued by our AS and validated by our RS (R6, R7, R9).

Issued tokens carry ``typ: at+jwt`` and the claims of RFC 9068 section 2.2, plus ``institution``, taken
only from the client's registration. The resource server checks ``typ`` (a missing ``typ`` is refused),
``iss``, ``aud``, the signature with a published access-token key only, ``exp``, revocation and the
client's ``not_before``. Validated tokens are cached by SHA-256 of the token until they expire (the
verification costs ~150 us, performance.md), and revocation is re-checked on every cache hit.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from gateway.auth.errors import InvalidToken
from gateway.auth.jose import JoseRejected, parse_compact, sign_compact, verify_compact
from gateway.auth.keys import SigningKey
from gateway.auth.trust import TrustSnapshot

__all__ = ["ACCESS_TOKEN_TYPES", "Principal", "TokenValidator", "issue_access_token"]

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
EXP_LEEWAY = 30  # seconds (R6)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the client, and the institution it speaks for (from the token, never the request)."""

    client_id: str
    institution: str
    scopes: frozenset[str]
    jti: str
    issued_at: float
    expires_at: float
    kid: str = ""


def issue_access_token(
    *,
    signer: SigningKey,
    issuer: str,
    audience: str,
    client_id: str,
    institution: str,
    scopes: list[str],
    ttl: int,
    now: float | None = None,
) -> tuple[str, Principal]:
    iat = int(time.time() if now is None else now)
    jti = secrets.token_urlsafe(18)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": client_id,  # RFC 9068 section 2.2: for client_credentials, the client itself
        "client_id": client_id,
        "institution": institution,
        "scope": " ".join(scopes),
        "jti": jti,
        "iat": iat,
        "exp": iat + ttl,
    }
    header = {"alg": signer.alg, "typ": "at+jwt", "kid": signer.kid}
    token = sign_compact(header, claims, signer.key, signer.alg)
    return token, Principal(
        client_id=client_id,
        institution=institution,
        scopes=frozenset(scopes),
        jti=jti,
        issued_at=iat,
        expires_at=iat + ttl,
        kid=signer.kid,
    )


class TokenValidator:
    """Validates bearer tokens against the current trust snapshot, with a bounded cache."""

    def __init__(self, *, issuer: str, audience: str, cache_size: int = 10_000) -> None:
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, Principal] = OrderedDict()

    def validate(self, token: str, trust: TrustSnapshot, now: float | None = None) -> Principal:
        current = time.time() if now is None else now
        digest = hashlib.sha256(token.encode()).digest()
        principal = self._cache.get(digest)
        if principal is None:
            principal = self._verify(token, trust, current)
            if self.cache_size:
                self._cache[digest] = principal
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        if principal.expires_at <= current - EXP_LEEWAY:
            self._cache.pop(digest, None)
            raise InvalidToken("the access token has expired")
        self._check_standing(principal, trust)
        return principal

    def _check_standing(self, principal: Principal, trust: TrustSnapshot) -> None:
        """Checks that can change while a token is cached: revocation, the client's registration, and
        whether the key that signed it is still published (a withdrawn key ends its tokens at once)."""
        if principal.jti in trust.revoked:
            raise InvalidToken("the access token has been revoked")
        if principal.kid not in trust.keys.verifiers.get("access-token", {}):
            raise InvalidToken("the key that signed the access token has been withdrawn")
        client = trust.clients.get(principal.client_id)
        if (
            client is None
            or client.status != "active"
            or client.member_status != "active"
            or client.member_id != principal.institution
            or principal.issued_at < client.not_before.timestamp()
        ):
            raise InvalidToken("the access token's client is no longer authorised")

    def _verify(self, token: str, trust: TrustSnapshot, now: float) -> Principal:
        try:
            header, claims = parse_compact(token)
        except JoseRejected as exc:
            raise InvalidToken(f"malformed access token: {exc}") from exc
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken("not an access token (typ must be at+jwt)")
        kid = header.get("kid")
        key = trust.keys.verifiers.get("access-token", {}).get(kid) if isinstance(kid, str) else None
        if key is None or not isinstance(kid, str):
            raise InvalidToken("not signed by a published access-token key of this gateway")
        alg = header["alg"]
        if alg != key.as_dict().get("alg"):
            raise InvalidToken("alg does not match the signing key")
        try:
            verify_compact(token, key, alg)
        except JoseRejected as exc:
            raise InvalidToken("bad signature") from exc
        return self._principal(claims, now, kid)

    def _principal(self, claims: dict[str, Any], now: float, kid: str) -> Principal:
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        aud = claims.get("aud")
        if aud != self.audience and aud != [self.audience]:
            raise InvalidToken("not issued for this resource server (aud)")
        required = ("sub", "client_id", "institution", "jti", "scope")
        if any(not isinstance(claims.get(name), str) for name in required):
            raise InvalidToken("missing required claims")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise InvalidToken("missing exp or iat")
        if exp <= now - EXP_LEEWAY:
            raise InvalidToken("the access token has expired")
        if claims["sub"] != claims["client_id"]:
            raise InvalidToken("sub must be the client_id")
        return Principal(
            client_id=claims["client_id"],
            institution=claims["institution"],
            scopes=frozenset(claims["scope"].split()),
            jti=claims["jti"],
            issued_at=float(iat),
            expires_at=float(exp),
            kid=kid,
        )
