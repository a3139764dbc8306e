"""The fault switch and the bearer verifier of the sandbox, without HTTP."""

from __future__ import annotations

import time

import msgspec
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from adapters.connectors.sandbox import AuthFailure, BearerVerifier, FaultConfig, FaultState


def test_flapping_sequence_restarts_on_set() -> None:
    faults = FaultState()
    faults.set("flapping")
    assert [faults.decide().kind for _ in range(4)] == ["proceed", "error", "proceed", "error"]
    faults.set("flapping")
    assert faults.decide().kind == "proceed"


def test_modes() -> None:
    faults = FaultState()
    assert faults.decide().kind == "proceed"
    faults.set("slow", delay_ms=250)
    assert faults.decide().delay == 0.25
    faults.set("malformed", malformed_kind="schema")
    assert (faults.decide().kind, faults.decide().malformed_kind) == ("malformed", "schema")
    faults.clear()
    assert faults.as_json() == {"mode": "none", "delayMs": 0, "malformedKind": "not-json"}
    with pytest.raises(ValueError, match="unknown fault mode"):
        faults.set("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="delayMs"):
        faults.set("slow", delay_ms=-5)


def test_admin_body_is_strict() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"mode": "slow", "delay": 5}', type=FaultConfig)
    assert msgspec.json.decode(b'{"mode": "hang"}', type=FaultConfig).mode == "hang"


KEY = ECKey.generate_key("P-256", parameters={"kid": "k1", "alg": "ES256"}, private=True)
VERIFIER = BearerVerifier(
    issuer="https://gw.test", audience="https://api.test", jwks={"keys": [KEY.as_dict(private=False)]}
)


def token(typ: str = "at+jwt", **claims: object) -> str:
    now = int(time.time())
    body = {"iss": "https://gw.test", "aud": "https://api.test", "exp": now + 60, "scope": "ooapi:read"}
    body.update(claims)
    return jwt.encode({"alg": "ES256", "typ": typ, "kid": "k1"}, body, KEY, algorithms=["ES256"])


def test_verifier_accepts_and_refuses() -> None:
    assert VERIFIER.verify(f"Bearer {token()}")["iss"] == "https://gw.test"
    cases = {
        None: 401,
        f"Bearer {token(typ='JWT')}": 401,
        f"Bearer {token(aud='https://other.test')}": 401,
        f"Bearer {token(exp=int(time.time()) - 120)}": 401,
        f"Bearer {token(scope='members:read')}": 403,
    }
    for header, status in cases.items():
        with pytest.raises(AuthFailure) as refused:
            VERIFIER.verify(header)
        assert refused.value.status == status
    # Expiry has a 30 s leeway, as the gateway's own resource server.
    assert VERIFIER.verify(f"Bearer {token(exp=int(time.time()) - 5)}")
