"""Generated sandbox data: deterministic per seed, in the member's own framework, with shared learners."""

from __future__ import annotations

import pytest

from adapters.connectors.sandbox import SandboxData, SharedLearner, esi_urn
from adapters.connectors.sandbox.ooapi import course_json, level_value, study_load_unit

SAM = SharedLearner(esi=esi_urn("uni-a.test", "4711"), given_name="Sam", surname="Okafor", passed=2)
DEMO = (("uni-a", "uk-fheq"), ("uni-b", "scqf"), ("uni-c", "us-semester"))


def test_same_seed_same_data() -> None:
    first = SandboxData.generate("uni-a", "uk-fheq", 42, shared=[SAM])
    again = SandboxData.generate("uni-a", "uk-fheq", 42, shared=[SAM])
    assert first == again
    assert SandboxData.generate("uni-a", "uk-fheq", 43, shared=[SAM]) != first
    assert SandboxData.generate("uni-b", "uk-fheq", 42, shared=[SAM]).persons != first.persons


def test_shared_learners_do_not_disturb_local_data() -> None:
    alone = SandboxData.generate("uni-a", "ects", 1)
    shared = SandboxData.generate("uni-a", "ects", 1, shared=[SAM])
    assert shared.persons[: len(alone.persons)] == alone.persons
    assert shared.courses == alone.courses


def test_sizes_and_esi() -> None:
    data = SandboxData.generate("uni-a", "nzqf", 5, learners=30, courses=6)
    assert (len(data.persons), len(data.courses), len(data.offerings)) == (30, 6, 6)
    with_esi = [p for p in data.persons if p.esi]
    assert 0 < len(with_esi) < len(data.persons)
    assert all(p.esi and p.esi.startswith("urn:schac:personalUniqueCode:int:esi:uni-a:") for p in with_esi)
    assert len({p.person_id for p in data.persons}) == 30
    assert len({p.local_id for p in data.persons}) == 30


def test_one_learner_with_credentials_at_three_members() -> None:
    members = [SandboxData.generate(m, f, 9, shared=[SAM]) for m, f in DEMO]
    for data in members:
        (person,) = data.persons_by_esi(SAM.esi)
        assert (person.given_name, person.surname) == ("Sam", "Okafor")
        results = data.associations_of(person.person_id)
        assert len(results) == 2
        assert all(a.passed for a in results)
    assert len({data.persons_by_esi(SAM.esi)[0].person_id for data in members}) == 3


@pytest.mark.parametrize(
    ("framework_id", "unit", "levels"),
    [
        ("uk-fheq", "x-uk-credit", {"x-uk-fheq-6", "x-uk-fheq-7", "x-uk-fheq-4", "x-uk-fheq-5"}),
        ("scqf", "x-scqf-credit", {f"x-scqf-{n}" for n in range(7, 12)}),
        ("ects", "ects", {"x-ects-5", "x-ects-6", "x-ects-7"}),
        ("us-semester", "x-us-sch", {"associate_degree", "bachelor", "master", "x-us-semester-associate"}),
    ],
)
def test_own_units_and_levels(framework_id: str, unit: str, levels: set[str]) -> None:
    data = SandboxData.generate("m", framework_id, 2, courses=20)
    rendered = [course_json(data, c) for c in data.courses]
    assert {c["studyLoad"][0]["studyLoadUnit"] for c in rendered} == {unit}
    assert {c["level"] for c in rendered} <= levels
    assert all(len(c["fieldsOfStudy"]) == 4 and c["fieldsOfStudy"].isdigit() for c in rendered)
    assert all(c["studyLoad"][0]["value"] > 0 for c in rendered)


def test_grades_follow_the_members_grading_scheme() -> None:
    marks = SandboxData.generate("m", "uk-fheq", 3, learners=40)
    assert marks.grading_scheme == "uk-marks"
    assert all(a.grade.isdigit() and (int(a.grade) >= 40) == a.passed for a in marks.associations)
    letters = SandboxData.generate("m", "us-semester", 3, learners=40)
    assert {a.grade for a in letters.associations} <= {
        "A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"
    }  # fmt: skip


def test_extension_values() -> None:
    assert study_load_unit("ects") == "ects"
    assert study_load_unit("nz-credit") == "x-nz-credit"
    assert level_value("us-semester", "bachelor") == "bachelor"
    assert level_value("scqf", "10") == "x-scqf-10"
