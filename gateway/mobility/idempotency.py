"""Idempotency keys (R29; draft-ietf-httpapi-idempotency-key-header-07; Stripe's semantics).

The scope of a key is (client_id, key). The fingerprint is SHA-256 over the method, the path and the
canonical body (the decoded body re-encoded with sorted keys, so whitespace and key order do not matter).
The response stored with the key is replayed byte for byte. Requests refused before they are executed
(validation, authorisation, a stale If-Match) store nothing, as Stripe does: the client may correct and
retry with the same key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import msgspec

from contracts.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from gateway.mobility.store import Prior

__all__ = ["Reply", "check_key", "fingerprint", "replay"]

# The draft (section 2) leaves the format to the API; Stripe takes up to 255 characters. Printable ASCII
# without spaces keeps keys safe to log-scrub, compare and index.
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_CANONICAL = msgspec.json.Encoder(order="sorted")
_headers = msgspec.json.Decoder(dict[str, str])


@dataclass(frozen=True, slots=True)
class Reply:
    """What a route answers: status, headers and the exact body bytes."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def check_key(key: str | None, *, required: bool) -> str | None:
    if key is None:
        if required:
            raise IdempotencyKeyRequired("this request needs an Idempotency-Key header (R29)")
        return None
    if not _KEY.match(key):
        raise IdempotencyKeyRequired("the Idempotency-Key is not valid")
    return key


def fingerprint(method: str, path: str, body: object) -> bytes:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(_CANONICAL.encode(body))
    return digest.digest()


def replay(prior: Prior, expected: bytes) -> Reply:
    """The stored answer, when the key was used for this same request; 422 otherwise."""
    if prior.fingerprint != expected:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    headers = {**_headers.decode(prior.headers), "Idempotent-Replayed": "true"}
    return Reply(status=prior.status, body=prior.body.encode(), headers=headers)
