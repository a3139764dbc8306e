"""The app with its relay on, receivers for both members in a thread on loopback, and fast retries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.auth.conftest import client, reader, tenants, uni_a, uni_b
from oauth_helpers import ISSUER

from gateway.config import Settings
from gateway.webhooks.receiver import Receiver, ReceiverThread
from gateway.webhooks.standard_webhooks import WebhookVerifier

__all__ = ["client", "reader", "receivers", "settings", "tenants", "uni_a", "uni_b"]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        migrate_on_start=False,
        issuer=ISSUER,
        keys_dir=tmp_path / "keys",
        trust_refresh_interval=0.2,
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
