"""Federation: one lookup fanned out to every consortium member under one deadline (R25-R27).

A member's call is a stack of small wrappers around one async callable (``Call``):
``deadline -> breaker -> bulkhead -> retry -> connector``, composed once per member (``MemberPolicy``),
then ``fan_out`` runs every member's call at once and reports a per-member outcome.
"""

from gateway.federation.breaker import BreakerState, CircuitBreaker, Probe, health_probe
from gateway.federation.bulkhead import Bulkhead
from gateway.federation.calls import Call, CallStats, count_attempts
from gateway.federation.compose import MemberPolicy, compose
from gateway.federation.deadline import member_deadline, with_deadline
from gateway.federation.fanout import FanOutResult, MemberOutcome, OutcomeStatus, fan_out
from gateway.federation.retry import RetryBudget, is_retryable, with_retry

__all__ = [
    "BreakerState",
    "Bulkhead",
    "Call",
    "CallStats",
    "CircuitBreaker",
    "FanOutResult",
    "MemberOutcome",
    "MemberPolicy",
    "OutcomeStatus",
    "Probe",
    "RetryBudget",
    "compose",
    "count_attempts",
    "fan_out",
    "health_probe",
    "is_retryable",
    "member_deadline",
    "with_deadline",
    "with_retry",
]
