"""Recognition engine throughput: credential evaluations per second, in process, on one core.

Workload (``build_workload``): 10 members in 5 frameworks, 50 agreement versions (consortium-wide and
bilateral, some one-way, some superseded), a few hundred equivalences (exact ids and prefixes), and 10,000
generated credential records; each credential is evaluated at another member (``requests_for``).

Variants, alternated round by round (ABCD ABCD ...), CPU time per credential (process time, one thread):

- converter only: the framework adapters' credit conversion per credential (the floor the engine builds on);
- engine: ``RecognitionEngine.evaluate_credential`` (rules, equivalences, conversions, explanation);
- engine + JSON: the same, and the outcome encoded with msgspec (what the HTTP layer will add);
- evaluate(request): ``RecognitionEngine.evaluate`` on requests of 25 credentials, validation included.

    python -m bench.recognition [--rounds 5] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable, Sequence

import msgspec

from adapters.frameworks import Converter, reference_registry
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
from gateway.recognition import RecognitionEngine
from gateway.recognition.models import (
    AgreementConditions,
    AgreementScope,
    AwardRef,
    Bilateral,
    BlockCreditGrant,
    ConsortiumWide,
    EqfRange,
    Equivalence,
    EvaluationRequest,
    GeneralCreditGrant,
    Grant,
    LevelRef,
    MaxAge,
    ModuleGrant,
    NormalisedGradeMinimum,
    RecognisedModule,
    RecognisingMember,
    RecognitionAgreement,
)

__all__ = ["EVALUATION_DATE", "MEMBERS", "build_engine", "build_workload", "main", "requests_for"]

MEMBERS: dict[str, str] = {
    "uni-a.ac.uk": "uk-fheq",
    "uni-b.ac.uk": "uk-fheq",
    "uni-c.ac.uk": "uk-fheq",
    "uni-d.ac.uk": "uk-fheq",
    "uni-s.ac.uk": "scqf",
    "uni-t.ac.uk": "scqf",
    "uni-e.eu": "ects",
    "uni-f.eu": "ects",
    "college-u.edu": "us-semester",
    "uni-n.ac.nz": "nzqf",
}
EVALUATION_DATE = dt.date(2026, 9, 1)
CREDENTIALS = 10_000
DEFINITIONS_PER_MEMBER = 40
_UNITS = {
    "uk-fheq": "uk-credit",
    "scqf": "scqf-credit",
    "ects": "ects",
    "us-semester": "us-sch",
    "nzqf": "nz-credit",
}
# Levels and credit sizes a micro-credential of each framework typically carries (domain.md sections 1-2).
_LEVELS = {
    "uk-fheq": ("4", "5", "6", "7"),
    "scqf": ("7", "8", "9", "10", "11"),
    "ects": ("5", "6", "7"),
    "us-semester": ("associate", "bachelor", "master"),
    "nzqf": ("5", "6", "7", "8", "9"),
}
_SIZES = {
    "uk-fheq": (10, 15, 20, 30, 60),
    "scqf": (10, 15, 20, 40),
    "ects": (2.5, 5, 7.5, 10),
    "us-semester": (1, 2, 3, 4),
    "nzqf": (5, 10, 15, 30),
}
_GRADES = {
    "uk-fheq": ("uk-marks", ("45", "55", "62", "68", "74")),
    "scqf": ("uk-honours", ("third", "2:2", "2:1", "first")),
    "ects": ("pass-fail", ("pass",)),
    "us-semester": ("us-letter", ("C", "B-", "B", "B+", "A")),
    "nzqf": ("nz-achievement", ("A", "M", "E")),
}
_SUBJECTS = ("0613", "0612", "0413", "0311", "0588", "0914", "0231")


def _credits(amount: float, framework: str) -> CreditValue:
    return CreditValue(amount=amount, unit=_UNITS[framework], framework=framework)


def _module(rng: random.Random, framework: str, code: str) -> RecognisedModule:
    level = rng.choice(_LEVELS[framework])
    return RecognisedModule(
        code=code,
        title=f"Module {code}",
        credits=_credits(rng.choice(_SIZES[framework]), framework),
        level=level,
    )


def _grant(rng: random.Random, recogniser: str | None, one_way: bool) -> Grant:
    framework = MEMBERS[recogniser] if recogniser else "ects"
    roll = rng.random()
    if one_way and recogniser and framework == "uk-fheq" and roll < 0.3:
        return BlockCreditGrant(
            award=AwardRef(framework="uk-fheq", id="pg-certificate"),
            credits=_credits(20, "uk-fheq"),
            level=LevelRef(framework="uk-fheq", code="7"),
        )
    if one_way and recogniser and roll < 0.5:
        return ModuleGrant(modules=(_module(rng, framework, f"M{rng.randrange(1000, 9999)}"),))
    cap = _credits(rng.choice((30, 60)), "ects") if roll < 0.7 else None
    return GeneralCreditGrant(max_credits=cap)


def _agreements(rng: random.Random) -> list[RecognitionAgreement]:
    members = list(MEMBERS)
    found: list[RecognitionAgreement] = [
        RecognitionAgreement(
            id="consortium-ict",
            version=1,
            parties=ConsortiumWide(),
            valid_from=dt.date(2024, 1, 1),
            scope=AgreementScope(eqf=EqfRange(min=5, max=7), subjects=("06",)),
            conditions=AgreementConditions(qa_current_at_award=True, max_age=MaxAge(amount=5, unit="years")),
            grant=GeneralCreditGrant(max_credits=_credits(30, "ects")),
        ),
        RecognitionAgreement(
            id="consortium-business",
            version=1,
            parties=ConsortiumWide(),
            valid_from=dt.date(2024, 1, 1),
            scope=AgreementScope(subjects=("04",), credential_types=("stackable",)),
            conditions=AgreementConditions(min_grade=NormalisedGradeMinimum(value=0.5)),
            grant=GeneralCreditGrant(),
        ),
        RecognitionAgreement(
            id="consortium-health",
            version=1,
            parties=ConsortiumWide(),
            valid_from=dt.date(2024, 1, 1),
            valid_to=dt.date(2026, 6, 30),  # expired before the evaluation date: never applies
            scope=AgreementScope(subjects=("09",)),
            grant=GeneralCreditGrant(),
        ),
    ]
    superseded = 0
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            one_way = rng.random() < 0.3
            pair_id = f"{a.split('.')[0]}-{b.split('.')[0]}"
            scope = AgreementScope(eqf=EqfRange(min=4, max=7)) if rng.random() < 0.5 else AgreementScope()
            conditions = AgreementConditions(
                qa_types=("internal", "external") if rng.random() < 0.4 else (),
                max_age=MaxAge(amount=3, unit="years") if rng.random() < 0.5 else None,
            )
            if superseded < 2:  # two pairs renegotiated: v1 expired, v2 in force
                superseded += 1
                found.append(
                    RecognitionAgreement(
                        id=pair_id,
                        version=1,
                        parties=Bilateral(members=(a, b)),
                        valid_from=dt.date(2023, 1, 1),
                        valid_to=dt.date(2025, 12, 31),
                        grant=GeneralCreditGrant(),
                    )
                )
                start, version = dt.date(2026, 1, 1), 2
            else:
                start, version = dt.date(2024, 9, 1), 1
            found.append(
                RecognitionAgreement(
                    id=pair_id,
                    version=version,
                    parties=Bilateral(members=(a, b), mutual=not one_way),
                    valid_from=start,
                    scope=scope,
                    conditions=conditions,
                    grant=_grant(rng, a, one_way),
                )
            )
    return found


def _equivalences(rng: random.Random) -> list[Equivalence]:
    found: list[Equivalence] = []
    members = list(MEMBERS)
    for n in range(300):
        issuer, recogniser = rng.sample(members, 2)
        exact = rng.random() < 0.8
        definition = rng.randrange(DEFINITIONS_PER_MEMBER)
        pattern = f"{issuer}:C{definition:03d}" if exact else f"{issuer}:C0{definition % 4}*"
        found.append(
            Equivalence(
                id=f"eq-{n:04d}",
                version=1,
                issuer=issuer,
                credential=pattern,
                recogniser=recogniser,
                modules=(_module(rng, MEMBERS[recogniser], f"EQ{n:04d}"),),
                valid_from=dt.date(2024, 1, 1),
                valid_to=None if rng.random() < 0.9 else dt.date(2025, 12, 31),
                approved_by="Registrar",
            )
        )
    return found


def _credential(rng: random.Random, n: int) -> CredentialRecord:
    issuer = rng.choice(list(MEMBERS))
    framework = MEMBERS[issuer]
    definition = rng.randrange(DEFINITIONS_PER_MEMBER)
    scheme, grades = _GRADES[framework]
    issued = EVALUATION_DATE - dt.timedelta(days=rng.randrange(30, 3 * 365))
    qa_known = rng.random() < 0.9
    mc = MicroCredential(
        id=f"{issuer}:C{definition:03d}",
        title=f"Micro-credential {definition}",
        awarding_body=AwardingBody(name=issuer, country="GB", member=issuer),
        learning_outcomes=["Apply the method to a real case"],
        workload=_credits(rng.choice(_SIZES[framework]), framework),
        assessment=["project"],
        participation=["online"],
        quality_assurance=QualityAssurance(
            type=rng.choice(("internal", "external", "accredited programme")),
            review_due=issued + dt.timedelta(days=rng.randrange(-200, 1000)) if qa_known else None,
        ),
        level=Level(framework=framework, code=rng.choice(_LEVELS[framework])),
        stackability=Stackability(kind=rng.choice(("standalone", "stackable"))),
        field_of_study=rng.choice(_SUBJECTS),
    )
    return CredentialRecord(
        id=f"{issuer}:award-{n:05d}",
        learner=LearnerRef(identifiers=[LearnerIdentifier(scheme="local", value=f"s{n:05d}", member=issuer)]),
        credential=mc,
        issuer=issuer,
        issued_on=issued,
        provenance=Provenance(
            member=issuer,
            connector="sandbox",
            source_id=str(n),
            fetched_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        ),
        grade=Grade(framework=framework, scheme=scheme, value=rng.choice(grades)),
    )


def build_workload(
    seed: int = 7, credentials: int = CREDENTIALS
) -> tuple[list[RecognitionAgreement], list[Equivalence], list[CredentialRecord]]:
    """The benchmark's 50 agreement versions, equivalences and credential records, the same for one seed."""
    rng = random.Random(seed)
    agreements = _agreements(rng)
    assert len(agreements) == 50, len(agreements)
    return agreements, _equivalences(rng), [_credential(rng, n) for n in range(credentials)]


