"""Strict JOSE parsing shared by every JWT the gateway accepts (R2, R5; RFC 8725).

joserfc does the cryptography; these checks come first and refuse what it would otherwise tolerate:
oversized input, JSON serialisation or JWE where a compact JWS is expected, embedded keys (``jwk``,
``jku``, ``x5u``, ``x5c``), ``crit`` extensions, and ``kid`` values that are not plain identifiers.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import warnings
from typing import Any

import msgspec
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

__all__ = [
    "MAX_JWT_BYTES",
    "JoseRejected",
    "accepted_algorithms",
    "import_jwk",
    "import_public_key",
    "import_public_key_cached",
    "parse_compact",
    "sign_compact",
    "verify_compact",
]

# RFC 9864 deprecates the polymorphic "EdDSA" name in favour of "Ed25519". Members' clients may still send
# "EdDSA" (it is the same algorithm here, since only Ed25519 keys are accepted), so joserfc's warning on
# every such verification would only flood the logs.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

# R17: a JOSE input size cap, checked before any parsing.
MAX_JWT_BYTES = 8 * 1024
_KID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit")
_EDDSA = frozenset({"EdDSA", "Ed25519"})

AnyKey = OKPKey | ECKey | RSAKey
_KEY_TYPES: dict[str, type[OKPKey] | type[ECKey] | type[RSAKey]] = {"OKP": OKPKey, "EC": ECKey, "RSA": RSAKey}


class JoseRejected(ValueError):
    """A JWT failed a structural or cryptographic check; the message says which, never the token."""


def _b64json(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise JoseRejected("malformed JWT segment") from exc
    if not isinstance(value, dict):
        raise JoseRejected("JWT segment is not a JSON object")
    return value


def parse_compact(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, unverified. Raises ``JoseRejected`` on anything unusual."""
    if len(token) > MAX_JWT_BYTES:
        raise JoseRejected(f"JWT larger than {MAX_JWT_BYTES} bytes")
    if token.lstrip().startswith("{"):
        raise JoseRejected("JWS JSON serialisation is not accepted; use the compact form")
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseRejected("not a compact JWS (JWE and other forms are not accepted)")
    header = _b64json(parts[0])
    present = [h for h in _FORBIDDEN_HEADERS if h in header]
    if present:
        raise JoseRejected(f"header parameters not accepted: {', '.join(present)}")
    if not isinstance(header.get("alg"), str):
        raise JoseRejected("header has no alg")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not _KID.match(kid)):
        raise JoseRejected("kid must be at most 128 characters from [A-Za-z0-9._:-]")
    return header, _b64json(parts[1])


def accepted_algorithms(jwk: dict[str, Any]) -> frozenset[str]:
    """The algorithms a registered public key may sign with (R2): declared by its ``alg``, or implied.

    Symmetric keys are never accepted; RSA only at 2048 bits or more, and RS256 only when declared.
    """
    kty, declared = jwk.get("kty"), jwk.get("alg")
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        implied = _EDDSA
    elif kty == "EC" and jwk.get("crv") == "P-256":
        implied = frozenset({"ES256"})
    elif kty == "RSA":
        modulus = jwk.get("n", "")
        if not isinstance(modulus, str) or len(base64.urlsafe_b64decode(modulus + "==")) * 8 < 2048:
            return frozenset()
        implied = frozenset({"PS256", "RS256"}) if declared == "RS256" else frozenset({"PS256"})
    else:
        return frozenset()
    if declared is None:
        return implied
    declared_set = _EDDSA if declared in _EDDSA else frozenset({declared})
    return implied & declared_set


def import_jwk(jwk: dict[str, Any]) -> AnyKey:
    """A key of a supported type (OKP, EC, RSA) from a JWK, private or public as given."""
    key_type = _KEY_TYPES.get(jwk.get("kty", ""))
    if key_type is None:
        raise JoseRejected("unsupported key type")
    key: AnyKey = key_type.import_key(jwk)
    return key


def import_public_key(jwk: dict[str, Any]) -> AnyKey:
    """The public half of ``jwk``, without its ``alg``: which algorithm it may verify is decided by
    ``accepted_algorithms`` (so "EdDSA" and "Ed25519", one algorithm under two names, both work)."""
    dropped = ("d", "p", "q", "dp", "dq", "qi", "oth", "k", "alg")
    public = {k: v for k, v in jwk.items() if k not in dropped}
    try:
        return import_jwk(public)
    except (JoseError, ValueError, TypeError) as exc:
        raise JoseRejected("unusable public key") from exc


@functools.lru_cache(maxsize=4096)
def _import_serialised(serialised: bytes) -> AnyKey:
    return import_public_key(msgspec.json.decode(serialised))


def import_public_key_cached(jwk: dict[str, Any]) -> AnyKey:
    """``import_public_key``, memoised on the JWK's content: importing an EC key costs ~100 us, about a
    quarter of a token request, and a client presents the same few keys again and again. A changed key has
    different content, so it is never served stale."""
    return _import_serialised(msgspec.json.encode(jwk))


# What the gateway itself signs with; never "none" or a MAC, whatever a caller passes.
_SIGNING_ALGS = frozenset({"EdDSA", "Ed25519", "ES256", "PS256", "RS256"})


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_compact(header: dict[str, Any], claims: dict[str, Any], key: AnyKey, alg: str) -> str:
    """A compact JWS of ``claims``, signed by joserfc's implementation of ``alg``.

    Only the serialisation (base64url of two JSON objects, RFC 7515 section 7.1) is done here: ``jwt.encode``
    re-checks the header through joserfc's registry on every call, which made issuing an Ed25519 access
    token cost 131 us where the signature itself takes 70 us. ``header`` must carry ``alg``."""
    if alg not in _SIGNING_ALGS or header.get("alg") != alg:
        raise ValueError(f"the gateway does not sign with {alg!r}")
    signing_input = _b64(msgspec.json.encode(header)) + b"." + _b64(msgspec.json.encode(claims))
    signature = jws.JWSRegistry.algorithms[alg].sign(signing_input, key)
    return (signing_input + b"." + _b64(signature)).decode("ascii")


def verify_compact(token: str, key: AnyKey, alg: str) -> None:
    """Verify the signature with exactly ``alg`` (never a list chosen by the token)."""
    try:
        jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError) as exc:
        raise JoseRejected("bad signature") from exc
