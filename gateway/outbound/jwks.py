"""Verification keys of clients and members, from an inline JWKS or a ``jwks_uri`` (R5).

A verifier asks ``JwksCache.key_for_header(owner, jwks, header)`` for the key of a JWS. Only the header's
``kid`` and ``alg`` are read; ``jwk``, ``jku``, ``x5u`` and ``x5c`` are ignored, so a token can never bring
its own key or point the gateway at a URL (RFC 8725 section 3.10; authlib CVE-2026-27962).

Fetching is bounded, so that tokens cannot turn the gateway into an amplifier against a member:

- the ``kid`` is checked first (at most 128 characters from ``[A-Za-z0-9._:-]``, used only as a map key),
  and the ``alg`` must be an asymmetric JWS algorithm; anything else is refused without a fetch;
- an unknown ``kid`` triggers at most one fetch per owner per ``cooldown`` (>= 30 s; panva/jose and go-oidc
  use 30 s), and concurrent callers share that one fetch;
- a ``kid`` still unknown after a fetch is remembered as unknown for ``negative_ttl`` (>= 5 min);
- a set older than ``max_age`` is refreshed on use (same cooldown), and when a fetch fails the last good
  set stays in use (stale-if-error);
- keys sharing a ``kid`` are told apart by ``kty``/``crv``/``alg``/``use`` (FAPI 2.0 "Duplicate Key
  Identifiers"); if that still leaves two, neither is used.

Fetched sets keep only public signature keys: EC, RSA of at least 2048 bits, and OKP Ed25519/Ed448.
Symmetric (``oct``) keys, encryption keys and entries carrying private members are dropped (R2).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

from contracts.errors import OutboundError, UnknownSigningKey

__all__ = ["KID_PATTERN", "JsonFetcher", "JwksCache", "parse_jwk_set"]

log = logging.getLogger(__name__)

KID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MIN_COOLDOWN = 30.0
MIN_NEGATIVE_TTL = 300.0
MAX_KEYS = 100

# Asymmetric JWS algorithms (RFC 7518 section 3.1, RFC 8037, RFC 9864) -> (kty, crv or None). Which of them
# a verifier accepts is its own allowlist (R2); here they only pick a compatible key.
_ALG_KEY: dict[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "EdDSA": ("OKP", None),
    "Ed25519": ("OKP", "Ed25519"),
    "Ed448": ("OKP", "Ed448"),
}
# JWK members only a private key has (RFC 7518 sections 6.2.2, 6.3.2, 6.4; RFC 8037 section 2).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class JsonFetcher(Protocol):
    """What the cache needs from ``SafeFetcher``."""

    async def get_json(self, url: str, *, max_bytes: int | None = None) -> Any: ...


def parse_jwk_set(document: object) -> tuple[Key, ...]:
    """The usable public signature keys of a JWK Set (RFC 7517 section 5); unusable entries are skipped.

    Raises ``ValueError`` if the document is not a JWK Set at all.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: list[Key] = []
    for entry in document["keys"][:MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("kty") not in ("EC", "RSA", "OKP"):
            continue
        kid = entry.get("kid")
        if _PRIVATE_MEMBERS & entry.keys() or entry.get("use", "sig") != "sig":
            continue
        if kid is not None and not (isinstance(kid, str) and KID_PATTERN.fullmatch(kid)):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SecurityWarning)  # small RSA keys are dropped just below
                key = JWKRegistry.import_key(entry)
        except Exception as exc:  # a malformed entry must not take the member's other keys down with it
            log.info("skipping a malformed JWK", extra={"error": type(exc).__name__})
            continue
        if isinstance(key, RSAKey) and key.raw_value.key_size < 2048:
            continue
        if isinstance(key, OKPKey) and key.curve_name not in ("Ed25519", "Ed448"):
            continue
        keys.append(key)
    return tuple(keys)


def check_kid(kid: object) -> str | None:
    """The ``kid`` if it is well formed (or absent); ``UnknownSigningKey`` otherwise, before any lookup."""
    if kid is None:
        return None
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise UnknownSigningKey("the key identifier is not valid", reason="invalid-kid")
    return kid


def _select(keys: tuple[Key, ...], kid: str | None, alg: str | None) -> Key | None:
    candidates = [key for key in keys if (kid is None or key.kid == kid) and _fits(key, alg)]
    if len(candidates) > 1:
        raise UnknownSigningKey("more than one key matches the key identifier", reason="ambiguous-kid")
    return candidates[0] if candidates else None


def _fits(key: Key, alg: str | None) -> bool:
    if alg is None:
        return True
    kty, crv = _ALG_KEY[alg]
    if key.key_type != kty or key.alg not in (None, alg):
        return False
    return crv is None or (isinstance(key, ECKey | OKPKey) and key.curve_name == crv)


@dataclass
class _Owner:
    """What the cache knows about one owner's keys."""

    source: str | Mapping[str, Any]
    keys: tuple[Key, ...] = ()
    loaded_at: float | None = None  # last successful load
    attempted_at: float | None = None  # last fetch started, successful or not (the cooldown's start)
    unknown: OrderedDict[str, float] = field(default_factory=OrderedDict)  # kid -> remembered until
    inflight: asyncio.Task[bool] | None = None


