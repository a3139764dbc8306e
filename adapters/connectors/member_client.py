"""The gateway's HTTP clients for members' registry calls, behind ``contracts.connectors.MemberHttpClient``.

A connector needs of its HTTP client only this: send a GET with some headers, never follow a redirect,
and give back the status, the media type and a body of at most so many bytes (counted after
decompression). Two clients do that here:

- ``AiohttpClient``: an ``aiohttp.ClientSession`` (the one the connector is given, or its own);
- ``ReqwestClient``: pyreqwest, Rust's reqwest on a Tokio runtime of its own. Measured here it costs half
  the CPU of aiohttp per member call with the gateway's event loop (``shared/reference/performance.md``;
  ``docs/benchmarks.md``), and member calls are most of a lookup's CPU.

Failures are the contract's, so a connector maps them without knowing the client: ``TimeoutError``,
``MemberConnectFailed``, ``MemberTransportFailed``, ``MemberBodyTooLarge``. Deadlines are the caller's: a
call is cancelled from outside (``adapters.deadlines``), so neither client arms a timer of its own per call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, TypeVar

import aiohttp
from pyreqwest.client import ClientBuilder
from pyreqwest.exceptions import ConnectError, RequestError
from pyreqwest.response import Response
from yarl import URL

from contracts.connectors import (
    MemberAnswer,
    MemberBodyTooLarge,
    MemberConnectFailed,
    MemberHttpClient,
    MemberTransportFailed,
)

__all__ = ["AiohttpClient", "ClientKind", "ReqwestClient", "as_member_client", "new_member_client"]

ClientKind = Literal["aiohttp", "pyreqwest"]
R = TypeVar("R")
_CHUNK = 64 * 1024
# Seconds to open a connection; a call's deadline ends it sooner when nearer. Either client raises
# ``TimeoutError`` when it passes, as when the deadline does.
_CONNECT_TIMEOUT = 5.0
_NO_TYPE = "application/octet-stream"  # what aiohttp reports for an answer without Content-Type


async def _capped(
    read: Callable[[R, int], Awaitable[bytes | memoryview]],
    response: R,
    status: int,
    limit: int,
    error_limit: int,
) -> bytes | memoryview:
    """The body by ``read``: a 200's at most ``limit`` bytes, any other status's at most ``error_limit``,
    an error body over that dropped (its status still counts)."""
    try:
        return await read(response, limit if status == 200 else error_limit)
    except MemberBodyTooLarge:
        if status == 200:
            raise
        return b""


def _media_type(value: str | None) -> str:
    if not value:
        return _NO_TYPE
    return value.partition(";")[0].strip().lower() or _NO_TYPE


class AiohttpClient:
    """``MemberHttpClient`` over an ``aiohttp.ClientSession`` (closed by ``close`` only if it is owned)."""

    # The call runs under its caller's deadline: a second, aiohttp-level timer for the whole request would
    # only add cost (and the session's default of 5 minutes must not apply either). Only opening a new
    # connection is bounded here, as pyreqwest's is. A request's timeout replaces the session's entirely.
    _HELD_BY_CALLER = aiohttp.ClientTimeout(
        total=None, connect=None, sock_read=None, sock_connect=_CONNECT_TIMEOUT
    )

    def __init__(self, session: aiohttp.ClientSession, *, owned: bool = False) -> None:
        self.session = session
        self._owned = owned

    @classmethod
    def new(cls, limit: int) -> AiohttpClient:
        """A session of its own: ``limit`` connections; no cookie jar (a cookie a member sets while
        answering one caller's lookup must not go back to it with the next caller's); no proxy from the
        environment."""
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, limit_per_host=limit),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
        return cls(session, owned=True)

    async def get(
        self, url: str, headers: Mapping[str, str], *, limit: int, error_limit: int
    ) -> MemberAnswer:
        try:
            async with self.session.get(
                URL(url, encoded=True), headers=headers, allow_redirects=False, timeout=self._HELD_BY_CALLER
            ) as response:
                body = await _capped(_read_aiohttp, response, response.status, limit, error_limit)
                return MemberAnswer(response.status, response.content_type, body)
        except TimeoutError:  # aiohttp's connect timeout is also a ClientConnectionError: keep it a timeout
            raise
        except aiohttp.ClientConnectionError as exc:
            raise MemberConnectFailed(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise MemberTransportFailed(str(exc)) from exc

    async def close(self) -> None:
        if self._owned:
            await self.session.close()


async def _read_aiohttp(response: aiohttp.ClientResponse, limit: int) -> bytes:
    length = response.content_length
    if length is not None:
        if length > limit:
            raise MemberBodyTooLarge
        if "Content-Encoding" not in response.headers:
            # The parser stops at the declared length, so the body is at most that: one read.
            return await response.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise MemberBodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class ReqwestClient:
    """``MemberHttpClient`` over a pyreqwest ``Client``: ``limit`` connections, no redirects, no cookies, no
    proxy from the environment; gzip, brotli, zstd and deflate answers are decompressed (and capped after)."""

    def __init__(self, limit: int) -> None:
        self._client = (
            ClientBuilder()
            .max_connections(limit)
            .follow_redirects(False)
            .default_cookie_store(False)
            .no_proxy()
            .connect_timeout(dt.timedelta(seconds=_CONNECT_TIMEOUT))
            .build()
        )

    async def get(
        self, url: str, headers: Mapping[str, str], *, limit: int, error_limit: int
    ) -> MemberAnswer:
        request = self._client.get(url).headers(headers).build_streamed()
        try:
            async with request as response:
                body = await _capped(_read_reqwest, response, response.status, limit, error_limit)
                return MemberAnswer(response.status, _media_type(response.get_header("content-type")), body)
        except TimeoutError:  # pyreqwest's timeouts are also RequestErrors: keep them timeouts
            raise
        except ConnectError as exc:
            raise MemberConnectFailed(exc.message) from exc
        except RequestError as exc:
            raise MemberTransportFailed(exc.message) from exc

    async def close(self) -> None:
        await self._client.close()


async def _read_reqwest(response: Response, limit: int) -> bytes | memoryview:
    reader = response.body_reader
    declared = response.get_header("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise MemberBodyTooLarge
        if response.get_header("content-encoding") is None:
            # hyper stops at the declared length, so the body is at most that: one read.
            return memoryview(await reader.bytes())
    chunks: list[bytes] = []
    size = 0
    while (chunk := await reader.read(_CHUNK)) is not None:
        size += len(chunk)
        if size > limit:
            raise MemberBodyTooLarge
        chunks.append(bytes(chunk))
    return b"".join(chunks)


def new_member_client(kind: ClientKind, limit: int) -> MemberHttpClient:
    """A member's client of ``kind``, ``limit`` connections at most."""
    if kind == "pyreqwest":
        return ReqwestClient(limit)
    return AiohttpClient.new(limit)


def as_member_client(session: MemberHttpClient | aiohttp.ClientSession) -> MemberHttpClient:
    """``session`` as a ``MemberHttpClient``: an ``aiohttp.ClientSession`` is wrapped (and stays its
    owner's)."""
    if isinstance(session, aiohttp.ClientSession):
        return AiohttpClient(session)
    return session
