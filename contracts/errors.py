"""The gateway's one error hierarchy.

Services raise these; one place (``gateway.problems``) renders them as RFC 9457 problem details. Each
class carries its problem ``type`` URI, ``title`` and HTTP ``status`` as class attributes, so rendering is
a lookup, and the ``type`` URIs are stable: clients may branch on them.

::

    GatewayError
    ├── InvalidRequest              400  a field is missing, malformed or out of range
    │   ├── InvalidConsortiumFile   400  a consortium file failed validation (names member and field)
    │   ├── UnknownFramework        400  no credit framework with that id is registered
    │   ├── UnknownLevel            400  the framework has no level with that code
    │   ├── UnknownGrade            400  the grading scheme, or a grade in it, does not exist
    │   ├── MixedConversionBasis    400  hour-based and convention-based credit would be mixed
    │   ├── NoConversionPath        400  the frameworks share no basis to convert through
    │   ├── GradeDistributionRequired 400  a relative (ECTS) grade needs grade-distribution tables
    │   ├── InvalidFrameworkOverrides 400  a member's framework overrides are not valid
    │   ├── UnknownMember           400  no consortium member with that id
    │   ├── IdempotencyKeyRequired  400  a create or decision without a valid Idempotency-Key (R29)
    │   ├── InvalidCredentialRecord 400  a credential lacks a mandatory element or cannot be evaluated
    │   └── InvalidAgreement        400  a recognition agreement or equivalence is not valid
    ├── Unauthenticated             401
    │   └── UnknownSigningKey       401  no usable key for a JWS `kid` (R5): malformed, unknown, ambiguous
    ├── Forbidden                   403
    ├── NotFound                    404
    ├── MethodNotAllowed            405
    ├── Conflict                    409
    │   ├── DuplicateFramework      409  two framework plug-ins claim one id
    │   ├── OverlappingAgreementVersions 409  two versions of one agreement are in force on one day
    │   ├── IdempotencyKeyInUse     409  a request with the same Idempotency-Key is still in flight
    │   └── IllegalTransition       409  the workflow does not allow the action from the current state
    ├── PreconditionFailed          412  If-Match names a version that is no longer current
    ├── PayloadTooLarge             413
    ├── UnsupportedMediaType        415
    ├── UnprocessableContent        422
    │   └── IdempotencyKeyReused    422  the Idempotency-Key was used for a different request (R29)
    ├── PreconditionRequired        428  a change without If-Match
    ├── TooManyRequests             429
    ├── ServiceUnavailable          503  not ready, or a dependency is down
    │   ├── DatabaseUnavailable     503  the database is unreachable or dropped the connection (R33)
    │   └── FederationOverloaded    503  no member slot would free before the lookup's deadline (R26)
    ├── OutboundError               502  a call the gateway made to a member did not succeed (R18)
    │   ├── OutboundRefused         502  refused before sending: scheme, userinfo, origin, address, redirect
    │   ├── OutboundFailed          502  unreachable, or an error status, oversized or malformed answer
    │   │   └── OutboundTimeout     504  no complete answer within the deadline
    │   └── MemberCallError         502  a registry connector's call to a member failed (R19, R25)
    │       ├── MemberTimeout       504  no complete answer before the call's deadline
    │       ├── MemberUnavailable   502  unreachable, 5xx or 429 (keeps the member's problem body)
    │       ├── MemberResponseInvalid 502  not JSON, too large, or breaks the schema read
    │       ├── MemberRefused       502  the member answered 401/403 to the gateway's credentials
    │       ├── CircuitOpen         503  the member's circuit breaker is open: not called (R26)
    │       └── MemberOverloaded    503  no free slot for the member before the deadline (R26)
    └── FrameworkPluginError        500  a framework plug-in could not be loaded or is malformed
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "PROBLEM_TYPE_PREFIX",
    "CircuitOpen",
    "Conflict",
    "DatabaseUnavailable",
    "DuplicateFramework",
    "FederationOverloaded",
    "Forbidden",
    "FrameworkPluginError",
    "GatewayError",
    "GradeDistributionRequired",
    "IdempotencyKeyInUse",
    "IdempotencyKeyRequired",
    "IdempotencyKeyReused",
    "IllegalTransition",
    "InvalidAgreement",
    "InvalidConsortiumFile",
    "InvalidCredentialRecord",
    "InvalidFrameworkOverrides",
    "InvalidRequest",
    "MemberCallError",
    "MemberOverloaded",
    "MemberRefused",
    "MemberResponseInvalid",
    "MemberTimeout",
    "MemberUnavailable",
    "MethodNotAllowed",
    "MixedConversionBasis",
    "NoConversionPath",
    "NoLawfulBasis",
    "NotFound",
    "NotLinked",
    "OutboundError",
    "OutboundFailed",
    "OutboundRefused",
    "OutboundTimeout",
    "OverlappingAgreementVersions",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthenticated",
    "UnknownFramework",
    "UnknownGrade",
    "UnknownLevel",
    "UnknownMember",
    "UnknownSigningKey",
    "UnprocessableContent",
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


class PreconditionFailed(GatewayError):
    """``If-Match`` named a version that is no longer the current one (RFC 9110 section 13.1.1)."""

    type_slug = "precondition-failed"
    title = "The resource has changed"
    status = 412


class UnprocessableContent(GatewayError):
    type_slug = "unprocessable-content"
    title = "The request cannot be processed"
    status = 422


class PreconditionRequired(GatewayError):
    """A change was sent without ``If-Match`` (RFC 6585 section 3): lost updates are refused."""

    type_slug = "precondition-required"
    title = "If-Match is required"
    status = 428


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
    """``retry_after``, in seconds, becomes the ``Retry-After`` header when given."""

    type_slug = "service-unavailable"
    title = "Service unavailable"
    status = 503

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or dropped the connection mid-statement (a restart, a crash, a
    failover): nothing was committed that the caller was told of, so the same request may be retried, with
    the same Idempotency-Key where it has one (R29, R33)."""

    type_slug = "database-unavailable"
    title = "The database is not available"

    def __init__(self, detail: str, *, retry_after: float = 1.0) -> None:
        super().__init__(detail, retry_after=retry_after)


