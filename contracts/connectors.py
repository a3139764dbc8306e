"""The interface of a registry connector: how the gateway reads one member's student-information API.

A connector is an adapter per member (one instance, one HTTP client: ``MemberHttpClient``), found by entry
point in the group ``consortium_gateway.connectors``. Every call takes a ``deadline``: an absolute
``time.monotonic()`` value by which the call must have finished, successfully or not (R25: deadlines
propagate). Connectors raise only ``contracts.errors.MemberCallError`` types for member failures (R19:
member errors become a per-member status, never a 500):

- ``MemberTimeout``: no complete answer before the deadline (also raised, without calling, when the
  deadline has already passed);
- ``MemberUnavailable``: unreachable, 5xx or 429 (the member's ``Problem`` body is kept);
- ``MemberResponseInvalid``: a body that is not JSON, too large, or breaks the schema the connector reads;
- ``MemberRefused``: the member answered 401 or 403 to the gateway's credentials.

Identifiers are opaque per connector: ``find_learner`` returns the member-local learner id that
``fetch_credentials`` accepts, and a ``CredentialRecord.id`` is what ``get_credential`` accepts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import msgspec
from msgspec import Meta

from contracts.base import Contract
from contracts.credentials import CredentialRecord, MicroCredential
from contracts.members import Member
from contracts.types import ConnectorId, EqfLevel, FrameworkId, IscedFieldCode, SchacHome

__all__ = [
    "CONNECTOR_ENTRY_POINT_GROUP",
    "CatalogueFilters",
    "ConnectorHealth",
    "MemberAnswer",
    "MemberBodyTooLarge",
    "MemberConnectFailed",
    "MemberHttpClient",
    "MemberTransportFailed",
    "RegistryConnector",
    "RegistryConnectorFactory",
    "TokenProvider",
]

CONNECTOR_ENTRY_POINT_GROUP = "consortium_gateway.connectors"

# Gives the bearer token for the member's API (in the gateway: ``MemberOAuthClient.access_token``).
TokenProvider = Callable[[], Awaitable[str]]


class CatalogueFilters(Contract, frozen=True, kw_only=True):
    """Which micro-credentials of a member's catalogue to list. Every given filter must match."""

    field_of_study: Annotated[
        IscedFieldCode | None,
        Meta(description="ISCED-F 2013 code; a broad or narrow one matches its children."),
    ] = None
    eqf: EqfLevel | None = None
    framework_level: Annotated[str, Meta(min_length=1, max_length=40)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class ConnectorHealth(Contract, frozen=True, kw_only=True):
    """Whether a member's API answers. ``reason`` is a short, stable code when it does not."""

    member: SchacHome
    connector: ConnectorId
    status: Literal["up", "down"]
    latency_ms: Annotated[float, Meta(ge=0)]
    reason: Annotated[str, Meta(max_length=100)] | None = None
    upstream_status: int | None = None


@runtime_checkable
class RegistryConnector(Protocol):
    """One member's registry, read by the gateway (the member's own framework, units, levels and grades)."""

    @property
    def member_id(self) -> SchacHome: ...

    @property
    def connector_id(self) -> ConnectorId: ...

    @property
    def framework(self) -> FrameworkId: ...

    async def fetch_credentials(self, local_learner_id: str, deadline: float) -> list[CredentialRecord]:
        """Every micro-credential the member awarded to the learner; records it cannot map are skipped."""
        ...

    async def find_learner(self, esi: str, deadline: float) -> str | None:
        """The member-local id of the learner with this European Student Identifier, or ``None``."""
        ...

    async def get_credential(self, credential_id: str, deadline: float) -> CredentialRecord | None:
        """One awarded credential by its ``CredentialRecord.id``, or ``None`` if unknown or not awarded."""
        ...

    async def list_catalogue(self, filters: CatalogueFilters, deadline: float) -> list[MicroCredential]:
        """Micro-credentials the member offers, filtered."""
        ...

    async def health(self, deadline: float) -> ConnectorHealth:
        """A cheap probe of the member's API; never raises for a member failure."""
        ...


class MemberAnswer(msgspec.Struct, frozen=True):
    """A member's answer to one GET: status, media type (lower case, no parameters) and body."""

    status: int
    content_type: str
    body: bytes | memoryview


class MemberConnectFailed(Exception):
    """No connection to the member (refused, unreachable, TLS handshake)."""


class MemberTransportFailed(Exception):
    """The exchange broke after connecting (reset, malformed HTTP, a body that does not decompress)."""


class MemberBodyTooLarge(Exception):
    """The answer's body is (or would be, once decompressed) larger than the caller's limit."""


class MemberHttpClient(Protocol):
    """The HTTP client the gateway gives a connector for one member: one GET at a time, redirects never
    followed, no cookies kept, the body capped after decompression. Deadlines are the caller's: a call is
    cancelled from outside when its time is up, so a client arms no timer of its own per call.

    Failures: ``MemberConnectFailed``, ``MemberTransportFailed``, ``MemberBodyTooLarge``, and
    ``TimeoutError`` for the client's own connect timeout."""

    async def get(
        self, url: str, headers: Mapping[str, str], *, limit: int, error_limit: int
    ) -> MemberAnswer:
        """GET ``url`` (already percent-encoded); the body of a 200 at most ``limit`` bytes, of any other
        status at most ``error_limit`` (an error body over it is dropped: its status still counts)."""
        ...

    async def close(self) -> None: ...


class RegistryConnectorFactory(Protocol):
    """What an entry point of ``consortium_gateway.connectors`` names: builds a member's connector.

    ``session`` is the member's HTTP client, a ``MemberHttpClient`` (the gateway's is pyreqwest or aiohttp,
    by ``GATEWAY_MEMBER_HTTP_CLIENT``), shared by nothing else; ``options`` are connector-specific (e.g. a
    framework registry)."""

    def __call__(
        self, member: Member, *, session: Any, token_provider: TokenProvider, **options: Any
    ) -> RegistryConnector: ...
