"""OAuth errors.

The token, introspection and revocation endpoints answer in the RFC 6749 section 5.2 format
(``{"error": ..., "error_description": ...}``), which OAuth clients expect. The resource server answers
with RFC 9457 problems plus the RFC 6750 section 3 ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

from typing import ClassVar

from contracts.errors import Forbidden, Unauthenticated

__all__ = [
    "InsufficientScope",
    "InvalidClient",
    "InvalidGrantRequest",
    "InvalidScope",
    "InvalidToken",
    "OAuthError",
    "UnauthorizedClient",
    "UnsupportedGrantType",
]


class OAuthError(Exception):
    """An error of the token endpoint family, rendered as RFC 6749 section 5.2 JSON."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidGrantRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (R1-R5): always 401, and no token is issued."""

    error = "invalid_client"
    status = 401


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidToken(Unauthenticated):
    """The bearer token is missing, malformed, expired, revoked or not for this resource server."""

    type_slug = "invalid-token"
    title = "Invalid or missing access token"

    @property
    def headers(self) -> dict[str, str]:
        # RFC 6750 section 3: no error code when the request had no token at all.
        if self.detail == "no access token":
            return {"WWW-Authenticate": 'Bearer realm="consortium-gateway"'}
        return {"WWW-Authenticate": 'Bearer realm="consortium-gateway", error="invalid_token"'}


class InsufficientScope(Forbidden):
    type_slug = "insufficient-scope"
    title = "The access token lacks a required scope"

    def __init__(self, detail: str, *, required: list[str]) -> None:
        super().__init__(detail, expected="scope " + " ".join(required))
        self.required = required

    @property
    def headers(self) -> dict[str, str]:
        scope = " ".join(self.required)
        challenge = f'Bearer realm="consortium-gateway", error="insufficient_scope", scope="{scope}"'
        return {"WWW-Authenticate": challenge}
