"""An OOAPI v6 sandbox registry: one institution's Open Education API, with generated data and faults.

For tests and the demo. ``SandboxData.generate`` makes deterministic persons, courses (micro-credentials)
and ``CourseOfferingAssociation`` results in the institution's own credit framework; ``run_sandbox``
serves them over HTTP on ``127.0.0.1``, behind RFC 9068 bearer tokens (issued by its own
``SandboxAuthority`` to the gateway's private_key_jwt client, or by a test key), with switchable faults and
a recorder of W3C ``traceparent`` headers.
"""

from adapters.connectors.sandbox.auth import AuthFailure, BearerVerifier
from adapters.connectors.sandbox.authority import SandboxAuthority
from adapters.connectors.sandbox.cluster import MemberSandbox, SandboxCluster, SandboxSpec
from adapters.connectors.sandbox.data import ESI_PREFIX, SandboxData, SharedLearner, esi_urn
from adapters.connectors.sandbox.faults import FaultConfig, FaultMode, FaultState, MalformedKind
from adapters.connectors.sandbox.server import (
    ADMIN_HEADER,
    ADMIN_PREFIX,
    RunningSandbox,
    Sandbox,
    TraceRecord,
    run_sandbox,
)

__all__ = [
    "ADMIN_HEADER",
    "ADMIN_PREFIX",
    "ESI_PREFIX",
    "AuthFailure",
    "BearerVerifier",
    "FaultConfig",
    "FaultMode",
    "FaultState",
    "MalformedKind",
    "MemberSandbox",
    "RunningSandbox",
    "Sandbox",
    "SandboxAuthority",
    "SandboxCluster",
    "SandboxData",
    "SandboxSpec",
    "SharedLearner",
    "TraceRecord",
    "esi_urn",
    "run_sandbox",
]
