"""Grade conversion through a normalisation: a scheme's fixed scale, or grade-distribution tables.

- ``pass_fail`` schemes carry only pass status: a pass becomes the target's lowest passing grade.
- ``scale``: the source grade's normalised point (0..1) picks the target grade holding it; pass status is
  always kept (a pass never converts to a fail, nor the reverse).
- ``distribution``: ECTS grading (shared/reference/domain.md section 4): the source grade's percentile band
  among passing students is placed against the target's bands. Used whenever a side is a relative scale
  (ECTS A-E) or tables are supplied; there is never a fixed mapping to or from ECTS grades.
"""

from __future__ import annotations

from adapters.frameworks.conversion.explain import explanation
from adapters.frameworks.distribution import (
    PercentileBand,
    distribution_problems,
    percentile_bands,
    ranked_bands,
)
from adapters.frameworks.scale import SchemeScale, code_key, scale_for
from contracts.errors import GradeDistributionRequired, InvalidRequest
from contracts.frameworks import (
    ConversionStep,
    CreditFramework,
    FactStatus,
    GradeConversion,
    GradeDistribution,
    GradingScheme,
    NormalisedGrade,
    TableRef,
)

__all__ = ["Side", "convert_grade", "resolve_distribution"]

_EPS = 1e-9


class Side:
    """One side (``from`` or ``to``) of a grade conversion: framework, scheme, and the percentile bands of its
    distribution table, if it has one."""

    __slots__ = ("bands", "explicit", "framework", "name", "scale", "scheme", "table", "table_status")

    def __init__(
        self,
        name: str,
        framework: CreditFramework,
        scheme: GradingScheme,
        distribution: GradeDistribution | None = None,
    ) -> None:
        self.name = name
        self.framework = framework
        self.scheme = scheme
        self.scale: SchemeScale = scale_for(scheme)
        self.explicit = distribution is not None
        self.bands, self.table, self.table_status = resolve_distribution(
            framework, scheme, distribution, f"{name}_distribution"
        )


def resolve_distribution(
    framework: CreditFramework, scheme: GradingScheme, explicit: GradeDistribution | None, field: str
) -> tuple[tuple[PercentileBand, ...] | None, TableRef | None, FactStatus]:
    """Percentile bands for a side: the supplied table, else the member's one stored table for the scheme,
    else a ranked scheme's own definition, else none."""
    table = explicit
    if table is None:
        stored = [d for d in framework.spec.grade_distributions if d.scheme == scheme.id]
        if len(stored) > 1:
            raise GradeDistributionRequired(
                f"{framework.id} has several distribution tables for {scheme.id}",
                field=field,
                expected="one of the reference groups: " + ", ".join(d.reference_group for d in stored),
            )
        table = stored[0] if stored else None
    if table is not None:
        problems = distribution_problems(scheme, table)
        if problems:
            raise InvalidRequest(
                "; ".join(problems), field=field, expected=f"a distribution table for {scheme.id}"
            )
        ref = TableRef(
            id="grade-distribution",
            title=f"{table.institution}: {table.reference_group}",
            version=table.cohorts,
            source=table.source,
        )
        return percentile_bands(scheme, table), ref, table.status
    if scheme.kind == "ranked":
        ref = TableRef(id=scheme.id, title=scheme.name, version=framework.spec.version, source=scheme.source)
        return ranked_bands(scheme), ref, scheme.status
    return None, None, scheme.status


def _step(side: Side, frm: str, to: str, rule: str, *, use_table: bool) -> ConversionStep:
    table = side.table if use_table else None
    return ConversionStep(
        from_=frm,
        to=to,
        rule=rule,
        source=table.source if table else side.scheme.source,
        status=side.table_status if table else side.scheme.status,
        table=f"{side.framework.id}/{table.id}@{table.version}" if table else None,
    )


def _by_pass_status(dst: Side, passed: bool) -> tuple[str, tuple[str, ...], str]:
    """Target value when only pass status is known: the lowest pass, or the highest fail."""
    scheme = dst.scheme
    if scheme.kind == "marks":
        assert scheme.pass_mark is not None
        mark = scheme.pass_mark if passed else max(0.0, scheme.pass_mark - 1)
        return f"{mark:g}", (f"{mark:g}",), f"pass mark {scheme.pass_mark:g}"
    pool = dst.scale.pass_bands if passed else dst.scale.fail_bands
    if not pool:
        raise InvalidRequest(
            f"{scheme.id} has no {'passing' if passed else 'failing'} grade",
            field=f"{dst.name}_scheme",
            expected="a scheme with passing and failing grades",
        )
    chosen = pool[0] if passed else pool[-1]
    return (
        chosen.code,
        tuple(b.code for b in pool),
        f"{'lowest pass' if passed else 'highest fail'} {chosen.code}",
    )


