"""Several sandbox registries on one background thread with its own event loop.

For the demo, tests and benchmarks: the gateway runs on its own loop (or in another process), the member
registries on this one, so a hung member is a real hung server, not a blocked test. Each member gets its
own port, its own generated data (shared learners included), and its own ``SandboxAuthority`` that trusts
the gateway's client (``client_id``, its keys from ``client_jwks_uri`` or set later with
``trust_client_keys``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.connectors.sandbox.authority import SandboxAuthority
from adapters.connectors.sandbox.data import SandboxData, SharedLearner
from adapters.connectors.sandbox.faults import FaultMode, MalformedKind
from adapters.connectors.sandbox.server import RunningSandbox, run_sandbox

__all__ = ["MemberSandbox", "SandboxCluster", "SandboxSpec"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """One member's sandbox: who, in which framework, where, with which learners."""

    member_id: str
    framework: str
    port: int = 0
    seed: str = "demo"
    learners: int = 20
    courses: int = 8
    shared: tuple[SharedLearner, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberSandbox:
    """A running member sandbox: its base URL, its authorization server's issuer and token endpoint."""

    spec: SandboxSpec
    running: RunningSandbox
    authority: SandboxAuthority

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def issuer(self) -> str:
        return self.authority.issuer

    @property
    def token_endpoint(self) -> str:
        return f"{self.running.base_url}/oauth/token"


@dataclass
class SandboxCluster:
    """Start with ``start()``, stop with ``stop()`` (or use as a context manager)."""

    specs: Sequence[SandboxSpec]
    client_id: str
    client_jwks_uri: str | None = None
    issuer_template: str = "https://registry.{member}"
    admin_secret: str | None = None
    members: dict[str, MemberSandbox] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stack: AsyncExitStack | None = None

    def __enter__(self) -> SandboxCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> dict[str, MemberSandbox]:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="sandbox-cluster", daemon=True)
        self._thread.start()
        try:
            self.run(self._start())
        except BaseException:
            self.stop()
            raise
        return self.members

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the cluster's loop and wait for its result."""
        assert self._loop is not None, "the cluster is not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def set_fault(
        self, member: str, mode: FaultMode, *, delay_ms: int = 0, malformed_kind: MalformedKind = "not-json"
    ) -> None:
        faults = self.members[member].running.faults

        async def apply() -> None:
            faults.set(mode, delay_ms=delay_ms, malformed_kind=malformed_kind)

        self.run(apply())

    def trust_client_keys(self, jwks: dict[str, Any]) -> None:
        """Make every member's authority trust these public keys of the gateway's client."""
        for sandbox in self.members.values():
            sandbox.authority.trust_client_keys(jwks)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._stack is not None and loop.is_running():
            for sandbox in self.members.values():
                loop.call_soon_threadsafe(sandbox.running.faults.release_hung)
            asyncio.run_coroutine_threadsafe(self._stack.aclose(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = self._stack = None

    async def _start(self) -> None:
        stack = AsyncExitStack()
        self._stack = stack
        for spec in self.specs:
            data = SandboxData.generate(
                spec.member_id,
                spec.framework,
                spec.seed,
                learners=spec.learners,
                courses=spec.courses,
                shared=spec.shared,
            )
            authority = SandboxAuthority(
                issuer=self.issuer_template.format(member=spec.member_id),
                client_id=self.client_id,
                client_jwks_uri=self.client_jwks_uri,
            )
            running = await stack.enter_async_context(
                run_sandbox(data, authority=authority, port=spec.port, admin_secret=self.admin_secret)
            )
            self.members[spec.member_id] = MemberSandbox(spec, running, authority)
