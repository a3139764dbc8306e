"""The SSRF-hardened outbound fetcher (R18), used for JWKS, member metadata and token requests.

Every call goes through the same steps, in this order, and refuses before sending anything:

1. the URL parses, its scheme is ``https`` (``http`` only in the loopback test mode), it has no userinfo;
2. its origin (scheme, host, port) is exactly one of the policy's allowed origins;
3. the fetcher resolves the host itself (``HostResolver``), and every address must be public
   (``addresses.is_forbidden_address``): loopback, RFC 1918, link-local, CGNAT, ULA, multicast are refused;
4. the connection uses only those checked addresses: aiohttp's resolver is replaced by one that returns the
   addresses pinned for the current call, so Host and TLS SNI stay the host name while DNS rebinding has
   nothing to rebind;
5. redirects are never followed (a 3xx is an error), the body is read as a stream and abandoned at
   ``max_bytes``, and one deadline covers resolution, connection and body.

References: R18 in shared/reference/security.md; OWASP API7:2023 (SSRF), API10:2023; RFC 8725 section 3.10.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import msgspec
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from opentelemetry.trace import NoOpTracer, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from yarl import URL

from contracts.errors import OutboundError, OutboundFailed, OutboundRefused, OutboundTimeout
from gateway.outbound.addresses import HostResolver, IPAddress, is_forbidden_address, system_resolver

__all__ = ["OutboundPolicy", "OutboundResponse", "SafeFetcher", "canonical_origin"]

T = TypeVar("T")

# The one address the loopback test mode lets through (R18: "in tests, the allowlist explicitly permits
# 127.0.0.1 fake members only"). 127.0.0.2 and the rest of 127/8 stay forbidden, even in tests.
_TEST_LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
_USER_AGENT = "consortium-gateway"
_CHUNK = 64 * 1024
# Only W3C trace context goes to members; baggage could carry anything (telemetry: no personal data).
_PROPAGATOR = TraceContextTextMapPropagator()
# Headers the fetcher sets itself; a caller's copy is dropped.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "accept-encoding"})

# The addresses checked for the call in progress: (host, addresses). Context variables are per task, so
# concurrent calls through one session never see each other's addresses.
_PINNED: contextvars.ContextVar[tuple[str, tuple[IPAddress, ...]] | None] = contextvars.ContextVar(
    "gateway_outbound_pinned", default=None
)


def canonical_origin(url: str | URL) -> str:
    """``scheme://host:port`` with the default port made explicit and the host lower-cased (RFC 6454)."""
    parsed = url if isinstance(url, URL) else URL(url)
    host = parsed.raw_host
    if not parsed.is_absolute() or not host or parsed.port is None:
        raise ValueError("not an absolute http(s) URL")
    host = host.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parsed.scheme.lower()}://{host}:{parsed.port}"


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Where the fetcher may go, how much it reads and for how long (R18).

    ``allowed_origins`` are normalised by ``canonical_origin``; each entry must be a bare origin. ``http``
    origins are accepted only with ``allow_insecure_loopback=True`` (tests), and even then a call over
    ``http`` must resolve to 127.0.0.1 and nothing else.
    """

    allowed_origins: frozenset[str]
    max_bytes: int = 1024 * 1024
    timeout: float = 10.0
    allow_insecure_loopback: bool = False

    def __post_init__(self) -> None:
        normalised = set()
        for origin in self.allowed_origins:
            parsed = URL(origin)
            if parsed.scheme not in ("https", "http") or parsed.raw_user is not None or "@" in origin:
                raise ValueError(f"not an http(s) origin: {origin!r}")
            if parsed.path not in ("", "/") or parsed.query_string or parsed.fragment:
                raise ValueError(f"an origin has no path, query or fragment: {origin!r}")
            if parsed.scheme == "http" and not self.allow_insecure_loopback:
                raise ValueError(f"http origins need allow_insecure_loopback (tests only): {origin!r}")
            normalised.add(canonical_origin(parsed))
        if self.max_bytes <= 0 or self.timeout <= 0:
            raise ValueError("max_bytes and timeout must be positive")
        object.__setattr__(self, "allowed_origins", frozenset(normalised))

    @classmethod
    def for_origins(cls, origins: Iterable[str], **kwargs: Any) -> OutboundPolicy:
        return cls(allowed_origins=frozenset(origins), **kwargs)

    def allows_origin(self, url: str | URL) -> bool:
        try:
            return canonical_origin(url) in self.allowed_origins
        except ValueError:
            return False


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    """A complete response: status, headers (case-insensitive) and the whole body, at most ``max_bytes``."""

    status: int
    headers: CIMultiDictProxy[str] = field(repr=False)
    body: bytes = field(repr=False)


class _PinnedResolver(AbstractResolver):
    """aiohttp's resolver, replaced: it answers only with the addresses the fetcher checked for this call."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        pinned = _PINNED.get()
        if pinned is None or pinned[0] != host:
            raise OSError(f"no checked address for {host!r}")
        results: list[ResolveResult] = []
        for address in pinned[1]:
            addr_family = socket.AF_INET if address.version == 4 else socket.AF_INET6
            if family in (socket.AF_UNSPEC, addr_family):
                results.append(
                    {
                        "hostname": host,
                        "host": str(address),
                        "port": port,
                        "family": addr_family,
                        "proto": socket.IPPROTO_TCP,
                        "flags": socket.AI_NUMERICHOST,
                    }
                )
        if not results:
            raise OSError(f"no checked address of family {family!r} for {host!r}")
        return results

    async def close(self) -> None:
        return None


