"""What the OOAPI schema lets a member send always maps to a record that meets its contract.

``map_credential`` does not decode each record again against ``CredentialRecord`` (it was a tenth of a
lookup's instructions): the member's values were bounded by the schema when its answer was decoded, the
context's ids when the context was made, the credential and the grade when they were mapped. This holds
that reasoning to account for any association the schema accepts, at the edges of its limits too: if the
schema ever allowed more than the contract, a generated association would map to a record that fails to
decode against the contract here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.connectors.ooapi.mapping import MappingContext, Unmappable, map_credential
from adapters.connectors.ooapi.schema import Association, Course
from adapters.connectors.sandbox import SandboxData, SharedLearner, esi_urn
from adapters.connectors.sandbox import ooapi as render
from adapters.frameworks import Converter, reference_registry
from contracts.credentials import AwardingBody, CredentialRecord
from contracts.errors import GatewayError

REGISTRY = reference_registry()
MEMBER = "uni-a.ac.uk"
FETCHED = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
ID_MAX = 200  # schema.Id


def _course() -> Course:
    learner = SharedLearner(esi=esi_urn(MEMBER, "1"), given_name="Sam", surname="Okafor", passed=1)
    data = SandboxData.generate(MEMBER, "uk-fheq", 3, learners=2, courses=2, shared=(learner,))
    course: Course = msgspec.json.decode(
        msgspec.json.encode(render.course_json(data, data.courses[0])), type=Course
    )
    return course


COURSE = _course()
CTX = MappingContext(
    member_id=MEMBER,
    framework=REGISTRY.get("uk-fheq"),
    converter=Converter(REGISTRY),
    awarding_body=AwardingBody(name="University A", country="GB", member=MEMBER),
)


def _passes(score: str) -> bool:
    try:
        return CTX.framework.normalise_grade(score).passed is True
    except GatewayError:
        return False


ids = st.text(min_size=1, max_size=ID_MAX)
results = st.fixed_dictionaries(
    {
        "state": st.just("completed"),
        "pass": st.just("passed"),
        "resultDateTime": st.datetimes(
            min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
        ).map(dt.datetime.isoformat),
        # Passing marks of the member's scheme, and scores it does not know (skipped, not mis-mapped).
        "score": st.one_of(st.none(), st.integers(40, 100).map(str), st.text(max_size=40), st.just("  70  ")),
    }
)
associations = st.fixed_dictionaries(
    {
        "associationId": ids,
        "personId": ids,
        "role": st.sampled_from([None, "student"]),
        "result": results,
    }
)


@given(association=associations)
@example(
    association={
        "associationId": "a" * ID_MAX,
        "personId": "\U0001f600" * ID_MAX,
        "result": {"state": "completed", "pass": "passed", "resultDateTime": "2026-01-01T00:00:00Z"},
    }
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_schema_valid_award_maps_to_a_record_meeting_its_contract(association: dict[str, Any]) -> None:
    try:
        decoded = msgspec.json.decode(msgspec.json.encode(association), type=Association)
    except msgspec.ValidationError:  # what the schema refuses never reaches the mapping
        return
    assert decoded.result is not None
    score = (decoded.result.score or "").strip()
    if score and not _passes(score):  # only a score the scheme does not pass may skip an award here
        with pytest.raises(Unmappable) as caught:
            map_credential(COURSE, decoded, CTX, fetched_at=FETCHED)
        assert caught.value.reason == "grade"
        return
    record = map_credential(COURSE, decoded, CTX, fetched_at=FETCHED)
    again = msgspec.json.decode(msgspec.json.encode(record), type=CredentialRecord)
    assert again == record
    assert record.id == association["associationId"]
    assert record.learner.identifiers[0].value == association["personId"]


def test_the_schemas_id_fits_every_field_it_fills() -> None:
    """The edge case by hand, so a change to either side's limit shows here by name."""
    long_id = "x" * ID_MAX
    decoded = msgspec.json.decode(
        msgspec.json.encode(
            {
                "associationId": long_id,
                "personId": long_id,
                "result": {"state": "completed", "pass": "passed", "resultDateTime": "2026-01-01T00:00:00Z"},
            }
        ),
        type=Association,
    )
    record = map_credential(COURSE, decoded, CTX, fetched_at=FETCHED)
    assert msgspec.json.decode(msgspec.json.encode(record), type=CredentialRecord) == record
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode({"associationId": long_id + "x"}), type=Association)
