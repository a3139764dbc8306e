"""R5/R2: what a JWK Set may contribute, and how a ``kid`` picks one key."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from contracts.errors import UnknownSigningKey
from gateway.outbound.jwks import check_kid, parse_jwk_set


def public(key: ECKey | OKPKey | RSAKey, **params: Any) -> dict[str, Any]:
    return {**key.as_dict(private=False), **params}


def test_keeps_public_signature_keys() -> None:
    ec = ECKey.generate_key("P-256")
    ed = OKPKey.generate_key("Ed25519")
    rsa = RSAKey.generate_key(2048)
    keys = parse_jwk_set({"keys": [public(ec, kid="ec"), public(ed, kid="ed"), public(rsa, kid="rsa")]})
    assert [key.kid for key in keys] == ["ec", "ed", "rsa"]
    assert all(not key.is_private for key in keys)


@pytest.mark.filterwarnings("ignore:Key size should be:joserfc.errors.SecurityWarning")
@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(lambda: OctKey.generate_key(256).as_dict(kid="hmac"), id="symmetric"),
        pytest.param(lambda: ECKey.generate_key("P-256").as_dict(private=True, kid="priv"), id="private"),
        pytest.param(lambda: public(ECKey.generate_key("P-256"), kid="enc", use="enc"), id="encryption"),
        pytest.param(lambda: public(RSAKey.generate_key(1024), kid="small"), id="rsa-1024"),
        pytest.param(lambda: public(OKPKey.generate_key("X25519"), kid="x"), id="x25519"),
        pytest.param(lambda: public(ECKey.generate_key("P-256"), kid="../../etc"), id="bad-kid"),
        pytest.param(
            lambda: {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "junk"}, id="junk"
        ),
        pytest.param(lambda: "not a key", id="not-an-object"),
    ],
)
def test_drops_unusable_entries(entry: Any) -> None:
    good = public(ECKey.generate_key("P-256"), kid="good")
    keys = parse_jwk_set({"keys": [entry(), good]})
    assert [key.kid for key in keys] == ["good"]


@pytest.mark.parametrize("document", [None, [], {"keys": "x"}, {"kty": "EC"}, "text"])
def test_rejects_what_is_not_a_jwk_set(document: object) -> None:
    with pytest.raises(ValueError, match="JWK Set"):
        parse_jwk_set(document)


@pytest.mark.parametrize(
    "kid",
    ["../../dev/null", "' OR '1'='1", "a" * 10_240, "a" * 129, "", "kid with space", "k\x00", 12, ["k"]],
)
def test_malformed_kids_are_refused(kid: object) -> None:
    with pytest.raises(UnknownSigningKey) as refused:
        check_kid(kid)
    assert refused.value.reason == "invalid-kid"


@pytest.mark.parametrize("kid", ["k1", "a" * 128, "2026-01:key.v2_x-y", None])
def test_well_formed_kids_pass(kid: str | None) -> None:
    assert check_kid(kid) == kid