def _span_url(target: URL) -> str:
    """``url.full`` without userinfo, query or fragment: those may carry secrets."""
    return (
        str(URL.build(scheme=target.scheme, host=target.raw_host or "", port=target.port)) + target.raw_path
    )


class SafeFetcher:
    """An HTTP client that only talks to allowed origins at public addresses (R18).

    One aiohttp session per fetcher, created on first use and closed by ``aclose()``; give each member its
    own fetcher (and so its own connection pool and allowlist). ``resolver`` replaces DNS (tests inject
    rebinding answers here); ``ssl_context`` replaces the system trust store (e.g. a test CA).
    """

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        resolver: HostResolver = system_resolver,
        tracer: Tracer | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connection_limit: int = 10,
    ) -> None:
        self.policy = policy
        self._resolver = resolver
        self._tracer = tracer or NoOpTracer()
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._limit = connection_limit
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get_json(
        self, url: str, *, max_bytes: int | None = None, accept: str = "application/json"
    ) -> Any:
        """GET a JSON document; anything but 200 with valid JSON is ``OutboundFailed``."""
        return await self._traced("GET", url, {"Accept": accept}, None, max_bytes, _json_body)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
    ) -> OutboundResponse:
        """Send one request and return the response, whatever its status (except 3xx, which is refused)."""
        return await self._traced(method.upper(), url, headers or {}, body, max_bytes, _unchanged)

    async def _traced(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        max_bytes: int | None,
        interpret: Callable[[OutboundResponse], T],
    ) -> T:
        with self._tracer.start_as_current_span(
            method, kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=False
        ) as span:
            recording = span.is_recording()
            try:
                target = self._check_url(url)
                if recording:
                    span.set_attribute("http.request.method", method)
                    span.set_attribute("url.full", _span_url(target))
                    span.set_attribute("server.address", target.raw_host or "")
                    span.set_attribute("server.port", target.port or 0)
                outgoing = {k: v for k, v in headers.items() if k.lower() not in _OWN_HEADERS}
                outgoing["Accept-Encoding"] = "identity"
                _PROPAGATOR.inject(outgoing)
                response = await self._send(
                    method, target, outgoing, body, max_bytes or self.policy.max_bytes
                )
                if recording:
                    span.set_attribute("http.response.status_code", response.status)
                result = interpret(response)
            except OutboundError as exc:
                if recording:
                    span.set_attribute("outbound.outcome", _outcome(exc))
                    span.set_attribute("error.type", exc.reason)
                    if exc.upstream_status is not None:
                        span.set_attribute("http.response.status_code", exc.upstream_status)
                    span.set_status(StatusCode.ERROR)
                raise
            if recording:
                span.set_attribute("outbound.outcome", "ok")
            return result

    def _check_url(self, url: str) -> URL:
        try:
            target = URL(url)
            netloc = urlsplit(url).netloc
        except (ValueError, TypeError) as exc:
            raise OutboundRefused("the URL is not valid", reason="url") from exc
        if not target.is_absolute() or not target.raw_host or target.port is None:
            raise OutboundRefused("the URL is not an absolute http(s) URL", reason="url")
        if target.scheme != "https" and not (target.scheme == "http" and self.policy.allow_insecure_loopback):
            raise OutboundRefused("only https URLs are allowed", reason="scheme")
        if target.raw_user is not None or target.raw_password is not None or "@" in netloc:
            raise OutboundRefused("URLs with userinfo are not allowed", reason="userinfo")
        if canonical_origin(target) not in self.policy.allowed_origins:
            raise OutboundRefused("the origin is not registered for outbound calls", reason="origin")
        return target.with_fragment(None)

    async def _checked_addresses(self, target: URL) -> tuple[IPAddress, ...]:
        host = target.raw_host or ""
        try:
            addresses: tuple[IPAddress, ...] = (ipaddress.ip_address(host),)
        except ValueError:
            try:
                addresses = tuple(await self._resolver(host, target.port or 443))
            except OSError as exc:
                raise OutboundFailed("the host name does not resolve", reason="dns") from exc
        if not addresses:
            raise OutboundFailed("the host name does not resolve", reason="dns")
        loopback_ok = self.policy.allow_insecure_loopback
        for address in addresses:
            if is_forbidden_address(address) and not (loopback_ok and address == _TEST_LOOPBACK):
                raise OutboundRefused("the host resolves to a non-public address", reason="address")
        if target.scheme == "http" and any(address != _TEST_LOOPBACK for address in addresses):
            raise OutboundRefused("plain http is allowed only to 127.0.0.1 in tests", reason="scheme")
        return addresses

    async def _send(
        self, method: str, target: URL, headers: dict[str, str], body: bytes | None, max_bytes: int
    ) -> OutboundResponse:
        try:
            async with asyncio.timeout(self.policy.timeout):
                addresses = await self._checked_addresses(target)
                pin = _PINNED.set((target.raw_host or "", addresses))
                try:
                    async with self._client().request(
                        method, target, headers=headers, data=body, allow_redirects=False
                    ) as response:
                        try:
                            return await _read(response, max_bytes)
                        except BaseException:
                            response.close()  # drop the connection rather than drain an unwanted body
                            raise
                finally:
                    _PINNED.reset(pin)
        except TimeoutError as exc:
            raise OutboundTimeout("the member did not answer in time", reason="timeout") from exc
        except aiohttp.ClientError as exc:
            raise OutboundFailed("the member could not be reached", reason="connect") from exc

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the fetcher is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_PinnedResolver(), use_dns_cache=False, ssl=self._ssl, limit=self._limit
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # no state carried from one member call to the next
                trust_env=False,  # no proxy from the environment: the checked address is where we connect
                auto_decompress=False,  # the byte cap applies to what the member sends
                timeout=aiohttp.ClientTimeout(total=None),  # one deadline, ours, covers DNS too
                headers={"User-Agent": _USER_AGENT},
            )
        return self._session


