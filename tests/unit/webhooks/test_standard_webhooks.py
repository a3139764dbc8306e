"""Standard Webhooks v1a signatures: vectors a receiver must refuse (R30), and what it must accept."""

from __future__ import annotations

import base64
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.webhooks.backoff import retry_delay, verdict
from gateway.webhooks.standard_webhooks import (
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    InvalidWebhook,
    WebhookVerifier,
    sign,
    signed_content,
    webhook_headers,
)

NOW = 1_800_000_000
BODY = b'{"type":"mobility_request.decided","id":"msg_1","timestamp":"2027-01-15T08:00:00Z"}'
# A fixed key (RFC 8032 section 7.1, test 1 secret key) so the signature below is a stable vector.
SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
KEY = Ed25519PrivateKey.from_private_bytes(SECRET)


def test_signed_content_and_a_fixed_vector() -> None:
    assert signed_content("msg_1", NOW, b"{}") == b"msg_1.1800000000.{}"
    signature = sign("msg_1", NOW, b"{}", [KEY])
    version, _, value = signature.partition(",")
    assert version == "v1a"
    # Ed25519 is deterministic (RFC 8032): the same key and content give the same 64 bytes every time.
    assert len(base64.b64decode(value)) == 64
    assert sign("msg_1", NOW, b"{}", [KEY]) == signature
    KEY.public_key().verify(base64.b64decode(value), b"msg_1.1800000000.{}")


def _verifier() -> WebhookVerifier:
    return WebhookVerifier([KEY.public_key()])


def test_a_valid_message_verifies_and_names_its_id() -> None:
    headers = webhook_headers("msg_1", BODY, [KEY], timestamp=NOW)
    assert _verifier().verify(headers, BODY, now=NOW) == "msg_1"
    # Header names are case-insensitive (HTTP).
    upper = {k.upper(): v for k, v in headers.items()}
    assert _verifier().verify(upper, BODY, now=NOW + 299) == "msg_1"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong-key", "no-valid-signature"),
        ("body-changed", "no-valid-signature"),
        ("id-changed", "no-valid-signature"),
        ("timestamp-minus-6-min", "timestamp-too-old"),
        ("timestamp-plus-6-min", "timestamp-too-new"),
        ("timestamp-changed", "no-valid-signature"),
        ("hmac-v1-only", "no-valid-signature"),
        ("garbage-signature", "no-valid-signature"),
        ("no-signature", "missing-header"),
        ("timestamp-not-a-number", "bad-timestamp"),
    ],
)
def test_refused_vectors(case: str, reason: str) -> None:
    stamp = NOW
    body = BODY
    headers = webhook_headers("msg_1", BODY, [KEY], timestamp=NOW)
    if case == "wrong-key":
        headers = webhook_headers("msg_1", BODY, [Ed25519PrivateKey.generate()], timestamp=NOW)
    elif case == "body-changed":
        body = BODY.replace(b"decided", b"approved")
    elif case == "id-changed":
        headers["webhook-id"] = "msg_2"
    elif case == "timestamp-minus-6-min":
        headers = webhook_headers("msg_1", BODY, [KEY], timestamp=NOW - 360)
    elif case == "timestamp-plus-6-min":
        headers = webhook_headers("msg_1", BODY, [KEY], timestamp=NOW + 360)
    elif case == "timestamp-changed":
        headers[HEADER_TIMESTAMP] = str(NOW + 1)
    elif case == "hmac-v1-only":
        headers[HEADER_SIGNATURE] = "v1," + base64.b64encode(b"x" * 32).decode()
    elif case == "garbage-signature":
        headers[HEADER_SIGNATURE] = "v1a,!!!not-base64 v1a," + base64.b64encode(b"y" * 64).decode()
    elif case == "no-signature":
        del headers[HEADER_SIGNATURE]
    elif case == "timestamp-not-a-number":
        headers[HEADER_TIMESTAMP] = "1e9"
    with pytest.raises(InvalidWebhook) as refused:
        _verifier().verify(headers, body, now=stamp)
    assert refused.value.reason == reason


def test_rotation_several_signatures_and_several_keys() -> None:
    old, new = KEY, Ed25519PrivateKey.generate()
    both = webhook_headers("msg_1", BODY, [new, old], timestamp=NOW)
    assert len(both[HEADER_SIGNATURE].split(" ")) == 2
    # A receiver that only knows the old key still verifies; one that knows both verifies either signer.
    assert WebhookVerifier([old.public_key()]).verify(both, BODY, now=NOW) == "msg_1"
    only_new = webhook_headers("msg_1", BODY, [new], timestamp=NOW)
    assert WebhookVerifier([old.public_key(), new.public_key()]).verify(only_new, BODY, now=NOW) == "msg_1"


def test_verifier_from_the_published_jwks() -> None:
    from joserfc.jwk import OKPKey

    jwk = OKPKey.import_key(
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "d": base64.urlsafe_b64encode(SECRET).decode().rstrip("="),
            "x": base64.urlsafe_b64encode(KEY.public_key().public_bytes_raw()).decode().rstrip("="),
        }
    )
    verifier = WebhookVerifier.from_jwks(
        {"keys": [jwk.as_dict(private=False), {"kty": "EC", "crv": "P-256"}]}
    )
    headers = webhook_headers("msg_1", BODY, [KEY], timestamp=NOW)
    assert verifier.verify(headers, BODY, now=NOW) == "msg_1"


def test_backoff_grows_with_full_jitter_under_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 40):
        ceiling = min(3600.0, 5.0 * 2 ** (attempt - 1))
        delays = [retry_delay(attempt, base=5.0, cap=3600.0, rng=rng) for _ in range(50)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter spreads over the whole range, not a fixed step


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (410, "gone"),
        (500, "retry"),
        (503, "retry"),
        (429, "retry"),
        (408, "retry"),
        (302, "retry"),
        (None, "retry"),
        (400, "refused"),
        (401, "refused"),
        (404, "refused"),
    ],
)
def test_what_a_status_means(status: int | None, expected: str) -> None:
    assert verdict(status) == expected