class JwksCache:
    """Per-owner verification keys with bounded refetching (R5). ``owner`` is a client or member id.

    ``clock`` is monotonic seconds (injectable for tests). One instance serves every owner; give it a
    fetcher whose policy allows the registered ``jwks_uri`` origins (R18).
    """

    def __init__(
        self,
        fetcher: JsonFetcher,
        *,
        cooldown: float = MIN_COOLDOWN,
        negative_ttl: float = MIN_NEGATIVE_TTL,
        max_age: float = 3600.0,
        max_unknown: int = 1024,
        max_bytes: int = 64 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cooldown < MIN_COOLDOWN or negative_ttl < MIN_NEGATIVE_TTL:
            raise ValueError("R5 requires cooldown >= 30 s and negative_ttl >= 300 s")
        self._fetcher = fetcher
        self._cooldown = cooldown
        self._negative_ttl = negative_ttl
        self._max_age = max_age
        self._max_unknown = max_unknown
        self._max_bytes = max_bytes
        self._clock = clock
        self._owners: dict[str, _Owner] = {}

    async def key_for_header(
        self, owner: str, jwks: str | Mapping[str, Any], header: Mapping[str, Any]
    ) -> Key:
        """The key for a JWS protected header; reads ``kid`` and ``alg`` only (never ``jwk``/``jku``/...)."""
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise UnknownSigningKey("the signing algorithm is not supported", reason="unsupported-alg")
        return await self.key_for(owner, jwks, header.get("kid"), alg=alg)

    async def key_for(
        self, owner: str, jwks: str | Mapping[str, Any], kid: object, *, alg: str | None = None
    ) -> Key:
        """The one key of ``owner`` with this ``kid`` that can verify ``alg``.

        ``jwks`` is the owner's registered ``jwks_uri`` or its inline JWK Set. Raises ``UnknownSigningKey``.
        """
        checked_kid = check_kid(kid)
        if alg is not None and alg not in _ALG_KEY:
            raise UnknownSigningKey("the signing algorithm is not supported", reason="unsupported-alg")
        state = self._owners.get(owner)
        if state is None or state.source != jwks:
            state = self._owners[owner] = _Owner(source=jwks)
        if not isinstance(jwks, str):
            return self._inline_key(state, jwks, checked_kid, alg)

        now = self._clock()
        memo = checked_kid or ""
        fresh = state.loaded_at is not None and now - state.loaded_at < self._max_age
        try:
            key = _select(state.keys, checked_kid, alg)
        except UnknownSigningKey:
            if fresh:
                raise
            key = None  # an ambiguous kid in a stale set: the member may have fixed it since
        if key is not None and fresh:
            return key
        if key is None and state.unknown.get(memo, now) > now:
            raise UnknownSigningKey("no key with this identifier", reason="unknown-kid")
        refreshed = await self._refresh(owner, state, jwks)
        if state.loaded_at is None:
            raise UnknownSigningKey("the signer's keys cannot be loaded", reason="jwks-unavailable")
        key = _select(state.keys, checked_kid, alg)  # the new set, or the last good one (stale-if-error)
        if key is not None:
            return key
        if refreshed:
            self._remember_unknown(state, memo)
        raise UnknownSigningKey("no key with this identifier", reason="unknown-kid")

    def _inline_key(self, state: _Owner, jwks: Mapping[str, Any], kid: str | None, alg: str | None) -> Key:
        if state.loaded_at is None:
            try:
                state.keys = parse_jwk_set(jwks)
            except ValueError as exc:
                raise UnknownSigningKey(
                    "the registered keys are not a JWK Set", reason="jwks-unavailable"
                ) from exc
            state.loaded_at = self._clock()
        key = _select(state.keys, kid, alg)
        if key is None:
            raise UnknownSigningKey("no key with this identifier", reason="unknown-kid")
        return key

    async def _refresh(self, owner: str, state: _Owner, uri: str) -> bool:
        """Fetch the owner's set unless the cooldown forbids it; True if a fetch completed successfully."""
        if state.inflight is None:
            now = self._clock()
            if state.attempted_at is not None and now - state.attempted_at < self._cooldown:
                return False
            state.attempted_at = now
            state.inflight = asyncio.get_running_loop().create_task(self._load(owner, state, uri))
            state.inflight.add_done_callback(lambda task: _settle(state, task))
        # Shielded: a caller that gives up must not cancel the fetch the other callers are waiting for.
        return await asyncio.shield(state.inflight)

    async def _load(self, owner: str, state: _Owner, uri: str) -> bool:
        try:
            document = await self._fetcher.get_json(uri, max_bytes=self._max_bytes)
            keys = parse_jwk_set(document)
        except (OutboundError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, OutboundError) else "not-a-jwk-set"
            stale = "keeping the last good set" if state.loaded_at is not None else "no keys yet"
            log.warning("JWKS fetch failed, %s", stale, extra={"owner": owner, "reason": reason})
            return False
        state.keys = keys
        state.loaded_at = self._clock()
        return True

    def _remember_unknown(self, state: _Owner, memo: str) -> None:
        state.unknown[memo] = self._clock() + self._negative_ttl
        state.unknown.move_to_end(memo)
        while len(state.unknown) > self._max_unknown:
            state.unknown.popitem(last=False)


def _settle(state: _Owner, task: asyncio.Task[bool]) -> None:
    state.inflight = None
    if not task.cancelled():
        task.exception()  # retrieved here, so that an error nobody awaited is not reported as lost
