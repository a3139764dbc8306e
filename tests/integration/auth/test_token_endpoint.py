"""The token endpoint: client_credentials with private_key_jwt, and nothing weaker (R1-R4)."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import msgspec
import pytest
from integration.auth.conftest import get_token
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey
from litestar.testing import AsyncTestClient
from oauth_helpers import ISSUER, MemberClient, new_key


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    return msgspec.json.decode(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


async def test_issues_an_rfc9068_access_token(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    response = await client.post("/oauth/token", data=uni_a.token_form(scope="members:read mobility:read"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] <= 300
    assert body["scope"] == "members:read mobility:read"
    header, claims = _header(body["access_token"]), _claims(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "Ed25519"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ISSUER
    assert claims["sub"] == claims["client_id"] == "uni-a-registry"
    assert claims["institution"] == "uni-a.ac.uk"
    assert claims["exp"] - claims["iat"] <= 300
    assert claims["jti"]


async def test_signature_verifies_with_the_published_jwks(
    client: AsyncTestClient[Any], uni_a: MemberClient
) -> None:
    from joserfc.jwk import KeySet

    token = await get_token(client, uni_a)
    keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    decoded = jwt.decode(token, keys, algorithms=["Ed25519"])
    assert decoded.claims["client_id"] == "uni-a-registry"


async def test_institution_cannot_be_requested(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    # Extra parameters naming another institution are ignored: the claim comes from the registration (R7).
    token = await get_token(client, uni_a, institution="uni-b.ac.uk", sub="uni-b-registry")
    assert _claims(token)["institution"] == "uni-a.ac.uk"


async def test_scope_beyond_registration_is_refused(
    client: AsyncTestClient[Any], reader: MemberClient
) -> None:
    response = await client.post("/oauth/token", data=reader.token_form(scope="members:read mobility:decide"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_unsupported_grant_type(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    response = await client.post("/oauth/token", data={**uni_a.token_form(), "grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


# R1: only private_key_jwt.
async def test_client_secret_basic_is_refused(client: AsyncTestClient[Any]) -> None:
    basic = base64.b64encode(b"uni-a-registry:secret").decode()
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_client_secret_post_is_refused(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "uni-a-registry", "client_secret": "s"},
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_no_client_authentication_is_refused(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "uni-a-registry"}
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_client_secret_jwt_hs256_is_refused(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    secret = OctKey.import_key(b"a-shared-secret-that-is-long-enough-for-hs256")
    assertion = uni_a.assertion(key=secret, alg="HS256")
    response = await client.post("/oauth/token", data=uni_a.token_form(assertion))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def _unsigned(client: MemberClient, header: dict[str, Any]) -> str:
    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(msgspec.json.encode(value)).decode().rstrip("=")

    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": ISSUER, "exp": now + 60, "jti": "n1"}
    return f"{b64(header)}.{b64(claims)}."


def _r2_corpus(member: MemberClient) -> dict[str, str]:
    """R2: the negative corpus of algorithms, keys and serialisations."""
    other_rsa = new_key("RS256", f"{member.client_id}-k1")
    attacker = new_key(member.alg, f"{member.client_id}-k1")
    compact = member.assertion()
    h, p, s = compact.split(".")
    return {
        "alg none, empty signature": _unsigned(member, {"alg": "none", "kid": f"{member.client_id}-k1"}),
        "HS256 keyed with the client's public key": member.assertion(
            key=OctKey.import_key(msgspec.json.encode(member.key.as_dict(private=False))), alg="HS256"
        ),
        "RS256 with a key that is not registered": member.assertion(key=other_rsa, alg="RS256"),
        "alg other than the registered key's": member.assertion(
            alg="ES384",
            key=ECKey.generate_key("P-384", parameters={"kid": f"{member.client_id}-k1"}, private=True),
        ),
        "crit header": member.assertion(header={"crit": ["x"], "x": 1}),
        "JWS JSON serialisation": msgspec.json.encode(
            {"protected": h, "payload": p, "signature": s}
        ).decode(),
        "JWE (five segments)": f"{h}.{p}.{s}.a.b",
        "signed by an attacker key with the victim's kid": member.assertion(key=attacker),
        "attacker key embedded in a jwk header": member.assertion(
            key=attacker, header={"jwk": attacker.as_dict(private=False)}
        ),
        "jku header": member.assertion(header={"jku": "https://evil.example/jwks"}),
        "kid path traversal": member.assertion(header={"kid": "../../dev/null"}),
        "kid SQL injection": member.assertion(header={"kid": "' OR '1'='1"}),
        "kid of 10 KB": member.assertion(header={"kid": "k" * 10_000}),
        "a 1 MB assertion": "a" * 1_000_000,
    }


def _r3_corpus(member: MemberClient) -> dict[str, str]:
    """R3: claim rules."""
    now = int(time.time())
    return {
        "aud of another AS": member.assertion(claims={"aud": "https://other-as.example"}),
        "aud as a list with the issuer": member.assertion(claims={"aud": [ISSUER, "https://evil"]}),
        "aud as a one-element list": member.assertion(claims={"aud": [ISSUER]}),
        "aud of the token endpoint URL": member.assertion(claims={"aud": f"{ISSUER}/oauth/token"}),
        "exp ten years away": member.assertion(claims={"exp": now + 10 * 365 * 86400}),
        "exp missing": member.assertion(drop=("exp",)),
        "expired": member.assertion(claims={"exp": now - 60, "iat": now - 120}),
        "iat 61 s in the future": member.assertion(claims={"iat": now + 61}),
        "nbf 61 s in the future": member.assertion(claims={"nbf": now + 61}),
        "exp - iat over 300 s": member.assertion(claims={"iat": now - 250, "exp": now + 100}),
        "typ at+jwt": member.assertion(header={"typ": "at+jwt"}),
        "typ JWT": member.assertion(header={"typ": "JWT"}),
        "iss differs from sub": member.assertion(claims={"iss": "someone-else"}),
        "jti missing": member.assertion(drop=("jti",)),
        "unknown client": member.assertion(claims={"iss": "nobody", "sub": "nobody"}),
    }


@pytest.mark.parametrize("corpus", [_r2_corpus, _r3_corpus], ids=["R2", "R3"])
async def test_negative_corpora_get_401_and_no_token(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, corpus: Any
) -> None:
    for member in (uni_a, uni_b):
        for case, assertion in corpus(member).items():
            response = await client.post("/oauth/token", data=member.token_form(assertion))
            assert response.status_code == 401, f"{member.alg} {case}: {response.text}"
            body = response.json()
            assert body["error"] == "invalid_client", case
            assert "access_token" not in body, case


async def test_form_client_id_must_match_sub(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    response = await client.post("/oauth/token", data=uni_a.token_form(client_id="uni-b-registry"))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("claims", "header"),
    [({"iat": int(time.time()) + 9}, {}), ({}, {"typ": None}), ({}, {"typ": "client-authentication+jwt"})],
    ids=["iat 9 s ahead", "typ absent", "typ client-authentication+jwt"],
)
async def test_controls_that_must_pass(
    client: AsyncTestClient[Any], uni_a: MemberClient, claims: dict[str, Any], header: dict[str, Any]
) -> None:
    response = await client.post(
        "/oauth/token", data=uni_a.token_form(uni_a.assertion(claims=claims, header=header))
    )
    assert response.status_code == 200, response.text


async def test_eddsa_alg_name_is_accepted_for_ed25519_keys(
    client: AsyncTestClient[Any], uni_b: MemberClient
) -> None:
    # uni_b registered its key with alg Ed25519 (RFC 9864); the older polymorphic name is the same algorithm.
    same_key = OKPKey.import_key({k: v for k, v in uni_b.key.as_dict(private=True).items() if k != "alg"})
    response = await client.post(
        "/oauth/token", data=uni_b.token_form(uni_b.assertion(alg="EdDSA", key=same_key))
    )
    assert response.status_code == 200, response.text


async def test_repeated_parameters_are_refused(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    form = uni_a.token_form()
    body = "&".join(f"{k}={v}" for k, v in form.items()) + "&grant_type=client_credentials"
    response = await client.post(
        "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_json_body_is_refused(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    response = await client.post("/oauth/token", json=uni_a.token_form())
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


# R4: single use, atomic.
async def test_replayed_assertion_is_refused(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    assertion = uni_a.assertion()
    first = await client.post("/oauth/token", data=uni_a.token_form(assertion))
    second = await client.post("/oauth/token", data=uni_a.token_form(assertion))
    assert (first.status_code, second.status_code) == (200, 401)
    assert "replay" in second.json()["error_description"]


async def test_jti_race_exactly_one_wins_20_rounds(client: AsyncTestClient[Any], uni_a: MemberClient) -> None:
    for _ in range(20):
        assertion = uni_a.assertion()
        form = uni_a.token_form(assertion)
        responses = await asyncio.gather(*(client.post("/oauth/token", data=form) for _ in range(50)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [401] * 49


async def test_metadata(client: AsyncTestClient[Any]) -> None:
    meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "none" not in meta["token_endpoint_auth_signing_alg_values_supported"]
    assert not any(a.startswith("HS") for a in meta["token_endpoint_auth_signing_alg_values_supported"])
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert "mobility:decide" in meta["scopes_supported"]


async def test_purge_removes_only_expired_assertion_ids(database_url: str) -> None:
    import datetime as dt

    import asyncpg

    from gateway.auth import store

    conn = await asyncpg.connect(database_url)
    try:
        now = dt.datetime.now(dt.UTC)
        rows = [("c", "live", now + dt.timedelta(seconds=300)), ("c", "old", now - dt.timedelta(seconds=1))]
        assert await store.insert_new_jtis(conn, rows) == {("c", "old"), ("c", "live")}
        await store.revoke_token(conn, "gone", "c", now - dt.timedelta(seconds=1))
        await store.revoke_token(conn, "kept", "c", now + dt.timedelta(seconds=300))
        assert await store.purge_expired(conn) == (1, 1)
        jtis = {r["jti"] for r in await conn.fetch("SELECT jti FROM oauth_assertion_jtis")}
        assert jtis == {"live"}
        assert await store.load_revocations(conn) == frozenset({"kept"})
        # A purged id was expired anyway: its assertion fails the exp check before the jti table.
    finally:
        await conn.close()
