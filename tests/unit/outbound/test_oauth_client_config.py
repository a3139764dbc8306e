"""R11/R10: the member OAuth client's configuration rules and the RFC 8414 metadata location."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from gateway.outbound.oauth_client import AssertionKey, MemberOAuthConfig, metadata_url


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        ("https://as.uni-a.example", "https://as.uni-a.example/.well-known/oauth-authorization-server"),
        ("https://as.uni-a.example/", "https://as.uni-a.example/.well-known/oauth-authorization-server"),
        (
            "https://uni-a.example/realms/gw",
            "https://uni-a.example/.well-known/oauth-authorization-server/realms/gw",
        ),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/oauth-authorization-server"),
    ],
)
def test_metadata_url_follows_rfc_8414_section_3_1(issuer: str, expected: str) -> None:
    assert metadata_url(issuer) == expected


def test_assertion_keys_are_es256_or_eddsa_private_keys() -> None:
    AssertionKey(ECKey.generate_key("P-256"), alg="ES256", kid="a")
    AssertionKey(OKPKey.generate_key("Ed25519"), alg="EdDSA", kid="b")
    AssertionKey(OKPKey.generate_key("Ed25519"), alg="Ed25519", kid="c")


@pytest.mark.parametrize(
    ("make_key", "alg", "message"),
    [
        (lambda: RSAKey.generate_key(2048), "RS256", "ES256 or EdDSA"),
        (lambda: ECKey.generate_key("P-256"), "HS256", "ES256 or EdDSA"),
        (lambda: ECKey.generate_key("P-384"), "ES256", "P-256"),
        (lambda: OKPKey.generate_key("Ed25519"), "ES256", "P-256"),
        (lambda: ECKey.generate_key("P-256"), "EdDSA", "Ed25519"),
        (lambda: ECKey.import_key(ECKey.generate_key("P-256").as_dict(private=False)), "ES256", "private"),
    ],
)
def test_unsuitable_assertion_keys_are_refused(make_key: Any, alg: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AssertionKey(make_key(), alg=alg, kid="k")


def test_assertion_key_repr_hides_the_key() -> None:
    key = AssertionKey(ECKey.generate_key("P-256"), alg="ES256", kid="gw-1")
    assert repr(key) == "AssertionKey(alg='ES256', kid='gw-1')"


def config(**overrides: Any) -> MemberOAuthConfig:
    settings: dict[str, Any] = {"member_id": "uni-a", "client_id": "gw", "issuer": "https://as.uni-a.example"}
    return MemberOAuthConfig(**{**settings, **overrides})


def test_assertion_lifetime_is_at_most_60_s() -> None:
    assert config().assertion_lifetime == 60
    assert config(assertion_lifetime=30).assertion_lifetime == 30
    with pytest.raises(ValueError, match="60 s"):
        config(assertion_lifetime=3600)
    with pytest.raises(ValueError, match="60 s"):
        config(assertion_lifetime=0)


@pytest.mark.parametrize("issuer", ["", "https://as.uni-a.example?tenant=1", "https://as.uni-a.example#x"])
def test_issuer_has_no_query_or_fragment(issuer: str) -> None:
    with pytest.raises(ValueError, match="issuer"):
        config(issuer=issuer)
