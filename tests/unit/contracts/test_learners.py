"""Learner references: the ESI rules of domain.md section 7, and consortium pseudonyms."""

from __future__ import annotations

import pytest

from contracts.errors import InvalidRequest
from contracts.learners import PSEUDONYM_PREFIX, parse_learner_ref


@pytest.mark.parametrize(
    ("ref", "value"),
    [
        # HEI-wide and nation-wide forms (domain.md section 7), matched case-insensitively.
        (
            "urn:schac:personalUniqueCode:int:esi:uma.es:12345",
            "urn:schac:personaluniquecode:int:esi:uma.es:12345",
        ),
        (
            "urn:schac:personalUniqueCode:int:esi:yyy.uma.es:A-77",
            "urn:schac:personaluniquecode:int:esi:yyy.uma.es:a-77",
        ),
        (
            "URN:SCHAC:personalUniqueCode:INT:ESI:ES:99887766",
            "urn:schac:personaluniquecode:int:esi:es:99887766",
        ),
        ("urn:schac:personalUniqueCode:int:esi:es-an:1", "urn:schac:personaluniquecode:int:esi:es-an:1"),
        # The legacy draft form is accepted and normalised.
        (
            "urn:schac:personalUniqueCode:es:ESI:uma.es:12345",
            "urn:schac:personaluniquecode:int:esi:uma.es:12345",
        ),
    ],
)
def test_esi_forms_are_accepted_and_normalised(ref: str, value: str) -> None:
    key = parse_learner_ref(ref)
    assert key.kind == "esi"
    assert key.value == value


def test_pseudonyms_are_accepted() -> None:
    ref = PSEUDONYM_PREFIX + "3F2504E0-4F89-41D3-9A0C-0305E82C3301".lower()
    assert (
        parse_learner_ref(ref.upper().replace("URN:CONSORTIUM-GATEWAY:PSEUDONYM:", PSEUDONYM_PREFIX)).value
        == ref
    )


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "12345",
        "urn:schac:personalUniqueCode:int:esi:12345",  # no country or sHO
        "urn:schac:personalUniqueCode:int:esi:uma.es:",  # no code
        "urn:schac:personalUniqueCode:int:esi:uma.es:a b",  # a space is not a URN character
        "urn:schac:personalUniqueCode:int:esi:uma.es:a/b",  # nor is a slash
        "urn:schac:personalUniqueCode:int:esi:uma.es:" + "1" * 250,  # > 255 characters
        PSEUDONYM_PREFIX + "not-a-uuid",
    ],
)
def test_bad_references_are_refused_with_the_expected_form(ref: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_learner_ref(ref, field="learner")
    assert caught.value.field == "learner"
    assert caught.value.expected is not None
    assert "urn:schac:personalUniqueCode:int:esi" in caught.value.expected
