"""``sign_compact`` against joserfc's own JWS and JWT decoding: another implementation reads what we wrote."""

from __future__ import annotations

import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from gateway.auth.jose import AnyKey, JoseRejected, parse_compact, sign_compact, verify_compact

CLAIMS = {"iss": "https://gw.example", "sub": "client-é", "scope": "a b", "iat": 1, "exp": 301}

KEYS: list[tuple[str, AnyKey]] = [
    ("EdDSA", OKPKey.generate_key("Ed25519")),
    ("Ed25519", OKPKey.generate_key("Ed25519")),
    ("ES256", ECKey.generate_key("P-256")),
    ("PS256", RSAKey.generate_key(2048)),
    ("RS256", RSAKey.generate_key(2048)),
]


@pytest.mark.parametrize(("alg", "key"), KEYS, ids=[a for a, _ in KEYS])
def test_joserfc_verifies_what_sign_compact_writes(alg: str, key: AnyKey) -> None:
    header = {"alg": alg, "typ": "at+jwt", "kid": "k1"}
    token = sign_compact(header, CLAIMS, key, alg)
    decoded = jwt.decode(token, key, algorithms=[alg])
    assert (decoded.header, decoded.claims) == (header, CLAIMS)
    verify_compact(token, key, alg)
    assert parse_compact(token) == (header, CLAIMS)
    assert "=" not in token  # base64url without padding (RFC 7515 section 2)


def test_a_changed_payload_fails_verification() -> None:
    key = ECKey.generate_key("P-256")
    header, _, signature = sign_compact({"alg": "ES256"}, CLAIMS, key, "ES256").split(".")
    forged = sign_compact({"alg": "ES256"}, {**CLAIMS, "scope": "admin"}, key, "ES256").split(".")[1]
    with pytest.raises(JoseRejected):
        verify_compact(f"{header}.{forged}.{signature}", key, "ES256")
    with pytest.raises(jws.BadSignatureError):
        jws.deserialize_compact(f"{header}.{forged}.{signature}", key, algorithms=["ES256"])


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_it_never_signs_with_none_or_a_mac(alg: str) -> None:
    with pytest.raises(ValueError, match="does not sign"):
        sign_compact({"alg": alg}, CLAIMS, ECKey.generate_key("P-256"), alg)


def test_the_header_must_name_the_algorithm_used() -> None:
    with pytest.raises(ValueError, match="does not sign"):
        sign_compact({"alg": "ES256"}, CLAIMS, OKPKey.generate_key("Ed25519"), "EdDSA")