# --- credit frameworks (adapters/frameworks): each names the input ``field`` and what was ``expected`` ---


class UnknownFramework(InvalidRequest):
    """No credit framework with the given id is registered; ``expected`` lists the registered ids."""

    type_slug = "unknown-framework"
    title = "Unknown credit framework"


class UnknownLevel(InvalidRequest):
    """The framework has no level with the given code; ``expected`` lists the valid codes."""

    type_slug = "unknown-level"
    title = "Unknown level"


class UnknownGrade(InvalidRequest):
    """The grading scheme, or the grade within it, does not exist; ``expected`` lists the valid values."""

    type_slug = "unknown-grade"
    title = "Unknown grade"


class MixedConversionBasis(InvalidRequest):
    """Hour-based and convention-based credit would be mixed in one conversion or decision.

    shared/reference/domain.md section 1 ("Gotcha"): the 2:1 conventions come from full-year equivalence,
    not from hours, so the two bases must never be combined.
    """

    type_slug = "mixed-conversion-basis"
    title = "Credit conversion bases cannot be mixed"


class NoConversionPath(InvalidRequest):
    """The two frameworks share no basis (convention factor or notional hours) to convert through."""

    type_slug = "no-conversion-path"
    title = "No conversion path"


class GradeDistributionRequired(InvalidRequest):
    """A relative grade (ECTS) converts only through grade-distribution tables, never a fixed mapping."""

    type_slug = "grade-distribution-required"
    title = "A grade-distribution table is required"


class InvalidFrameworkOverrides(InvalidRequest):
    """A member's framework overrides are not valid (e.g. they try to override a status-A fact)."""

    type_slug = "invalid-framework-overrides"
    title = "The framework overrides are not valid"


class DuplicateFramework(Conflict):
    """Two framework plug-ins claim the same id."""

    type_slug = "duplicate-framework"
    title = "Duplicate credit framework"


class FrameworkPluginError(GatewayError):
    """A framework plug-in failed to load, or does not satisfy ``contracts.frameworks.CreditFramework``."""

    type_slug = "framework-plugin-error"
    title = "Credit framework plug-in error"
    status = 500


# --- outbound calls and key resolution (gateway/outbound): ``reason`` is a short, stable code for logs,
# spans and tests; ``detail`` never names an internal address, a token or an assertion ---


