"""R2/R3 differential test: over generated assertions, the gateway accepts exactly when a small reference
predicate, written here from the requirements and independent of the implementation, says it should."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import ECKey, OctKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from gateway.auth.errors import InvalidClient
from gateway.auth.rfc7523 import ASSERTION_TYPE, InlineKeySource, authenticate_client
from gateway.auth.store import ClientRow

ISSUER = "https://gw.test"
CLIENT = "uni-a-registry"
NOW = 1_800_000_000
REGISTERED = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
ATTACKER = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
OCT = OctKey.import_key(b"0123456789abcdef0123456789abcdef")
ROW = ClientRow(
    client_id=CLIENT,
    member_id="uni-a.ac.uk",
    member_status="active",
    jwks={"keys": [REGISTERED.as_dict(private=False)]},
    jwks_uri=None,
    scopes=frozenset({"members:read"}),
    capabilities=frozenset(),
    status="active",
    not_before=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
)
_MISSING = object()

FIELDS: dict[str, st.SearchStrategy[Any]] = dict(
    {
        "signer": st.sampled_from(["registered", "attacker", "hs256"]),
        "alg": st.sampled_from(["ES256", "ES384", "HS256"]),
        "typ": st.sampled_from([_MISSING, "client-authentication+jwt", "JWT", "at+jwt", "dpop+jwt"]),
        "extra_header": st.sampled_from([None, "crit", "jku", "jwk", "x5u"]),
        "iss": st.sampled_from([CLIENT, "other", _MISSING]),
        "sub": st.sampled_from([CLIENT, "other", _MISSING]),
        "aud": st.sampled_from(
            [ISSUER, [ISSUER], [ISSUER, "https://evil"], f"{ISSUER}/oauth/token", _MISSING]
        ),
        "exp": st.one_of(
            st.sampled_from([_MISSING, "soon"]), st.integers(-400, 400), st.just(10 * 365 * 86400)
        ),
        "iat": st.one_of(st.just(_MISSING), st.integers(-400, 120)),
        "nbf": st.one_of(st.just(_MISSING), st.integers(-60, 120)),
        "jti": st.sampled_from(["j1", "", "x" * 257, _MISSING, 7]),
    }
)
VALID: dict[str, Any] = {
    "signer": "registered",
    "alg": "ES256",
    "typ": "client-authentication+jwt",
    "extra_header": None,
    "iss": CLIENT,
    "sub": CLIENT,
    "aud": ISSUER,
    "exp": 60,
    "iat": 0,
    "nbf": _MISSING,
    "jti": "j1",
}


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """A valid assertion with zero to three fields changed, so both answers occur often."""
    case = dict(VALID)
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=3, unique=True)):
        case[name] = draw(FIELDS[name])
    return case


def expected(c: dict[str, Any]) -> bool:
    """R2 and R3 as written in the security reference."""
    if c["signer"] != "registered" or c["alg"] != "ES256":
        return False
    if c["typ"] not in (_MISSING, "client-authentication+jwt") or c["extra_header"] is not None:
        return False
    if c["iss"] != CLIENT or c["sub"] != CLIENT or c["aud"] != ISSUER:
        return False
    exp = c["exp"]
    if not isinstance(exp, int) or exp <= -5 or exp > 300:
        return False
    for name in ("iat", "nbf"):
        if c[name] is not _MISSING and c[name] > 30:
            return False
    if c["iat"] is not _MISSING and exp - c["iat"] > 300:
        return False
    return isinstance(c["jti"], str) and 1 <= len(c["jti"]) <= 256


def build(c: dict[str, Any]) -> str:
    header: dict[str, Any] = {"alg": c["alg"], "kid": "k1"}
    if c["typ"] is not _MISSING:
        header["typ"] = c["typ"]
    extra = c["extra_header"]
    if extra == "crit":
        header.update(crit=["x"], x=1)
    elif extra == "jku":
        header["jku"] = "https://evil.example/jwks"
    elif extra == "jwk":
        header["jwk"] = ATTACKER.as_dict(private=False)
    elif extra == "x5u":
        header["x5u"] = "https://evil.example/cert"
    claims: dict[str, Any] = {}
    for name in ("iss", "sub", "aud", "jti"):
        if c[name] is not _MISSING:
            claims[name] = c[name]
    for name in ("exp", "iat", "nbf"):
        value = c[name]
        if value is not _MISSING:
            claims[name] = value if isinstance(value, str) else NOW + value
    key = {"registered": REGISTERED, "attacker": ATTACKER, "hs256": OCT}[c["signer"]]
    if c["signer"] == "hs256":
        header["alg"] = "HS256"
    elif header["alg"] == "HS256":
        header["alg"] = "ES256"
        c["alg"] = "ES256"
    if c["alg"] == "ES384" and c["signer"] != "hs256":
        # An ES384 header over a P-256 signature: the algorithm does not match the registered key.
        key = ECKey.generate_key("P-384", parameters={"kid": "k1"}, private=True)
    registry = JWSRegistry(
        header_registry={"x": HeaderParameter("test", "int")},
        algorithms=[header["alg"]],
        strict_check_header=False,
    )
    return jws.serialize_compact(header, msgspec.json.encode(claims), key, registry=registry)


async def _accepted(assertion: str) -> bool:
    async def consume(*_: Any) -> bool:
        return True

    try:
        await authenticate_client(
            assertion=assertion,
            assertion_type=ASSERTION_TYPE,
            form_client_id=None,
            issuer=ISSUER,
            clients={CLIENT: ROW},
            key_source=InlineKeySource(),
            consume_jti=consume,
            now=NOW,
        )
    except InvalidClient:
        return False
    return True


@pytest.mark.filterwarnings("ignore")
def test_accepts_exactly_what_the_requirements_allow() -> None:
    outcomes = {True: 0, False: 0}

    @settings(
        max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
    )
    @given(cases())
    def check(case: dict[str, Any]) -> None:
        verdict = asyncio.run(_accepted(build(case)))
        assert verdict == expected(case), case
        outcomes[verdict] += 1

    check()
    # A corpus of only refusals (or only acceptances) would prove nothing.
    assert outcomes[True] >= 100, outcomes
    assert outcomes[False] >= 100, outcomes
