"""The append-only, hash-chained audit log (R22): ``chain`` appends, ``verify`` checks, ``cli`` exposes it."""

from gateway.audit.chain import (
    APPEND_ARITY,
    AuditEntry,
    append,
    append_sql,
    current_trace_id,
    entry_params,
    first_entry_sql,
)
from gateway.audit.verify import BrokenLink, VerifyReport, verify

__all__ = [
    "APPEND_ARITY",
    "AuditEntry",
    "BrokenLink",
    "VerifyReport",
    "append",
    "append_sql",
    "current_trace_id",
    "entry_params",
    "first_entry_sql",
    "verify",
]
