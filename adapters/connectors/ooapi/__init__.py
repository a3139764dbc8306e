"""The OOAPI v6 registry connector: reads a member's Open Education API as a ``RegistryConnector``.

``create_connector`` is the entry point of group ``consortium_gateway.connectors`` (name ``ooapi``); it
builds an ``OoapiConnector`` from a ``Member`` whose ``connector.settings`` hold ``base_url`` (and
optionally ``language``, ``page_size``, ``max_pages``, ``catalogue_ttl`` in seconds). Modules: ``schema``
(the OOAPI fields read, as msgspec Structs), ``mapping`` (pure OOAPI -> contracts), ``transport``
(the member client, deadlines, caps, errors; R19, R25), ``connector`` (the endpoints).
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from adapters.connectors.ooapi.connector import FetchResult, OoapiConnector
from adapters.connectors.ooapi.mapping import CONNECTOR_ID, MappingContext, MappingIssue, Unmappable
from adapters.connectors.ooapi.transport import BUDGET_HEADER, DEFAULT_MAX_BYTES
from adapters.frameworks import FrameworkRegistry
from contracts.connectors import MemberHttpClient, RegistryConnector, RegistryConnectorFactory, TokenProvider
from contracts.credentials import AwardingBody
from contracts.errors import InvalidConsortiumFile
from contracts.members import Member

__all__ = [
    "BUDGET_HEADER",
    "CONNECTOR_ID",
    "DEFAULT_MAX_BYTES",
    "FetchResult",
    "MappingContext",
    "MappingIssue",
    "OoapiConnector",
    "Unmappable",
    "create_connector",
]

_BASE_URL = re.compile(r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")


def create_connector(
    member: Member,
    *,
    session: MemberHttpClient | aiohttp.ClientSession,
    token_provider: TokenProvider,
    registry: FrameworkRegistry | None = None,
    **options: Any,
) -> OoapiConnector:
    """An ``OoapiConnector`` for ``member`` (``options`` are passed on, e.g. ``max_bytes``)."""
    settings = member.connector.settings
    base_url = settings.get("base_url")
    if not isinstance(base_url, str) or not _BASE_URL.match(base_url):
        raise InvalidConsortiumFile(
            "the ooapi connector needs an http(s) base_url without query, fragment or userinfo",
            member=member.id,
            field="connector.settings.base_url",
        )
    for key in ("language", "page_size", "max_pages", "catalogue_ttl"):
        if key in settings and key not in options:
            options[key] = settings[key]
    return OoapiConnector(
        member.id,
        member.framework,
        base_url,
        session,
        token_provider,
        awarding_body=AwardingBody(name=member.name, country=member.country, member=member.id),
        registry=registry,
        **options,
    )


def _conforms(connector: OoapiConnector) -> RegistryConnector:
    return connector  # mypy checks that OoapiConnector satisfies the Protocol


_factory: RegistryConnectorFactory = create_connector
