"""Agreements and equivalences, checked once and indexed by (recognising member, issuing member).

Each agreement version is compiled once into the lookups its rules need (canonical level codes, subject
prefixes, QA types), so evaluating a credential touches only the agreements between its issuer and the
recogniser, plus the consortium-wide ones, and never re-parses an agreement. Draft versions are proposals:
they are checked but never indexed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from adapters.frameworks import FrameworkRegistry
from adapters.frameworks.scale import code_key
from gateway.recognition._facts import CredentialFacts
from gateway.recognition._inputs import (
    Bilateral,
    Equivalence,
    FrameworkGradeMinimum,
    Grant,
    MaxAge,
    NormalisedGradeMinimum,
    RecognitionAgreement,
)
from gateway.recognition._outcomes import RuleCheck, VersionRef
from gateway.recognition._validation import check_agreements, check_equivalences

__all__ = ["CompiledAgreement", "CompiledEquivalence", "Condition", "RecognitionIndex"]

_CACHE_LIMIT: Final = 65_536  # pairs of members; bounds memory if requests name many unknown issuers
_MEMO_LIMIT: Final = 16_384  # shared rule checks per agreement version (issue dates x evaluation dates)


Condition = Callable[["CompiledAgreement", CredentialFacts], RuleCheck | None]
"""A condition rule: its check, or ``None`` where it does not apply to this credential."""


class CompiledAgreement:
    """One agreement version, prepared for evaluation."""

    __slots__ = (
        "agreement",
        "checks",
        "eqf",
        "grant",
        "id",
        "label",
        "level_keys",
        "levels_text",
        "max_age",
        "max_age_text",
        "memo",
        "min_grade",
        "parties_text",
        "qa_current",
        "qa_text",
        "qa_types",
        "ref",
        "status",
        "subjects",
        "subjects_text",
        "types",
        "types_text",
        "valid_from",
        "valid_from_iso",
        "valid_to",
        "valid_to_iso",
        "version",
    )

    def __init__(self, agreement: RecognitionAgreement, registry: FrameworkRegistry) -> None:
        self.agreement = agreement
        self.id, self.version, self.label = agreement.id, agreement.version, agreement.label
        self.ref = VersionRef(id=agreement.id, version=agreement.version)
        self.status = agreement.status
        self.valid_from, self.valid_to = agreement.valid_from, agreement.valid_to
        self.valid_from_iso = agreement.valid_from.isoformat()
        self.valid_to_iso = agreement.valid_to.isoformat() if agreement.valid_to else None
        parties = agreement.parties
        if isinstance(parties, Bilateral):
            a, b = parties.members
            self.parties_text = f"{a} <-> {b}" if parties.mutual else f"{a} recognises {b}"
        else:
            self.parties_text = "consortium-wide"
        scope = agreement.scope
        # Levels are never overridden per member, so the base registry's canonical codes hold for all.
        self.level_keys = frozenset(
            (ref.framework, registry.get(ref.framework).level(ref.code).code) for ref in scope.levels
        )
        self.levels_text = ", ".join(f"{fw}:{code}" for fw, code in sorted(self.level_keys)) or None
        self.eqf: tuple[int, int] | None = (scope.eqf.min, scope.eqf.max) if scope.eqf else None
        self.subjects: tuple[str, ...] = scope.subjects
        self.subjects_text = ", ".join(scope.subjects) or None
        self.types = frozenset(scope.credential_types)
        self.types_text = ", ".join(scope.credential_types) or None
        conditions = agreement.conditions
        self.qa_types = frozenset(code_key(t) for t in conditions.qa_types)
        self.qa_text = ", ".join(conditions.qa_types) or None
        self.qa_current: bool = conditions.qa_current_at_award
        self.max_age: MaxAge | None = conditions.max_age
        self.max_age_text = f"{self.max_age.amount} {self.max_age.unit}" if self.max_age else None
        self.min_grade: NormalisedGradeMinimum | FrameworkGradeMinimum | None = conditions.min_grade
        self.grant: Grant = agreement.grant
        # Rule checks that depend only on the agreement and a few inputs (members, dates) are built once
        # and shared between outcomes: they are frozen, and their inputs are never changed.
        self.memo: dict[tuple[object, ...], RuleCheck] = {}
        # The condition rules this version sets, in the engine's order (filled by the engine on first use).
        self.checks: tuple[Condition, ...] | None = None

    def remember(self, key: tuple[object, ...], found: RuleCheck) -> None:
        if len(self.memo) >= _MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = found

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class CompiledEquivalence:
    """One equivalence version, prepared for lookup."""

    __slots__ = ("agreement", "equivalence", "label", "prefix", "ref", "valid_from", "valid_to")

    def __init__(self, equivalence: Equivalence) -> None:
        self.equivalence = equivalence
        self.label = equivalence.label
        self.ref = VersionRef(id=equivalence.id, version=equivalence.version)
        pattern = equivalence.credential
        self.prefix: str | None = pattern[:-1] if pattern.endswith("*") else None
        self.valid_from, self.valid_to = equivalence.valid_from, equivalence.valid_to
        self.agreement = equivalence.agreement

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class _PairEquivalences:
    """The equivalences of one (recogniser, issuer) pair: exact ids, then prefixes, longest first."""

    __slots__ = ("exact", "prefixes")

    def __init__(self, items: Iterable[CompiledEquivalence]) -> None:
        exact: dict[str, list[CompiledEquivalence]] = {}
        prefixes: list[CompiledEquivalence] = []
        for item in items:
            if item.prefix is None:
                exact.setdefault(item.equivalence.credential, []).append(item)
            else:
                prefixes.append(item)
        order = _version_order
        self.exact = {k: tuple(sorted(v, key=order)) for k, v in exact.items()}
        prefixes.sort(key=lambda e: (-len(e.prefix or ""), *_version_order(e)))
        self.prefixes = tuple(prefixes)

    def find(self, credential: str) -> tuple[CompiledEquivalence, ...]:
        found = self.exact.get(credential, ())
        if self.prefixes:
            found += tuple(e for e in self.prefixes if credential.startswith(e.prefix or ""))
        return found


def _version_order(item: CompiledEquivalence) -> tuple[str, int]:
    return item.equivalence.id, item.equivalence.version


class RecognitionIndex:
    """Checked agreements and equivalences, indexed by (recognising member, issuing member)."""

    __slots__ = ("_candidates", "_equivalences", "_pairs", "_wide", "agreements", "equivalences")

    def __init__(
        self,
        agreements: Iterable[RecognitionAgreement],
        equivalences: Iterable[Equivalence],
        registry: FrameworkRegistry,
        members: Mapping[str, str] | None = None,
    ) -> None:
        self.agreements = tuple(agreements)
        self.equivalences = tuple(equivalences)
        check_agreements(self.agreements, registry, members)
        check_equivalences(self.equivalences, registry, members)
        self._pairs: dict[tuple[str, str], list[CompiledAgreement]] = {}
        wide: list[CompiledAgreement] = []
        for agreement in self.agreements:
            if agreement.status == "draft":
                continue
            compiled = CompiledAgreement(agreement, registry)
            parties = agreement.parties
            if isinstance(parties, Bilateral):
                a, b = parties.members
                self._pairs.setdefault((a, b), []).append(compiled)
                if parties.mutual:
                    self._pairs.setdefault((b, a), []).append(compiled)
            else:
                wide.append(compiled)
        self._wide = tuple(wide)
        self._candidates: dict[tuple[str, str], tuple[CompiledAgreement, ...]] = {}
        by_pair: dict[tuple[str, str], list[CompiledEquivalence]] = {}
        for eq in self.equivalences:
            by_pair.setdefault((eq.recogniser, eq.issuer), []).append(CompiledEquivalence(eq))
        self._equivalences = {pair: _PairEquivalences(items) for pair, items in by_pair.items()}

    def agreements_for(self, recogniser: str, issuer: str) -> tuple[CompiledAgreement, ...]:
        """Every agreement version under which ``recogniser`` may recognise ``issuer``'s credentials, in
        ``(id, version)`` order (whether each is active and in force is for the rules to say)."""
        key = (recogniser, issuer)
        found = self._candidates.get(key)
        if found is None:
            pair = self._pairs.get(key, [])
            found = tuple(sorted((*pair, *self._wide), key=lambda c: (c.id, c.version)))
            if len(self._candidates) >= _CACHE_LIMIT:
                self._candidates.clear()
            self._candidates[key] = found
        return found

    def equivalences_for(
        self, recogniser: str, issuer: str, credential: str
    ) -> tuple[CompiledEquivalence, ...]:
        """Every equivalence version for ``issuer``'s ``credential`` at ``recogniser``: exact ids first,
        then prefixes (longest first), each in ``(id, version)`` order."""
        pair = self._equivalences.get((recogniser, issuer))
        return pair.find(credential) if pair is not None else ()
