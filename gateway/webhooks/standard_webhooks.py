"""Standard Webhooks, version 1 (standardwebhooks.com, "Standard Webhooks specification"): the three
headers, the signed content, asymmetric ``v1a`` signatures (Ed25519) and symmetric ``v1`` ones (HMAC-SHA256).

- ``webhook-id``: the message id, the same on every delivery attempt (receivers de-duplicate by it);
- ``webhook-timestamp``: integer Unix seconds of this attempt;
- ``webhook-signature``: space-separated ``<version>,<base64 signature>`` entries, so several keys can
  sign during a rotation; ``v1a`` is Ed25519 and ``v1`` HMAC-SHA256 (keyed with a member's shared
  secret, ``gateway.webhooks.secrets``), both over ``"<id>.<timestamp>.<body>"``. A receiver skips the
  versions it does not know, so one header serves both kinds of receiver library.

Receivers check the timestamp against a tolerance (the reference libraries default to 5 minutes) before
the signature, so a captured message cannot be replayed later, and accept any published key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "DEFAULT_TOLERANCE",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "InvalidWebhook",
    "WebhookVerifier",
    "sign",
    "signed_content",
    "webhook_headers",
]

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
DEFAULT_TOLERANCE = 300
_ASYMMETRIC = "v1a"
_SYMMETRIC = "v1"
# Bounds that keep a hostile header from costing more than a few signature checks.
_MAX_SIGNATURES = 8
_MAX_ID = 256


class InvalidWebhook(Exception):
    """A message that must not be processed. ``reason``: ``missing-header``, ``bad-timestamp``,
    ``timestamp-too-old``, ``timestamp-too-new``, ``no-valid-signature``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def _hmac(secret: bytes, content: bytes) -> bytes:
    return hmac.new(secret, content, hashlib.sha256).digest()


def sign(
    msg_id: str,
    timestamp: int,
    body: bytes,
    keys: Sequence[Ed25519PrivateKey],
    secrets: Sequence[bytes] = (),
) -> str:
    """The ``webhook-signature`` value: one ``v1a`` entry per key, then one ``v1`` entry per secret."""
    content = signed_content(msg_id, timestamp, body)
    entries = [f"{_ASYMMETRIC},{base64.b64encode(key.sign(content)).decode()}" for key in keys]
    entries += [f"{_SYMMETRIC},{base64.b64encode(_hmac(secret, content)).decode()}" for secret in secrets]
    return " ".join(entries)


def webhook_headers(
    msg_id: str,
    body: bytes,
    keys: Sequence[Ed25519PrivateKey],
    *,
    secrets: Sequence[bytes] = (),
    timestamp: int | None = None,
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(stamp),
        HEADER_SIGNATURE: sign(msg_id, stamp, body, keys, secrets),
        "Content-Type": "application/json",
    }


def _okp_public(jwk: Mapping[str, Any]) -> Ed25519PublicKey | None:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        return None
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


class WebhookVerifier:
    """Verifies messages by their ``v1a`` signatures against public keys (e.g. the gateway's published
    webhook JWKS) and, when given shared secrets, by their ``v1`` signatures."""

    def __init__(
        self,
        keys: Iterable[Ed25519PublicKey],
        *,
        secrets: Iterable[bytes] = (),
        tolerance: int = DEFAULT_TOLERANCE,
    ) -> None:
        self.keys = tuple(keys)
        self.secrets = tuple(secrets)
        self.tolerance = tolerance

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], *, tolerance: int = DEFAULT_TOLERANCE) -> WebhookVerifier:
        keys = [k for k in (_okp_public(j) for j in jwks.get("keys", [])) if k is not None]
        return cls(keys, tolerance=tolerance)

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> str:
        """The message id, when the message is authentic and fresh; ``InvalidWebhook`` otherwise."""
        lowered = {k.lower(): v for k, v in headers.items()}
        msg_id = lowered.get(HEADER_ID)
        stamp = lowered.get(HEADER_TIMESTAMP)
        signatures = lowered.get(HEADER_SIGNATURE)
        if not msg_id or not stamp or not signatures or len(msg_id) > _MAX_ID:
            raise InvalidWebhook("missing-header")
        if not stamp.isdigit() or len(stamp) > 12:
            raise InvalidWebhook("bad-timestamp")
        current = time.time() if now is None else now
        if int(stamp) < current - self.tolerance:
            raise InvalidWebhook("timestamp-too-old")
        if int(stamp) > current + self.tolerance:
            raise InvalidWebhook("timestamp-too-new")
        content = signed_content(msg_id, int(stamp), body)
        expected = [_hmac(secret, content) for secret in self.secrets]
        for entry in signatures.split(" ")[:_MAX_SIGNATURES]:
            version, _, value = entry.partition(",")
            if version not in (_ASYMMETRIC, _SYMMETRIC):
                continue
            try:
                signature = base64.b64decode(value, validate=True)
            except ValueError:
                continue
            if version == _SYMMETRIC:
                if any(hmac.compare_digest(signature, mac) for mac in expected):
                    return msg_id
                continue
            for key in self.keys:
                try:
                    key.verify(signature, content)
                except InvalidSignature:
                    continue
                return msg_id
        raise InvalidWebhook("no-valid-signature")
