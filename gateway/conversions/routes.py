"""HTTP routes for frameworks and conversions (scope ``recognition:read``)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter

from adapters.frameworks import Converter, FrameworkRegistry
from contracts.errors import NotFound
from contracts.frameworks import FrameworkSpec
from gateway.conversions.models import MAX_BATCH, ConversionBatch, ConversionResults
from gateway.conversions.service import convert_batch
from gateway.openapi import problem_responses

__all__ = ["ConversionsController", "FrameworkSummary", "FrameworksController"]


class FrameworkSummary(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    name: str
    jurisdiction: str
    credit_unit: str
    levels: int


class FrameworksController(Controller):
    path = "/v1/frameworks"
    tags = ["frameworks"]
    opt = {"scopes": ["recognition:read"]}

    @get("/", summary="List the credit frameworks the gateway knows")
    async def list_frameworks(self, state: State) -> list[FrameworkSummary]:
        registry: FrameworkRegistry = state.frameworks
        return [
            FrameworkSummary(
                id=fw.id,
                name=fw.name,
                jurisdiction=fw.jurisdiction,
                credit_unit=fw.credit.code,
                levels=len(fw.levels),
            )
            for fw in registry
        ]

    @get(
        "/{framework_id:str}",
        summary="One framework: units, levels, grades, award rules, sources",
        responses=problem_responses(404),
    )
    async def get_framework(
        self, state: State, framework_id: Annotated[str, PathParameter(max_length=32)]
    ) -> FrameworkSpec:
        registry: FrameworkRegistry = state.frameworks
        if framework_id not in registry:
            raise NotFound(
                f"no framework with id {framework_id!r}",
                field="framework_id",
                expected="one of: " + ", ".join(registry.ids),
            )
        return registry.get(framework_id).spec


class ConversionsController(Controller):
    path = "/v1/conversions"
    tags = ["frameworks"]
    opt = {"scopes": ["recognition:read"]}

    @post(
        "/",
        status_code=200,
        summary="Convert credits, levels and grades (batch)",
        description=f"Up to {MAX_BATCH} items, each of `kind` credits, level or grade. Every item gets a "
        "result with its explanation, or its own RFC 9457 problem; one bad item never fails the batch.",
        responses=problem_responses(400, 413),
    )
    async def convert(self, state: State, data: JSONBody[ConversionBatch]) -> ConversionResults:
        converter: Converter = state.converter
        return convert_batch(converter, data.items)
