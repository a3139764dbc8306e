"""Standard Webhooks ``v1`` (HMAC-SHA256) signatures: the specification's own test vector, and headers that
the reference receiver library (``standardwebhooks`` on PyPI) accepts beside our ``v1a`` entries."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.webhooks.secrets import decode_secret
from gateway.webhooks.standard_webhooks import (
    HEADER_SIGNATURE,
    InvalidWebhook,
    WebhookVerifier,
    sign,
    webhook_headers,
)

# The test vector the Standard Webhooks reference libraries carry.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, base64
BODY = b'{"type":"mobility_request.decided","id":"0193","request_id":"0193","version":3}'


def test_the_specification_test_vector() -> None:
    signature = sign(VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, [], [decode_secret(VECTOR_SECRET)])
    assert signature == VECTOR_SIGNATURE


def test_the_reference_library_accepts_what_the_relay_sends() -> None:
    key = Ed25519PrivateKey.generate()
    headers = webhook_headers(
        "0193-event", BODY, [key], secrets=[decode_secret(OTHER_SECRET), decode_secret(VECTOR_SECRET)]
    )
    versions = [entry.split(",")[0] for entry in headers[HEADER_SIGNATURE].split(" ")]
    assert versions == ["v1a", "v1", "v1"]
    # Either secret verifies (a rotation), with the v1a entry skipped by a library that knows only v1.
    for secret in (OTHER_SECRET, VECTOR_SECRET):
        Webhook(secret).verify(BODY, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=").verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(VECTOR_SECRET).verify(BODY + b" ", headers)


def test_our_verifier_checks_v1_with_the_secrets_it_is_given() -> None:
    now = dt.datetime.now(dt.UTC).timestamp()
    mac_only = webhook_headers("m1", BODY, [], secrets=[decode_secret(VECTOR_SECRET)], timestamp=int(now))
    assert WebhookVerifier([], secrets=[decode_secret(VECTOR_SECRET)]).verify(mac_only, BODY, now=now) == "m1"
    with pytest.raises(InvalidWebhook) as wrong:
        WebhookVerifier([], secrets=[decode_secret(OTHER_SECRET)]).verify(mac_only, BODY, now=now)
    assert wrong.value.reason == "no-valid-signature"
    # A verifier without secrets does not take a v1 entry on trust.
    with pytest.raises(InvalidWebhook):
        WebhookVerifier([Ed25519PrivateKey.generate().public_key()]).verify(mac_only, BODY, now=now)
    # Messages the reference library signs verify here too.
    stamp = dt.datetime.fromtimestamp(int(now), dt.UTC)
    theirs = {
        "webhook-id": "m2",
        "webhook-timestamp": str(int(now)),
        "webhook-signature": Webhook(VECTOR_SECRET).sign("m2", stamp, BODY.decode()),
    }
    assert WebhookVerifier([], secrets=[decode_secret(VECTOR_SECRET)]).verify(theirs, BODY, now=now) == "m2"


@pytest.mark.parametrize(
    "text",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + "QUJD", "whsec_"],
)
def test_malformed_secrets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a webhook secret"):
        decode_secret(text)
