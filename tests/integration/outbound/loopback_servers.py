"""Types shared by the outbound integration tests and their fixtures (``conftest.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class LoopbackServer:
    """A running aiohttp app; ``requests`` lists the path (with query) of every request it received."""

    host: str
    port: int
    requests: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path


@dataclass
class InternalServer:
    """A bare TCP listener standing for an internal admin service; it counts connections."""

    host: str
    port: int
    connections: int = 0


# serve(routes, host="127.0.0.1", port=0) and internal(port=0), the fixtures' factories.
ServeApp = Callable[..., Awaitable[LoopbackServer]]
StartInternal = Callable[..., Awaitable[InternalServer]]


class FakeClock:
    """Seconds that pass only when the test says so (starts at the real time, for JWT ``iat``/``exp``)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
