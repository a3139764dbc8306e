"""A small, real private_key_jwt client: what ``consortium-gateway token`` uses to act as a member.

A client file (written by the demo for each member) holds ``client_id``, ``private_jwk``,
``token_endpoint`` and ``issuer``. The assertion follows what our authorisation server demands (R3):
``aud`` = the issuer as a string, 60 s lifetime, a fresh ``jti``, ``typ: client-authentication+jwt``.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
from joserfc import jwt

from contracts.errors import InvalidRequest, ServiceUnavailable
from gateway.auth.jose import import_jwk
from gateway.auth.rfc7523 import ASSERTION_TYPE

__all__ = ["ClientFile", "client_assertion", "fetch_token", "load_client_file"]


class ClientFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    client_id: str
    member_id: str
    private_jwk: dict[str, Any]
    token_endpoint: str
    issuer: str
    scopes: list[str] = []


def load_client_file(path: Path) -> ClientFile:
    try:
        return msgspec.json.decode(path.read_bytes(), type=ClientFile)
    except OSError as exc:
        raise InvalidRequest(
            f"cannot read client file {path}: {exc.strerror}", field="--client-file"
        ) from exc
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"not a client file: {exc}", field="--client-file") from exc


def client_assertion(client: ClientFile, *, lifetime: int = 60, now: float | None = None) -> str:
    iat = int(time.time() if now is None else now)
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": client.issuer,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": secrets.token_urlsafe(18),
    }
    alg = client.private_jwk["alg"]
    header = {"alg": alg, "kid": client.private_jwk["kid"], "typ": "client-authentication+jwt"}
    return jwt.encode(header, claims, import_jwk(client.private_jwk), algorithms=[alg])


def fetch_token(
    client: ClientFile, scopes: list[str] | None = None, *, timeout: float = 10.0
) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(client),
    }
    if scopes:
        form["scope"] = " ".join(scopes)
    try:
        response = httpx.post(client.token_endpoint, data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"cannot reach {client.token_endpoint}: {exc}") from exc
    body: dict[str, Any] = response.json()
    if response.status_code != 200:
        raise InvalidRequest(f"token request refused: {body.get('error')}: {body.get('error_description')}")
    return body
