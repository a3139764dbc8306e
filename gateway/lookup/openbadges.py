"""A canonical credential record as an Open Badges 3.0 ``OpenBadgeCredential`` (1EdTech, OB 3.0 Final).

Classes are cited by their name in the data model of https://www.imsglobal.org/spec/ob/v3p0/ (each is
also the page anchor, e.g. ``#achievement``); the fields used are listed in shared/reference/domain.md
section 6, and the output is tested against the vendored schema in shared/fixtures/openbadges-v3.

The credential is unsigned (no ``proof``): the gateway renders what a member's registry returned, it does
not yet vouch for it with a key. Every value comes from the record, so one record always gives the same
credential (no clock is read).

OB 3.0 has no unit for ``creditsAvailable`` (it says "credit hours"), so the unit, the framework, the ECTS
equivalent and the levels are carried as ``achievement.alignment`` entries, told apart by ``targetType``;
``CREDIT_AND_LEVEL_CARRIAGE`` says so in one line for the HTTP response that returns the credential.

Data minimisation (security reference R20): the subject is identified only by the record's learner
identifiers, never by name; provenance (connector, source id, fetch time) stays out.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

from contracts.credentials import AwardingBody, CredentialRecord, LearnerIdentifier
from contracts.credits import CreditValue, Grade, Level

__all__ = [
    "CREDIT_AND_LEVEL_CARRIAGE",
    "OB_CONTEXT",
    "TARGET_TYPE_CREDITS",
    "TARGET_TYPE_ECTS",
    "TARGET_TYPE_EQF_LEVEL",
    "TARGET_TYPE_FRAMEWORK_LEVEL",
    "to_open_badge",
]

# AchievementCredential: the VCDM 2.0 base context first, then an OB context matching
# ^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$ (domain.md section 6).
OB_CONTEXT: Final = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)

# AlignmentTargetType is an extensible enumeration: extensions take the ``ext:`` prefix (Alignment).
# ``ext:EQFLevel`` is the term Edubadges' OB 3.0 metadata model adds for the EQF level, so that one is
# shared, not invented.
TARGET_TYPE_CREDITS: Final = "ext:CreditValue"
TARGET_TYPE_ECTS: Final = "ext:ECTSCredits"
TARGET_TYPE_FRAMEWORK_LEVEL: Final = "ext:FrameworkLevel"
TARGET_TYPE_EQF_LEVEL: Final = "ext:EQFLevel"

# One ASCII line without line breaks, so the route can send it as an HTTP header as well as in a body.
CREDIT_AND_LEVEL_CARRIAGE: Final = (
    "Open Badges 3.0 has no credit unit: credentialSubject.achievement.creditsAvailable is the amount in "
    "the issuing member's own unit, and achievement.alignment[] states the unit and levels, one entry per "
    f"fact, told apart by targetType: {TARGET_TYPE_CREDITS} (targetCode amount, targetName amount and "
    f"unit, targetFramework framework id), {TARGET_TYPE_ECTS} (targetCode ECTS equivalent, "
    f"targetDescription its basis; only when known), {TARGET_TYPE_FRAMEWORK_LEVEL} (targetCode level code "
    f"in targetFramework) and {TARGET_TYPE_EQF_LEVEL} (targetCode EQF level 1-8, targetUrl "
    "http://data.europa.eu/snb/eqf/<level>); no level entries when the record states no level."
)

_URN: Final = "urn:consortium-gateway"
# EQF level concepts of the EU controlled vocabulary, as ELM/EDC uses them (domain.md section 6, status C).
_EQF_CONCEPT: Final = "http://data.europa.eu/snb/eqf/"
_EQF_FRAMEWORK: Final = "European Qualifications Framework (EQF)"
# The gateway's own description of a framework: units, levels, grades and sources (GET /v1/frameworks/{id},
# gateway/conversions/routes.py). Framework-native values link there: no external URL names their nodes.
_FRAMEWORK_PATH: Final = "/v1/frameworks/"
_ECTS_FRAMEWORK_ID: Final = "ects"

# IdentifierTypeEnum (IdentityObject; the enumeration in the vendored schema): the ESI is a self-describing
# URN, so the generic ``identifier`` fits it; an id from the issuing member's registry is its SIS id; a
# pseudonym has no standard type. An id another member assigned has no field for its member (IdentityObject
# allows no extra properties), so the member goes into an ``ext:`` type rather than being lost.
_IDENTITY_TYPE: Final = {"esi": "identifier", "pseudonym": "ext:Pseudonym"}
_ISSUER_SIS_ID: Final = "sisSourcedId"

# ResultType (ResultDescription) per grading scheme id of adapters/frameworks/grading_schemes.py;
# ``Result`` is the enumeration's generic value, for schemes the gateway does not describe.
_RESULT_TYPE: Final = {
    "pass-fail": "Status",
    "us-letter": "LetterGrade",
    "ects-letter": "LetterGrade",
    "uk-marks": "Percent",
    "uk-honours": "PerformanceLevel",
    "nz-achievement": "PerformanceLevel",
    "nz-unit-standard": "PerformanceLevel",
}
_GENERIC_RESULT: Final = "Result"


def to_open_badge(
    record: CredentialRecord, *, gateway_issuer: str, verification: str | None = None
) -> dict[str, Any]:
    """The record as an unsigned OB 3.0 ``OpenBadgeCredential``, ready for ``json`` encoding.

    ``gateway_issuer`` is the gateway's issuer URL (its public base URL, as in RFC 8414 metadata): links to
    framework descriptions are built on it. ``verification`` (e.g. ``"verified"``) is accepted so a route
    can pass what it knows, but it is not written into the credential: OB 3.0 has no field for a third
    party's verification status, and an unsigned credential cannot assert its own; the route reports it
    beside the credential.

    The credential ``id`` is ``urn:consortium-gateway:credential:<issuer>:<record id>`` (both
    percent-encoded), so the same record always has the same id, whichever gateway renders it. Dates are
    calendar dates, rendered in UTC: valid from the start of ``issued_on``, until the end of
    ``valid_until`` (the recognition engine treats ``valid_until`` as the last valid day).
    """
    if not gateway_issuer.startswith(("https://", "http://")):
        raise ValueError(f"gateway_issuer must be an http(s) URL, got {gateway_issuer!r}")
    del verification  # documented above: deliberately not carried
    base = gateway_issuer.rstrip("/")
    mc = record.credential
    valid_from = f"{record.issued_on.isoformat()}T00:00:00Z"
    credential: dict[str, Any] = {
        "@context": list(OB_CONTEXT),
        "id": f"{_URN}:credential:{_segment(record.issuer)}:{_segment(record.id)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": mc.title,
        "issuer": _issuer(record),
        "validFrom": valid_from,
        "awardedDate": valid_from,
        "credentialSubject": _subject(record, base),
    }
    if record.valid_until is not None:
        credential["validUntil"] = f"{record.valid_until.isoformat()}T23:59:59Z"
    return credential


def _segment(value: str) -> str:
    # Everything outside RFC 3986 unreserved is escaped, ':' included, so the last URN segment cannot be
    # mistaken for more segments (record ids such as "uni-a.ac.uk:r1" contain colons).
    return quote(value, safe="")


def _number(value: float) -> int | float:
    # 20 and 20.0 are the same credit value whether the record was decoded or built; one rendering keeps
    # the output identical for both.
    return int(value) if float(value).is_integer() else float(value)


def _text(value: float) -> str:
    return str(_number(value))


def _issuer(record: CredentialRecord) -> dict[str, Any]:
    """Profile of the issuing member; named and located when it is also the awarding body."""
    body = record.credential.awarding_body
    if body.member in (None, record.issuer):
        return _profile(record.issuer, body)
    return _profile(record.issuer, None)


def _profile(member: str, body: AwardingBody | None) -> dict[str, Any]:
    # schacHomeOrganization is the institution's DNS domain (domain.md section 7), hence the https id;
    # Edubadges' ``ext:SCHAC`` type states the same value machine-readably.
    profile: dict[str, Any] = {
        "id": f"https://{member}",
        "type": ["Profile"],
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": member, "identifierType": "ext:SCHAC"}],
    }
    if body is not None:
        profile["name"] = body.name
        if body.url is not None:
            profile["url"] = body.url
        address: dict[str, Any] = {"type": ["Address"], "addressCountryCode": body.country}
        if body.region is not None:
            address["addressRegion"] = body.region
        profile["address"] = address
    return profile


def _subject(record: CredentialRecord, base: str) -> dict[str, Any]:
    """AchievementSubject: identifiers only (no ``id``: the learner has no URI of their own here)."""
    mc = record.credential
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [_identity(i, record.issuer) for i in record.learner.identifiers],
        "achievement": _achievement(record, base),
    }
    grade = record.grade
    # An award earns the credits it offers; a grade that says "failed" must not claim them.
    if grade is None or grade.passed is not False:
        subject["creditsEarned"] = _number(mc.workload.amount)
    if grade is not None:
        subject["result"] = [_result(grade, _result_description_id(record, grade))]
    return subject


def _identity(identifier: LearnerIdentifier, issuer: str) -> dict[str, Any]:
    """IdentityObject in plain text (``hashed: false``): members match learners on these values."""
    if identifier.scheme == "local":
        member = identifier.member
        kind = _ISSUER_SIS_ID if member in (None, issuer) else f"ext:sisSourcedId.{member}"
    else:
        kind = _IDENTITY_TYPE[identifier.scheme]
    return {"type": "IdentityObject", "hashed": False, "identityHash": identifier.value, "identityType": kind}


def _achievement(record: CredentialRecord, base: str) -> dict[str, Any]:
    """Achievement: the micro-credential as offered (Annex I elements 2, 6-10)."""
    mc = record.credential
    body = mc.awarding_body
    achievement: dict[str, Any] = {
        "id": f"{_URN}:achievement:{_segment(record.issuer)}:{_segment(mc.id)}",
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": mc.title,
        "description": _outcomes(mc.learning_outcomes),
        "criteria": {"narrative": _criteria(record)},
        "creditsAvailable": _number(mc.workload.amount),
        "alignment": _alignment(mc.workload, mc.level, base),
    }
    if body.member is not None and body.member != record.issuer:
        # Awarded by another member than the one whose registry holds the record (Achievement ``creator``).
        achievement["creator"] = _profile(body.member, body)
    if mc.field_of_study is not None:
        achievement["fieldOfStudy"] = f"ISCED-F {mc.field_of_study}"
    if mc.language is not None:
        achievement["inLanguage"] = mc.language
    grade = record.grade
    if grade is not None:
        achievement["resultDescription"] = [_result_description(grade, _result_description_id(record, grade))]
    return achievement


def _outcomes(outcomes: list[str]) -> str:
    return "Learning outcomes:\n" + "\n".join(f"- {outcome}" for outcome in outcomes)


def _criteria(record: CredentialRecord) -> str:
    """What earns the award (Markdown): assessment, participation, supervision, prerequisites."""
    mc = record.credential
    parts = [
        "Assessment: " + ", ".join(_words(a) for a in mc.assessment) + ".",
        "Form of participation: " + ", ".join(_words(p) for p in mc.participation) + ".",
    ]
    if mc.supervision is not None:
        parts.append(f"Supervision and identity verification: {_words(mc.supervision)}.")
    if mc.prerequisites is not None:
        parts.append(f"Prerequisites: {mc.prerequisites}")
    return "\n\n".join(parts)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _framework_url(base: str, framework: str) -> str:
    return f"{base}{_FRAMEWORK_PATH}{_segment(framework)}"


def _alignment(workload: CreditValue, level: Level | None, base: str) -> list[dict[str, Any]]:
    """Alignment entries carrying unit, ECTS equivalent and levels (see CREDIT_AND_LEVEL_CARRIAGE)."""
    amount = _text(workload.amount)
    hours = "" if workload.notional_hours is None else f"; {_text(workload.notional_hours)} notional hours"
    entries = [
        _align(
            TARGET_TYPE_CREDITS,
            framework=workload.framework,
            code=amount,
            name=f"{amount} {workload.unit}",
            description=f"{amount} {workload.unit} in {workload.framework}{hours}",
            url=_framework_url(base, workload.framework),
        )
    ]
    if workload.ects is not None:
        ects = _text(workload.ects)
        basis = (
            "by notional learning hours"
            if workload.ects_basis == "hours"
            else f"by the ECTS convention of {workload.framework}"
        )
        entries.append(
            _align(
                TARGET_TYPE_ECTS,
                framework="ECTS",
                code=ects,
                name=f"{ects} ECTS credits",
                description=f"{ects} ECTS credits, normalised from {amount} {workload.unit} {basis}",
                url=_framework_url(base, _ECTS_FRAMEWORK_ID),
            )
        )
    if level is not None:
        facts = [f"level {level.code} of {level.framework}"]
        if level.eqf is not None:
            facts.append(f"EQF level {level.eqf}")
        if level.qf_ehea_cycle is not None:
            facts.append(f"QF-EHEA {level.qf_ehea_cycle} cycle")
        entries.append(
            _align(
                TARGET_TYPE_FRAMEWORK_LEVEL,
                framework=level.framework,
                code=level.code,
                name=f"{level.framework} level {level.code}",
                description="; ".join(facts),
                url=_framework_url(base, level.framework),
            )
        )
        if level.eqf is not None:
            entries.append(
                _align(
                    TARGET_TYPE_EQF_LEVEL,
                    framework=_EQF_FRAMEWORK,
                    code=str(level.eqf),
                    name=f"EQF level {level.eqf}",
                    description=f"EQF level {level.eqf}, referenced from {level.framework} {level.code}",
                    url=f"{_EQF_CONCEPT}{level.eqf}",
                )
            )
    return entries


def _align(kind: str, *, framework: str, code: str, name: str, description: str, url: str) -> dict[str, Any]:
    return {
        "type": ["Alignment"],
        "targetType": kind,
        "targetFramework": framework,
        "targetCode": code,
        "targetName": name,
        "targetDescription": description,
        "targetUrl": url,
    }


def _result_description_id(record: CredentialRecord, grade: Grade) -> str:
    # The Result links to its ResultDescription by this id, which must be in the same achievement (Result).
    return (
        f"{_URN}:result-description:{_segment(record.issuer)}:{_segment(record.credential.id)}:"
        f"{_segment(grade.framework)}:{_segment(grade.scheme)}"
    )


def _result_type(grade: Grade) -> str:
    kind = _RESULT_TYPE.get(grade.scheme, _GENERIC_RESULT)
    # ResultType Status makes Result.status required (Result); without a pass/fail verdict there is none.
    if kind == "Status" and grade.passed is None:
        return _GENERIC_RESULT
    return kind


def _result_description(grade: Grade, rd_id: str) -> dict[str, Any]:
    """ResultDescription: the grading scheme the result is expressed in."""
    return {
        "id": rd_id,
        "type": ["ResultDescription"],
        "name": f"Grade ({grade.scheme}, {grade.framework})",
        "resultType": _result_type(grade),
    }


def _result(grade: Grade, rd_id: str) -> dict[str, Any]:
    """Result: the grade as given; pass/fail as ``status`` Completed / Failed (domain.md section 4)."""
    result: dict[str, Any] = {"type": ["Result"], "resultDescription": rd_id, "value": grade.value}
    if grade.passed is not None:
        result["status"] = "Completed" if grade.passed else "Failed"
    return result
