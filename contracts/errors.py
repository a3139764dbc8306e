"""The gateway's one error hierarchy.

Services raise these; one place (``gateway.problems``) renders them as RFC 9457 problem details. Each
class carries its problem ``type`` URI, ``title`` and HTTP ``status`` as class attributes, so rendering is
a lookup, and the ``type`` URIs are stable: clients may branch on them.

::

    GatewayError
    ├── InvalidRequest              400  a field is missing, malformed or out of range
    │   └── InvalidConsortiumFile   400  a consortium file failed validation (names member and field)
    ├── Unauthenticated             401
    ├── Forbidden                   403
    ├── NotFound                    404
    ├── MethodNotAllowed            405
    ├── Conflict                    409
    ├── PayloadTooLarge             413
    ├── UnsupportedMediaType        415
    ├── TooManyRequests             429
    └── ServiceUnavailable          503  e.g. the database is unreachable
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "PROBLEM_TYPE_PREFIX",
    "Conflict",
    "Forbidden",
    "GatewayError",
    "InvalidConsortiumFile",
    "InvalidRequest",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthenticated",
    "UnsupportedMediaType",
]

# A URN, not an http URL: it is an identifier that never changes and never pretends to be a web page.
PROBLEM_TYPE_PREFIX = "urn:consortium-gateway:problem:"


class GatewayError(Exception):
    """Base of every error the gateway reports to a caller."""

    type_slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, *, field: str | None = None, expected: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.expected = expected

    @classmethod
    def type_uri(cls) -> str:
        return PROBLEM_TYPE_PREFIX + cls.type_slug


class InvalidRequest(GatewayError):
    type_slug = "invalid-request"
    title = "The request is not valid"
    status = 400


class InvalidConsortiumFile(InvalidRequest):
    """A consortium file failed validation. ``member`` names the member at fault, when there is one."""

    type_slug = "invalid-consortium-file"
    title = "The consortium file is not valid"

    def __init__(
        self, detail: str, *, member: str | None = None, field: str | None = None, expected: str | None = None
    ) -> None:
        super().__init__(detail, field=field, expected=expected)
        self.member = member


class Unauthenticated(GatewayError):
    type_slug = "unauthenticated"
    title = "Authentication required"
    status = 401


class Forbidden(GatewayError):
    type_slug = "forbidden"
    title = "Not allowed"
    status = 403


class NotFound(GatewayError):
    type_slug = "not-found"
    title = "Not found"
    status = 404


class MethodNotAllowed(GatewayError):
    type_slug = "method-not-allowed"
    title = "Method not allowed"
    status = 405


class Conflict(GatewayError):
    type_slug = "conflict"
    title = "Conflict with the current state"
    status = 409


class PayloadTooLarge(GatewayError):
    type_slug = "payload-too-large"
    title = "Request body too large"
    status = 413


class UnsupportedMediaType(GatewayError):
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"
    status = 415


class TooManyRequests(GatewayError):
    type_slug = "too-many-requests"
    title = "Too many requests"
    status = 429


class ServiceUnavailable(GatewayError):
    type_slug = "service-unavailable"
    title = "Service unavailable"
    status = 503
