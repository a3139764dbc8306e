"""``TableFramework``: a ``CreditFramework`` made from a ``FrameworkSpec`` (data), its lookups built once.

Every reference framework is one; an adapter package can be one too (build a ``FrameworkSpec`` and wrap it).
Construction checks the data (unique codes, well-formed grading scales, award levels that exist), so a broken
plug-in fails when it is loaded, not in the middle of a request.
"""

from __future__ import annotations

from adapters.frameworks.overrides import apply_overrides
from adapters.frameworks.scale import code_key, scale_for
from adapters.frameworks.spec_checks import spec_problems
from contracts.errors import FrameworkPluginError, NotFound, UnknownGrade, UnknownLevel
from contracts.frameworks import (
    AwardRule,
    CreditFramework,
    CreditUnit,
    FrameworkLevel,
    FrameworkOverrides,
    FrameworkSpec,
    GradingScheme,
    MicroCredentialRules,
    NormalisedGrade,
)

__all__ = ["TableFramework"]

_EQF_EXPECTED = "an EQF level from 1 to 8"


class TableFramework:
    """A framework answered from its ``FrameworkSpec``; satisfies ``contracts.frameworks.CreditFramework``."""

    __slots__ = ("_awards", "_by_eqf", "_levels", "_mc_rules", "_schemes", "_spec")

    def __init__(self, spec: FrameworkSpec) -> None:
        problems = spec_problems(spec)
        if problems:
            raise FrameworkPluginError(
                f"framework {spec.id!r} is inconsistent: " + "; ".join(problems), field="spec"
            )
        self._spec = spec
        self._levels: dict[str, FrameworkLevel] = {}
        by_eqf: dict[int, list[FrameworkLevel]] = {}
        for level in spec.levels:
            self._levels[code_key(level.code)] = level
            for alias in level.aliases:
                self._levels[code_key(alias)] = level
            if level.eqf is not None:
                by_eqf.setdefault(level.eqf, []).append(level)
        self._by_eqf = {eqf: tuple(levels) for eqf, levels in by_eqf.items()}
        self._schemes = {s.id: s for s in spec.grading_schemes}
        self._awards = {r.id: r for r in spec.award_rules}
        self._mc_rules = {r.rule_set: r for r in spec.micro_credential_rules}

    def __repr__(self) -> str:
        return f"TableFramework({self._spec.id!r}, version={self._spec.version!r})"

    @property
    def id(self) -> str:
        return self._spec.id

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def jurisdiction(self) -> str:
        return self._spec.jurisdiction

    @property
    def spec(self) -> FrameworkSpec:
        return self._spec

    @property
    def credit(self) -> CreditUnit:
        return self._spec.credit

    @property
    def levels(self) -> tuple[FrameworkLevel, ...]:
        return self._spec.levels

    def level(self, code: str) -> FrameworkLevel:
        level = self._levels.get(code_key(code)) if isinstance(code, str) else None
        if level is None:
            raise UnknownLevel(
                f"{code!r} is not a level of {self.id}",
                field="level",
                expected="one of: " + ", ".join(lv.code for lv in self._spec.levels),
            )
        return level

    def levels_at_eqf(self, eqf: int) -> tuple[FrameworkLevel, ...]:
        if isinstance(eqf, bool) or not isinstance(eqf, int) or not 1 <= eqf <= 8:
            raise UnknownLevel(f"{eqf!r} is not an EQF level", field="eqf", expected=_EQF_EXPECTED)
        return self._by_eqf.get(eqf, ())

    def grading_scheme(self, scheme_id: str | None = None) -> GradingScheme:
        if scheme_id is None:
            return self._spec.grading_schemes[0]
        scheme = self._schemes.get(scheme_id) if isinstance(scheme_id, str) else None
        if scheme is None:
            raise UnknownGrade(
                f"{scheme_id!r} is not a grading scheme of {self.id}",
                field="scheme",
                expected="one of: " + ", ".join(self._schemes),
            )
        return scheme

    def normalise_grade(self, value: str, scheme_id: str | None = None) -> NormalisedGrade:
        return scale_for(self.grading_scheme(scheme_id)).normalise(value)

    def award_rule(self, rule_id: str) -> AwardRule:
        rule = self._awards.get(rule_id) if isinstance(rule_id, str) else None
        if rule is None:
            raise NotFound(
                f"{rule_id!r} is not an award of {self.id}",
                field="award",
                expected="one of: " + ", ".join(self._awards),
            )
        return rule

    def micro_credential_rules(self, rule_set: str | None = None) -> MicroCredentialRules | None:
        if rule_set is None:
            rules = self._spec.micro_credential_rules
            return rules[0] if rules else None
        found = self._mc_rules.get(rule_set) if isinstance(rule_set, str) else None
        if found is None:
            raise NotFound(
                f"{rule_set!r} is not a micro-credential rule set of {self.id}",
                field="rule_set",
                expected="one of: " + ", ".join(self._mc_rules),
            )
        return found

    def with_overrides(self, overrides: FrameworkOverrides) -> CreditFramework:
        return TableFramework(apply_overrides(self._spec, overrides))
