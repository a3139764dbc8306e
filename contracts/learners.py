"""Consortium learner references: how a member names a learner to the gateway (domain.md section 7).

A reference is either the learner's European Student Identifier (``urn:schac:personalUniqueCode:int:esi:
<country-or-sHO>:<code>``, at most 255 characters, matched case-insensitively as the SCHAC attribute is) or
a consortium pseudonym (``urn:consortium-gateway:pseudonym:<uuid>``) that the gateway issues for learners
without an ESI. The older ``urn:schac:personalUniqueCode:<cc>:ESI:<sHO>:<code>`` form is accepted as legacy
input and normalised to the current one.
"""

from __future__ import annotations

import re
from typing import Literal

from contracts.base import Contract
from contracts.errors import InvalidRequest

__all__ = ["ESI_EXPECTED", "PSEUDONYM_PREFIX", "LearnerKey", "parse_learner_ref"]

PSEUDONYM_PREFIX = "urn:consortium-gateway:pseudonym:"
ESI_EXPECTED = (
    "a European Student Identifier (urn:schac:personalUniqueCode:int:esi:<country or sHO>:<code>, "
    f"<= 255 characters) or a consortium pseudonym ({PSEUDONYM_PREFIX}<uuid>)"
)
_ESI = re.compile(
    r"^urn:schac:personalUniqueCode:int:esi:([a-z]{2}(-[a-z0-9]{1,3})?|[a-z0-9.-]+\.[a-z]{2,}):(.+)$",
    re.IGNORECASE,
)
_LEGACY_ESI = re.compile(
    r"^urn:schac:personalUniqueCode:[a-z]{2}:esi:([a-z0-9.-]+\.[a-z]{2,}):(.+)$", re.IGNORECASE
)
# RFC 2141 URN characters (sections 2.2-2.4): letters, digits, "()+,-.:=@;$_!*'" and %-escapes.
_URN_CODE = re.compile(r"^([A-Za-z0-9()+,\-.:=@;$_!*']|%[0-9A-Fa-f]{2})+$")
_PSEUDONYM = re.compile(
    "^"
    + re.escape(PSEUDONYM_PREFIX)
    + r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
    re.IGNORECASE,
)


class LearnerKey(Contract, frozen=True, kw_only=True):
    """A parsed learner reference; ``value`` is normalised (lower case), so one learner has one key."""

    kind: Literal["esi", "pseudonym"]
    value: str


def parse_learner_ref(ref: str, *, field: str = "ref") -> LearnerKey:
    """The normalised key of ``ref``, or ``InvalidRequest`` naming ``field`` and what was expected."""
    if len(ref) > 255:
        raise InvalidRequest(
            "the learner reference is longer than 255 characters", field=field, expected=ESI_EXPECTED
        )
    if _PSEUDONYM.match(ref):
        return LearnerKey(kind="pseudonym", value=ref.lower())
    legacy = _LEGACY_ESI.match(ref)
    if legacy:
        ref = f"urn:schac:personalUniqueCode:int:esi:{legacy[1]}:{legacy[2]}"
    match = _ESI.match(ref)
    if match is None or not _URN_CODE.match(match[3]):
        raise InvalidRequest("the learner reference is not valid", field=field, expected=ESI_EXPECTED)
    return LearnerKey(kind="esi", value=ref.lower())
