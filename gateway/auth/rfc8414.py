"""Authorisation server metadata, RFC 8414 section 2 (R10)."""

from __future__ import annotations

import msgspec

from contracts.scopes import SCOPES

__all__ = ["AuthorizationServerMetadata", "metadata"]

SIGNING_ALGS = ["Ed25519", "EdDSA", "ES256", "PS256"]


class AuthorizationServerMetadata(msgspec.Struct, kw_only=True):
    issuer: str
    token_endpoint: str
    jwks_uri: str
    introspection_endpoint: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    # RFC 8414 section 2: MUST NOT contain "none".
    token_endpoint_auth_signing_alg_values_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
    service_documentation: str


def metadata(issuer: str) -> AuthorizationServerMetadata:
    base = issuer.rstrip("/")
    methods = ["private_key_jwt"]
    return AuthorizationServerMetadata(
        issuer=issuer,
        token_endpoint=f"{base}/oauth/token",
        jwks_uri=f"{base}/oauth/jwks",
        introspection_endpoint=f"{base}/oauth/introspect",
        revocation_endpoint=f"{base}/oauth/revoke",
        grant_types_supported=["client_credentials"],
        token_endpoint_auth_methods_supported=methods,
        token_endpoint_auth_signing_alg_values_supported=SIGNING_ALGS,
        introspection_endpoint_auth_methods_supported=methods,
        revocation_endpoint_auth_methods_supported=methods,
        scopes_supported=sorted(SCOPES),
        response_types_supported=[],
        service_documentation=f"{base}/schema",
    )