def _on_scale(src: NormalisedGrade, dst: Side) -> tuple[str, tuple[str, ...], str]:
    scheme = dst.scheme
    if scheme.kind == "marks":
        assert scheme.max_mark is not None
        assert scheme.pass_mark is not None
        mark = round(src.point * scheme.max_mark, 2)
        if src.passed and mark < scheme.pass_mark:
            mark = scheme.pass_mark
        elif not src.passed and mark >= scheme.pass_mark:
            mark = max(0.0, scheme.pass_mark - 1)
        return f"{mark:g}", (f"{mark:g}",), f"{src.point:.4g} x {scheme.max_mark:g}"
    best = dst.scale.band_at(src.point)
    candidates = dst.scale.overlapping(src.lower, src.upper, src.passed)
    if best.passed != src.passed or best not in candidates:
        chosen = _by_pass_status(dst, src.passed)[0]
        return chosen, tuple(b.code for b in candidates) or (chosen,), f"{src.point:.4g}, pass status kept"
    return best.code, tuple(b.code for b in candidates), f"{src.point:.4g} lies in {best.code}"


def _on_percentiles(
    lower: float, upper: float, bands: tuple[PercentileBand, ...]
) -> tuple[str, tuple[str, ...], str]:
    point = (lower + upper) / 2
    best = next((b for b in bands if b[1] <= point < b[2]), bands[-1] if point >= bands[-1][1] else bands[0])
    if upper - lower <= _EPS:
        overlapping = [best]
    else:
        overlapping = [b for b in bands if min(b[2], upper) - max(b[1], lower) > _EPS]
    return (
        best[0],
        tuple(b[0] for b in overlapping) or (best[0],),
        f"percentile {point * 100:.4g} in {best[0]}",
    )


def convert_grade(value: str, src: Side, dst: Side) -> GradeConversion:
    """Convert ``value`` of ``src.scheme`` into ``dst.scheme``."""
    pass_only = "pass_fail" in (src.scheme.kind, dst.scheme.kind)
    # Tables when a side is relative (ECTS A-E), when a caller supplies one, or when both sides have one.
    use_tables = not pass_only and (
        "ranked" in (src.scheme.kind, dst.scheme.kind)
        or src.explicit
        or dst.explicit
        or (src.bands is not None and dst.bands is not None)
    )
    if use_tables:
        for side in (src, dst):
            if side.scheme.kind == "marks":
                raise InvalidRequest(
                    f"{side.scheme.id} has numeric marks; distribution tables need named grades",
                    field=f"{side.name}_scheme",
                    expected="a scheme with named grades",
                )
            if side.bands is None:
                raise GradeDistributionRequired(
                    f"{side.scheme.id} needs a grade-distribution table to convert against a relative scale",
                    field=f"{side.name}_distribution",
                    expected=f"a grade-distribution table for {side.framework.id} scheme {side.scheme.id}",
                )
    normalised = src.scale.normalise(value)
    src_from, frame = f"{src.framework.id}:{src.scheme.id}", "scale"
    if use_tables and normalised.passed:
        assert src.bands is not None
        assert dst.bands is not None
        key = code_key(normalised.value)
        band = next(b for b in src.bands if code_key(b[0]) == key)
        normalised = NormalisedGrade(
            scheme=src.scheme.id,
            value=normalised.value,
            lower=band[1],
            upper=band[2],
            point=(band[1] + band[2]) / 2,
            passed=True,
        )
        frame = "percentile"
        first = f"{normalised.value} = passing percentiles {band[1] * 100:.4g}-{band[2] * 100:.4g}"
        target, candidates, why = _on_percentiles(band[1], band[2], dst.bands)
    elif pass_only or use_tables:
        first = (
            f"{normalised.value}: {'pass' if normalised.passed else 'fail'} (only pass status carries over)"
        )
        target, candidates, why = _by_pass_status(dst, normalised.passed)
    else:
        band_text = f"{normalised.lower:.4g}-{normalised.upper:.4g}"
        first = f"{normalised.value} = {band_text} (point {normalised.point:.4g})"
        target, candidates, why = _on_scale(normalised, dst)
    dst_to = f"{dst.framework.id}:{dst.scheme.id}"
    steps = (
        _step(src, src_from, frame, first, use_table=use_tables),
        _step(dst, frame, dst_to, f"{why} -> {target}", use_table=use_tables),
    )
    tables = [t for t in (src.table, dst.table) if t is not None and use_tables]
    notes = ("Grade conversion is indicative; the local grade stays the grade of record.",)
    return GradeConversion(
        from_framework=src.framework.id,
        from_grade=normalised,
        to_framework=dst.framework.id,
        to_scheme=dst.scheme.id,
        value=target,
        candidates=candidates,
        passed=normalised.passed,
        basis="distribution" if use_tables else "scale",
        explanation=explanation(
            "distribution" if use_tables else "scale", (src_from, frame, dst_to), steps, tables, notes
        ),
    )
