"""Levels and EQF. Every A/B row of the level referencing table (shared/reference/domain.md section 2) is
written out here as (framework, code, EQF); ``None`` where the official referencing gives no EQF level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.frameworks import Converter, reference_registry
from contracts.errors import UnknownFramework, UnknownLevel

REGISTRY = reference_registry()
CONVERTER = Converter(REGISTRY)

# (table row) -> (our framework id, our level code, EQF)
LEVEL_TABLE_ROWS = [
    # RQF, A (Ofqual register): our uk-fheq codes are prefixed "rqf-".
    ("uk-fheq", "rqf-e1", None),
    ("uk-fheq", "rqf-e2", None),
    ("uk-fheq", "rqf-e3", 1),
    ("uk-fheq", "rqf-1", 2),
    ("uk-fheq", "rqf-2", 3),
    ("uk-fheq", "rqf-3", 4),
    ("uk-fheq", "rqf-4", 5),
    ("uk-fheq", "rqf-5", 5),
    ("uk-fheq", "rqf-6", 6),
    ("uk-fheq", "rqf-7", 7),
    ("uk-fheq", "rqf-8", 8),
    # FHEQ, B
    ("uk-fheq", "4", 5),
    ("uk-fheq", "5", 5),
    ("uk-fheq", "6", 6),
    ("uk-fheq", "7", 7),
    ("uk-fheq", "8", 8),
    # SCQF, B
    ("scqf", "1", None),
    ("scqf", "2", None),
    ("scqf", "3", 1),
    ("scqf", "4", 2),
    ("scqf", "5", 3),
    ("scqf", "6", 4),
    ("scqf", "7", 5),
    ("scqf", "8", 5),
    ("scqf", "9", 6),
    ("scqf", "10", 6),
    ("scqf", "11", 7),
    ("scqf", "12", 8),
    # NFQ_IE, B
    ("ie-nfq", "1", 1),
    ("ie-nfq", "2", 1),
    ("ie-nfq", "3", 2),
    ("ie-nfq", "4", 3),
    ("ie-nfq", "5", 4),
    ("ie-nfq", "6", 5),
    ("ie-nfq", "7", 6),
    ("ie-nfq", "8", 6),
    ("ie-nfq", "9", 7),
    ("ie-nfq", "10", 8),
    # NZQF, A
    ("nzqf", "1", 2),
    ("nzqf", "2", 3),
    ("nzqf", "3", 4),
    ("nzqf", "4", 4),
    ("nzqf", "5", 5),
    ("nzqf", "6", 5),
    ("nzqf", "7", 6),
    ("nzqf", "8", None),
    ("nzqf", "9", 7),
    ("nzqf", "10", 8),
    # QF-EHEA, A/B: the cycles are aliases of the ects (EQF) levels.
    ("ects", "short", 5),
    ("ects", "first", 6),
    ("ects", "second", 7),
    ("ects", "third", 8),
]


@pytest.mark.parametrize(("framework", "code", "eqf"), LEVEL_TABLE_ROWS)
def test_level_table_row(framework: str, code: str, eqf: int | None) -> None:
    level = REGISTRY.get(framework).level(code)
    assert level.eqf == eqf
    assert level.status in {"A", "B"}
    assert level.source
    answer = CONVERTER.level(code, framework, "ects")
    assert answer.eqf == eqf
    assert [c.eqf for c in answer.candidates] == ([] if eqf is None else [eqf])


def test_level_tables_have_no_extra_rows() -> None:
    for framework in ("scqf", "ie-nfq", "nzqf"):
        listed = {code for fw, code, _ in LEVEL_TABLE_ROWS if fw == framework}
        assert {lv.code for lv in REGISTRY.get(framework).levels} == listed
    uk = {code for fw, code, _ in LEVEL_TABLE_ROWS if fw == "uk-fheq"}
    assert {lv.code for lv in REGISTRY.get("uk-fheq").levels} == uk


@pytest.mark.parametrize(
    ("framework", "code", "cycle"),
    [
        # FHEQ rows: "FHEQ 5 ... QF-EHEA short cycle", 6 first, 7 second, 8 third; 4 is within-first-cycle.
        ("uk-fheq", "4", None),
        ("uk-fheq", "5", "short"),
        ("uk-fheq", "6", "first"),
        ("uk-fheq", "7", "second"),
        ("uk-fheq", "8", "third"),
        # NFQ_IE rows: 6 short cycle; 7 and 8 first cycle.
        ("ie-nfq", "6", "short"),
        ("ie-nfq", "7", "first"),
        ("ie-nfq", "8", "first"),
        # QF-EHEA rows.
        ("ects", "5", "short"),
        ("ects", "6", "first"),
    ],
)
def test_qf_ehea_cycles(framework: str, code: str, cycle: str | None) -> None:
    assert REGISTRY.get(framework).level(code).qf_ehea_cycle == cycle


def test_scqf_7_goes_via_eqf_5_to_every_uk_candidate() -> None:
    # SCQF 7 -> EQF 5; EQF 5 <- FHEQ 4, FHEQ 5, RQF 4, RQF 5 (level table).
    answer = CONVERTER.level("7", "scqf", "uk-fheq")
    assert answer.eqf == 5
    assert {c.code for c in answer.candidates} == {"4", "5", "rqf-4", "rqf-5"}
    assert answer.ambiguous
    assert answer.explanation.chain == ("scqf", "eqf", "uk-fheq")
    assert answer.explanation.basis == "eqf"
    assert answer.explanation.tables[0].id == "level-referencing"


def test_eqf_to_national_is_never_inverted_to_one_answer() -> None:
    # Gotcha 1: NFQ 7 and 8 -> EQF 6; NZQF 3 and 4 -> EQF 4.
    assert {c.code for c in CONVERTER.eqf(6, "ie-nfq").candidates} == {"7", "8"}
    assert {c.code for c in CONVERTER.eqf(4, "nzqf").candidates} == {"3", "4"}
    assert CONVERTER.eqf(6, "ie-nfq").ambiguous
    # "no NZQF level compares to EQF level 1"
    assert CONVERTER.eqf(1, "nzqf").candidates == ()


def test_unlevelled_nzqf_8_has_no_candidates() -> None:
    # Gotcha 2: "NZQF level 8 would remain unlevelled to the EQF".
    answer = CONVERTER.level("8", "nzqf", "uk-fheq")
    assert answer.eqf is None
    assert answer.candidates == ()
    assert not answer.ambiguous
    assert "no EQF level" in answer.explanation.notes[0]


def test_codes_are_case_and_space_insensitive() -> None:
    uk = REGISTRY.get("uk-fheq")
    assert uk.level("RQF E1") == uk.level("rqf-e1") == uk.level("entry-1")
    assert uk.level("FHEQ 6") == uk.level("6")


def test_us_levels_have_no_eqf() -> None:
    # No US framework appears in the level referencing table.
    assert all(lv.eqf is None for lv in REGISTRY.get("us-semester").levels)


def test_unknown_level_lists_valid_codes() -> None:
    with pytest.raises(UnknownLevel) as err:
        CONVERTER.level("13", "scqf", "ects")
    assert err.value.field == "level"
    assert err.value.expected == "one of: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"


@pytest.mark.parametrize("eqf", [0, 9, "6", True])
def test_bad_eqf(eqf: object) -> None:
    with pytest.raises(UnknownLevel) as err:
        CONVERTER.eqf(eqf, "scqf")  # type: ignore[arg-type]
    assert (err.value.field, err.value.expected) == ("eqf", "an EQF level from 1 to 8")


def test_unknown_target_framework() -> None:
    with pytest.raises(UnknownFramework) as err:
        CONVERTER.level("6", "uk-fheq", "aqf")
    assert err.value.field == "to"


LEVELS = st.sampled_from([(fw.id, lv.code) for fw in REGISTRY for lv in fw.levels])


@given(LEVELS, st.sampled_from(REGISTRY.ids))
def test_candidates_are_exactly_the_target_levels_at_the_same_eqf(source: tuple[str, str], dst: str) -> None:
    framework, code = source
    answer = CONVERTER.level(code, framework, dst)
    expected = (
        set() if answer.eqf is None else {lv.code for lv in REGISTRY.get(dst).levels if lv.eqf == answer.eqf}
    )
    assert {c.code for c in answer.candidates} == expected
    assert answer.ambiguous == (len(expected) > 1)
