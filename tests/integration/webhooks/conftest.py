"""The app with its relay on, receivers for both members in a thread on loopback, and fast retries."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from integration.auth.conftest import client, reader, tenants, uni_a, uni_b

from gateway.config import Settings
from gateway.webhooks.receiver import Receiver, ReceiverThread
from gateway.webhooks.standard_webhooks import WebhookVerifier

__all__ = ["client", "reader", "receivers", "settings", "tenants", "uni_a", "uni_b"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The integration settings, with loopback receivers and a fast relay."""
    return msgspec.structs.replace(
        settings,
        outbound_allow_loopback=True,  # R18 test mode: http://127.0.0.1 receivers only
        relay_poll_interval=0.05,
        webhook_timeout=2.0,
        webhook_retry_base=0.05,
    )


@pytest.fixture
def receivers() -> Iterator[ReceiverThread]:
    # Keys are filled in once the app has published them (WebhookVerifier over /webhooks/jwks).
    members = ["uni-a.ac.uk", "uni-b.ac.uk", "redirect-target"]
    thread = ReceiverThread([Receiver(m, WebhookVerifier([])) for m in members]).start()
    yield thread
    thread.stop()
