"""Where client-assertion verification keys come from (R5): the client's inline JWKS, or its registered
``jwks_uri`` fetched through the SSRF-hardened fetcher (R18) and cached with bounded refetching.

The consortium registry is the allowlist: a ``jwks_uri`` origin is reachable only because a member
registered it, and each origin gets its own fetcher whose policy allows that origin alone.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import Tracer

from contracts.errors import OutboundError, UnknownSigningKey
from gateway.auth.rfc7523 import InlineKeySource
from gateway.auth.store import ClientRow
from gateway.outbound import JwksCache, OutboundPolicy, SafeFetcher, canonical_origin

__all__ = ["RegistryKeySource"]

JWKS_MAX_BYTES = 64 * 1024
JWKS_TIMEOUT = 5.0


class RegistryKeySource:
    """``ClientKeySource`` for registered clients, inline or by ``jwks_uri``."""

    def __init__(self, *, tracer: Tracer | None = None, allow_insecure_loopback: bool = False) -> None:
        self._inline = InlineKeySource()
        self._tracer = tracer
        self._allow_loopback = allow_insecure_loopback
        self._caches: dict[str, tuple[SafeFetcher, JwksCache]] = {}

    def _cache(self, jwks_uri: str) -> JwksCache:
        origin = canonical_origin(jwks_uri)
        entry = self._caches.get(origin)
        if entry is None:
            policy = OutboundPolicy.for_origins(
                [origin],
                max_bytes=JWKS_MAX_BYTES,
                timeout=JWKS_TIMEOUT,
                allow_insecure_loopback=self._allow_loopback,
            )
            fetcher = SafeFetcher(policy, tracer=self._tracer)
            entry = self._caches[origin] = (fetcher, JwksCache(fetcher, max_bytes=JWKS_MAX_BYTES))
        return entry[1]

    async def keys(self, client: ClientRow, kid: str | None, alg: str | None = None) -> list[dict[str, Any]]:
        if client.jwks_uri is None:
            return await self._inline.keys(client, kid)
        try:
            key = await self._cache(client.jwks_uri).key_for(client.client_id, client.jwks_uri, kid, alg=alg)
        except (UnknownSigningKey, OutboundError, ValueError):
            return []  # the caller refuses the assertion: no usable key
        public: dict[str, Any] = key.as_dict(private=False)
        return [public]

    async def aclose(self) -> None:
        for fetcher, _ in self._caches.values():
            await fetcher.aclose()
        self._caches.clear()