class UnknownSigningKey(Unauthenticated):
    """No usable key verifies a JWS (R5): its ``kid`` is malformed, unknown or ambiguous, or the signer's
    JWKS cannot be loaded. ``reason`` is one of ``invalid-kid``, ``unsupported-alg``, ``unknown-kid``,
    ``ambiguous-kid``, ``jwks-unavailable``."""

    type_slug = "unknown-signing-key"
    title = "No usable signing key"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail, field="kid")
        self.reason = reason


class OutboundError(GatewayError):
    """A call the gateway made to a member did not succeed (R18). ``upstream_status`` is the member's
    HTTP status, when there was one."""

    type_slug = "outbound-error"
    title = "A member could not be reached"
    status = 502

    def __init__(self, detail: str, *, reason: str, upstream_status: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.upstream_status = upstream_status


class OutboundRefused(OutboundError):
    """The fetcher refused the call before sending it, or refused to follow the answer (R18). ``reason``:
    ``url``, ``scheme``, ``userinfo``, ``origin``, ``address``, ``redirect``, ``issuer-mismatch``."""

    type_slug = "outbound-refused"
    title = "The outbound call is not allowed"


class OutboundFailed(OutboundError):
    """The member could not be reached, or answered with an error status or a body that is too large,
    compressed or malformed. ``reason``: ``dns``, ``connect``, ``status``, ``too-large``, ``encoding``,
    ``malformed``, ``token-rejected``."""

    type_slug = "outbound-failed"
    title = "The member call failed"


class OutboundTimeout(OutboundFailed):
    """No complete answer within the call's deadline."""

    type_slug = "outbound-timeout"
    title = "The member did not answer in time"
    status = 504


# --- recognition (gateway/recognition): each names the input ``field`` (a JSON path) and what was
# ``expected``; ``agreement`` is ``"<id>@<version>"`` of the agreement or equivalence at fault ---


class UnknownMember(InvalidRequest):
    """No consortium member has the given id."""

    type_slug = "unknown-member"
    title = "Unknown consortium member"


class InvalidCredentialRecord(InvalidRequest):
    """A credential record lacks a mandatory element (EU Council Recommendation 2022/C 243/02, Annex I) or
    is malformed, so it cannot be evaluated. ``credential`` is the record's id, when it has one."""

    type_slug = "invalid-credential-record"
    title = "The credential record is not valid"

    def __init__(
        self,
        detail: str,
        *,
        credential: str | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(detail, field=field, expected=expected)
        self.credential = credential


class InvalidAgreement(InvalidRequest):
    """A recognition agreement or equivalence is not valid (dates, parties, scope, grant)."""

    type_slug = "invalid-agreement"
    title = "The recognition agreement is not valid"

    def __init__(
        self, detail: str, *, agreement: str, field: str | None = None, expected: str | None = None
    ) -> None:
        super().__init__(detail, field=field, expected=expected)
        self.agreement = agreement


class OverlappingAgreementVersions(Conflict):
    """Two versions of one agreement (or equivalence) are in force on the same day: which applies would be
    ambiguous. ``versions`` are the two version numbers."""

    type_slug = "overlapping-agreement-versions"
    title = "Agreement versions overlap"

    def __init__(
        self,
        detail: str,
        *,
        agreement: str,
        versions: tuple[int, int],
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(detail, field=field, expected=expected)
        self.agreement = agreement
        self.versions = versions


# --- registry connectors (contracts.connectors, adapters/connectors): ``member`` names the member called,
# ``reason`` is a short, stable code, ``member_problem`` the member's RFC 9457 body when it sent one ---


class MemberCallError(OutboundError):
    """A registry connector's call to a member did not succeed (R19). Rendered per member in a federated
    answer, never as a gateway 500."""

    type_slug = "member-call-failed"
    title = "The member call failed"

    def __init__(
        self,
        detail: str,
        *,
        member: str,
        reason: str,
        upstream_status: int | None = None,
        member_problem: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail, reason=reason, upstream_status=upstream_status)
        self.member = member
        self.member_problem = member_problem


class MemberTimeout(MemberCallError):
    """No complete answer before the call's deadline (R25); also raised, without calling, when the deadline
    has already passed. ``reason``: ``deadline``, ``expired``."""

    type_slug = "member-timeout"
    title = "The member did not answer in time"
    status = 504


class MemberUnavailable(MemberCallError):
    """The member could not be reached, or answered 5xx or 429. ``reason``: ``connect``, ``status``,
    ``rate-limited``, ``transport``, ``token``."""

    type_slug = "member-unavailable"
    title = "The member is unavailable"


class MemberResponseInvalid(MemberCallError):
    """The member's answer is not JSON, too large, has an unexpected status or content type, or breaks the
    schema the connector reads. ``reason``: ``not-json``, ``schema``, ``too-large``, ``content-type``,
    ``unexpected-status``, ``redirect``, ``ambiguous`` (one ESI held by several persons)."""

    type_slug = "member-response-invalid"
    title = "The member's answer is not valid"


class MemberRefused(MemberCallError):
    """The member answered 401 or 403: it does not accept the gateway's credentials or scope."""

    type_slug = "member-refused"
    title = "The member refused the gateway"


class CircuitOpen(MemberCallError):
    """The member's circuit breaker is open (R26): the gateway did not call it. ``reason``: ``open``,
    ``half-open`` (a background probe is deciding); ``retry_after`` is in seconds, when known."""

    type_slug = "member-circuit-open"
    title = "The member is not being called"
    status = 503

    def __init__(self, detail: str, *, member: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(detail, member=member, reason=reason)
        self.retry_after = retry_after


class MemberOverloaded(MemberCallError):
    """No in-flight slot for the member would free in time (R26 bulkhead): refused early, not called.
    ``reason``: ``queue-full``, ``no-time`` (nothing left to wait), ``queue-timeout``; ``retry_after`` is
    in seconds, when known."""

    type_slug = "member-overloaded"
    title = "The member is overloaded"
    status = 503

    def __init__(self, detail: str, *, member: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(detail, member=member, reason=reason)
        self.retry_after = retry_after


# --- learner data (R21) ---------------------------------------------------------------------------------


class NoLawfulBasis(Forbidden):
    """No consent and no open mobility request lets the caller receive this learner's data for this
    purpose (R21)."""

    type_slug = "no-lawful-basis"
    title = "No lawful basis for this learner's data"


class NotLinked(Forbidden):
    """Only a member that knows the learner (has linked them) may manage their consent or read their
    access report."""

    type_slug = "learner-not-linked"
    title = "The learner is not linked to your institution"


class FederationOverloaded(ServiceUnavailable):
    """A member's in-flight slots are all taken and none would free before the lookup's deadline: the
    lookup is refused early, with ``Retry-After``, rather than answered silently partial (R26)."""

    type_slug = "federation-overloaded"
    title = "Members are at capacity"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail, retry_after=retry_after)


# --- workflows (gateway/mobility): idempotency keys (R29) and the transition table (R31) ---

# draft-ietf-httpapi-idempotency-key-header-07 section 2: a fixed key format; Stripe allows 255 characters.
IDEMPOTENCY_KEY_EXPECTED = "1-255 printable ASCII characters (a UUID is recommended)"


class IdempotencyKeyRequired(InvalidRequest):
    """A create or a decision came without an ``Idempotency-Key``, or with a malformed one
    (draft-ietf-httpapi-idempotency-key-header-07 section 2.7: 400)."""

    type_slug = "idempotency-key-required"
    title = "An Idempotency-Key is required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="Idempotency-Key", expected=IDEMPOTENCY_KEY_EXPECTED)


class IdempotencyKeyReused(UnprocessableContent):
    """The key was first used with another request (another body, method or path): 422 (the draft's
    section 2.7), so a client bug never replays someone else's answer."""

    type_slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used for a different request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="Idempotency-Key", expected="a new key for a new request")


class IdempotencyKeyInUse(Conflict):
    """The first request with this key has not finished: 409 (the draft's section 2.7); retry later."""

    type_slug = "idempotency-key-in-use"
    title = "A request with this Idempotency-Key is in progress"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="Idempotency-Key")


class IllegalTransition(Conflict):
    """The workflow's transition table does not allow ``action`` from ``state`` (R31: 409, as EWP's edit
    conflicts). ``expected`` lists the actions that are allowed."""

    type_slug = "illegal-transition"
    title = "The action is not allowed in the current state"

    def __init__(self, detail: str, *, state: str, action: str, allowed: tuple[str, ...] = ()) -> None:
        expected = f"one of: {', '.join(allowed)}" if allowed else "no action: the state is final"
        super().__init__(detail, field="state", expected=expected)
        self.state = state
        self.action = action