def recogniser_of(index: int, record: CredentialRecord) -> RecognisingMember:
    """The member that evaluates credential ``index``: deterministic, never the issuer."""
    members = [m for m in MEMBERS if m != record.issuer]
    member = members[index % len(members)]
    return RecognisingMember(id=member, framework=MEMBERS[member])


def requests_for(credentials: Sequence[CredentialRecord], batch: int = 25) -> list[EvaluationRequest]:
    """Evaluation requests of up to ``batch`` credentials, grouped by recogniser."""
    groups: dict[str, list[CredentialRecord]] = {}
    for i, record in enumerate(credentials):
        groups.setdefault(recogniser_of(i, record).id, []).append(record)
    return [
        EvaluationRequest(
            credentials=tuple(records[k : k + batch]),
            recogniser=RecognisingMember(id=member, framework=MEMBERS[member]),
            evaluation_date=EVALUATION_DATE,
        )
        for member, records in groups.items()
        for k in range(0, len(records), batch)
    ]


def build_engine(
    agreements: Sequence[RecognitionAgreement], equivalences: Sequence[Equivalence]
) -> RecognitionEngine:
    return RecognitionEngine(agreements, equivalences, members=MEMBERS)


def _timed(run: Callable[[], int]) -> float:
    """CPU seconds per credential for one pass."""
    start = time.process_time()
    count = run()
    return (time.process_time() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    agreements, equivalences, credentials = build_workload(args.seed)
    built = time.perf_counter()
    engine = build_engine(agreements, equivalences)
    indexed = time.perf_counter()
    pairs = [(record, recogniser_of(i, record)) for i, record in enumerate(credentials)]
    requests = requests_for(credentials)
    converter = Converter(reference_registry())
    encoder = msgspec.json.Encoder()
    on = EVALUATION_DATE

    def converter_only() -> int:
        for record, member in pairs:
            converter.credit_value(record.credential.workload, member.framework, "convention")
        return len(pairs)

    def engine_only() -> int:
        for record, member in pairs:
            engine.evaluate_credential(record, member, on)
        return len(pairs)

    def engine_json() -> int:
        for record, member in pairs:
            encoder.encode(engine.evaluate_credential(record, member, on))
        return len(pairs)

    def evaluate_requests() -> int:
        return sum(len(engine.evaluate(request).outcomes) for request in requests)

    variants: dict[str, Callable[[], int]] = {
        "converter only (floor)": converter_only,
        "engine": engine_only,
        "engine + JSON encode": engine_json,
        "evaluate(request), validated": evaluate_requests,
    }
    cold = _timed(engine_only)  # first pass: the engine's caches (candidates, levels, plans) fill
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, run in variants.items():
            results[name].append(_timed(run))

    statuses: dict[str, int] = {}
    for record, member in pairs:
        status = engine.evaluate_credential(record, member, on).status
        statuses[status] = statuses.get(status, 0) + 1
    print(
        f"recognition engine, in process, one thread: {len(credentials)} credentials x {len(agreements)} "
        f"agreement versions, {len(equivalences)} equivalences, {len(MEMBERS)} members, {args.rounds} rounds"
    )
    print(
        f"workload built in {built - started:.2f} s; engine (checks + index) built in {indexed - built:.3f} s"
    )
    print(f"outcomes: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}")
    print(f"cold first pass: {cold * 1e6:.1f} us/credential ({1 / cold:,.0f}/s)")
    engine_base = results["engine"]
    print(f"{'variant':34} {'us/credential':>14} {'credentials/s':>14} {'x engine':>10}")
    for name, values in results.items():
        per = statistics.median(values)
        ratios = [v / e for v, e in zip(values, engine_base, strict=True)]
        print(
            f"{name:34} {per * 1e6:14.1f} {1 / per:14,.0f} "
            f"{statistics.median(ratios):6.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
