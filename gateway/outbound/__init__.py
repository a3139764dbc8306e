"""Outbound calls from the gateway to members: the SSRF-hardened fetcher (R18), JWKS key resolution (R5)
and the OAuth client of member authorization servers (R11).

::

    fetch.SafeFetcher          every outbound HTTP call: allowlisted origins, public pinned addresses,
                               no redirects, capped size and time
    jwks.JwksCache             verification keys per client or member, with bounded refetching
    oauth_client.MemberOAuthClient  the gateway's access token at one member (client_credentials +
                               private_key_jwt, aud = the member's issuer)
"""

from __future__ import annotations

from gateway.outbound.addresses import HostResolver, is_forbidden_address, system_resolver
from gateway.outbound.fetch import OutboundPolicy, OutboundResponse, SafeFetcher, canonical_origin
from gateway.outbound.jwks import KID_PATTERN, JsonFetcher, JwksCache, parse_jwk_set
from gateway.outbound.oauth_client import AssertionKey, MemberOAuthClient, MemberOAuthConfig, metadata_url

__all__ = [
    "KID_PATTERN",
    "AssertionKey",
    "HostResolver",
    "JsonFetcher",
    "JwksCache",
    "MemberOAuthClient",
    "MemberOAuthConfig",
    "OutboundPolicy",
    "OutboundResponse",
    "SafeFetcher",
    "canonical_origin",
    "is_forbidden_address",
    "metadata_url",
    "parse_jwk_set",
    "system_resolver",
]
