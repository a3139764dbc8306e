"""Consortium Gateway contracts, v1: the shared language of the gateway and its adapters.

Only msgspec and the standard library are imported here: no I/O, no web framework.
"""

from contracts.base import Contract
from contracts.credentials import (
    AwardingBody,
    CredentialRecord,
    LearnerIdentifier,
    LearnerRef,
    MicroCredential,
    Provenance,
    QualityAssurance,
    Stackability,
)
from contracts.credits import CreditValue, Grade, Level
from contracts.members import Member, MemberConnector, MemberPage, MemberProfile
from contracts.problems import FieldError, Problem

__all__ = [
    "AwardingBody",
    "Contract",
    "CredentialRecord",
    "CreditValue",
    "FieldError",
    "Grade",
    "LearnerIdentifier",
    "LearnerRef",
    "Level",
    "Member",
    "MemberConnector",
    "MemberPage",
    "MemberProfile",
    "MicroCredential",
    "Problem",
    "Provenance",
    "QualityAssurance",
    "Stackability",
]
