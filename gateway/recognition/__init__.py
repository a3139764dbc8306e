"""Recognition: agreements and equivalences between members, evaluated by a pure, explainable engine.

``RecognitionEngine`` (``engine.py``) evaluates canonical credential records for a recognising member:
agreement applicability, scope, quality assurance, currency, grade, equivalences, then credit and level
conversion through the framework adapters, with an explanation of every rule. ``award_progress`` stacks
recognised credit towards a member's award under its award rules and RPL caps. The Structs are in
``models.py``; no module here does I/O.
"""

from gateway.recognition._awards import award_progress
from gateway.recognition._requests import decode_credential, validate_request
from gateway.recognition._validation import check_agreements, check_equivalences
from gateway.recognition.engine import OUTCOME_TIERS, RecognitionEngine, outcome_rank

__all__ = [
    "OUTCOME_TIERS",
    "RecognitionEngine",
    "award_progress",
    "check_agreements",
    "check_equivalences",
    "decode_credential",
    "outcome_rank",
    "validate_request",
]
