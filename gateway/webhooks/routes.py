"""HTTP routes of webhooks: the public keys that verify the gateway's webhook signatures."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.datastructures import State

__all__ = ["webhook_jwks"]


@get(
    "/webhooks/jwks",
    opt={"public": True},
    tags=["mobility"],
    summary="Public keys (JWKS, Ed25519) that verify the gateway's webhook-signature (Standard Webhooks v1a)",
)
async def webhook_jwks(state: State) -> dict[str, Any]:
    # Every published key (active, next, retired), so receivers verify across a rotation.
    keys: dict[str, Any] = state.auth.trust.snapshot.keys.jwks("webhook")
    return keys