async def _read(response: aiohttp.ClientResponse, max_bytes: int) -> OutboundResponse:
    if 300 <= response.status < 400:
        raise OutboundRefused(
            "the member answered with a redirect, which is never followed",
            reason="redirect",
            upstream_status=response.status,
        )
    if response.content_length is not None and response.content_length > max_bytes:
        raise OutboundFailed("the response is too large", reason="too-large", upstream_status=response.status)
    if response.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
        raise OutboundFailed("the response is compressed", reason="encoding", upstream_status=response.status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise OutboundFailed(
                "the response is too large", reason="too-large", upstream_status=response.status
            )
        chunks.append(chunk)
    return OutboundResponse(
        status=response.status, headers=CIMultiDictProxy(CIMultiDict(response.headers)), body=b"".join(chunks)
    )


def _json_body(response: OutboundResponse) -> Any:
    if response.status != 200:
        raise OutboundFailed(
            f"the member answered {response.status}", reason="status", upstream_status=response.status
        )
    try:
        return msgspec.json.decode(response.body)
    except msgspec.DecodeError as exc:
        raise OutboundFailed("the response is not valid JSON", reason="malformed") from exc


def _unchanged(response: OutboundResponse) -> OutboundResponse:
    return response


def _outcome(exc: OutboundError) -> str:
    if isinstance(exc, OutboundRefused):
        return "refused"
    if isinstance(exc, OutboundTimeout):
        return "timeout"
    return "failed"
