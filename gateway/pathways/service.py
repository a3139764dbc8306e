"""A learner's pathways at a member: the recogniser and award are checked first (a bad query costs no
member any work), then the learner's records are fetched as a federated lookup (same lawful-basis check,
same deadline, audited as ``learner.pathways.read``), then the recognition engine evaluates them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import asyncpg

from contracts.errors import InvalidRequest, NotFound, UnknownMember
from gateway.auth.rfc9068 import Principal
from gateway.db.deps import pooled
from gateway.lookup.service import LookupService
from gateway.pathways.models import LearnerPathways
from gateway.recognition.models import RecognisingMember
from gateway.recognition.service import EngineCache

__all__ = ["PathwaysService"]


@dataclass(slots=True)
class PathwaysService:
    lookup: LookupService
    engines: EngineCache
    pool: asyncpg.Pool
    acquire_timeout: float

    async def learner_pathways(
        self,
        principal: Principal,
        ref: str,
        *,
        purpose: str,
        budget: float,
        member: str | None = None,
        award: str | None = None,
        members: Collection[str] | None = None,
        evaluation_date: dt.date | None = None,
    ) -> LearnerPathways:
        async with pooled(self.pool, self.acquire_timeout) as conn:
            engine, frameworks = await self.engines.engine(conn)
        member_id = member or principal.institution
        framework = frameworks.get(member_id)
        if framework is None:
            raise UnknownMember(
                f"{member_id!r} is not a member", field="member", expected="the id of an active member"
            )
        recogniser = RecognisingMember(id=member_id, framework=framework)
        if award is not None:
            try:
                engine.member(recogniser).framework.award_rule(award)
            except NotFound as exc:
                raise InvalidRequest(exc.detail, field="award", expected=exc.expected) from exc
        found = await self.lookup.learner_records(
            principal, ref, purpose=purpose, budget=budget, members=members, action="learner.pathways.read"
        )
        on = evaluation_date or dt.date.today()
        report = engine.pathways(found.with_global_ids(), recogniser, on, award)
        return LearnerPathways(
            learner=found.learner,
            purpose=purpose,
            recogniser=report.recogniser,
            evaluation_date=report.evaluation_date,
            basis=report.basis,
            awards=list(report.awards),
            outcomes=list(report.outcomes),
            own_credit=list(report.own_credit),
            unusable=list(report.unusable),
            partial=found.result.partial,
            members=list(found.result.outcomes),
            elapsed_ms=found.result.elapsed_ms,
        )
