"""Runtime settings, read once from the environment and validated at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["Settings"]

_MiB = 1024 * 1024


class Settings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Every runtime knob of one gateway process.

    ``database_url`` unset means: start (or reuse) the embedded PostgreSQL in ``data_dir``.
    """

    database_url: str | None = None
    data_dir: Path = Path("var")
    # Pool bounds and waits: nothing ever waits forever for the database (R32).
    db_pool_min: Annotated[int, Meta(ge=0, le=100)] = 1
    db_pool_max: Annotated[int, Meta(ge=1, le=200)] = 10
    db_acquire_timeout: Annotated[float, Meta(gt=0, le=60)] = 5.0
    db_command_timeout: Annotated[float, Meta(gt=0, le=600)] = 10.0
    db_connect_timeout: Annotated[float, Meta(gt=0, le=60)] = 5.0
    # How long `serve` and `relay` wait at start for a database that is not accepting connections yet
    # (starting, or recovering from a crash) before they give up; 0: not at all.
    db_start_wait: Annotated[float, Meta(ge=0, le=600)] = 30.0
    migrate_on_start: bool = True
    # 1 MiB default; R17 asks for a limit well below Litestar's 10 MB default.
    max_body_bytes: Annotated[int, Meta(ge=1024, le=64 * _MiB)] = _MiB
    page_size_max: Annotated[int, Meta(ge=1, le=1000)] = 100
    # OAuth (R1-R12). The issuer is the authorisation server's identifier and the sole `aud` of client
    # assertions; access tokens are for `audience` (default: the issuer).
    issuer: Annotated[str, Meta(pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")] = "http://127.0.0.1:8000"
    audience: str | None = None
    access_token_ttl: Annotated[int, Meta(ge=30, le=300)] = 300
    access_token_alg: Literal["Ed25519", "ES256", "PS256"] = "Ed25519"
    keys_dir: Path | None = None
    # How often each process reloads clients, keys and revocations: the bound on revocation delay (R9).
    trust_refresh_interval: Annotated[float, Meta(gt=0, le=5)] = 2.0
    token_cache_size: Annotated[int, Meta(ge=0, le=1_000_000)] = 10_000
    # Tests and the demo only: let outbound calls (JWKS, members) reach http://127.0.0.1 origins that are
    # registered. Production outbound calls are HTTPS to public addresses only (R18).
    outbound_allow_loopback: bool = False
    # The webhook relay (R30): inside every serving process unless disabled (then run `consortium-gateway
    # relay` beside it). Timeout per delivery 15-30 s (R30); the first retry waits up to `retry_base` s.
    relay_enabled: bool = True
    relay_poll_interval: Annotated[float, Meta(gt=0, le=60)] = 0.5
    # Decided mobility requests are closed by the gateway once their appeal window has ended: how often
    # each serving process looks for them.
    mobility_close_interval: Annotated[float, Meta(gt=0, le=86_400)] = 60.0
    webhook_timeout: Annotated[float, Meta(gt=0, le=60)] = 15.0
    webhook_retry_base: Annotated[float, Meta(gt=0, le=3600)] = 5.0
    # Federated lookup (R25-R27): the overall deadline of a lookup (a client may ask for less with the
    # Request-Timeout-Ms header), and each member's reliability policy.
    lookup_deadline: Annotated[float, Meta(gt=0, le=30)] = 2.0
    # Of a lookup's deadline, what is kept for the answer: members are cut off this much earlier, so that the
    # merged, audited answer is sent by the deadline rather than after it. The margin is learnt from how long
    # answers took after the cut-off (gateway.lookup.margin), from the floor up to the ceiling, and is never
    # more than a tenth of the budget.
    lookup_answer_margin: Annotated[float, Meta(ge=0, le=1)] = 0.01
    lookup_answer_margin_max: Annotated[float, Meta(ge=0, le=1)] = 0.05
    member_max_in_flight: Annotated[int, Meta(ge=1, le=1000)] = 32
    # The HTTP client of members' registry calls (adapters.connectors.member_client): pyreqwest costs half
    # the CPU of aiohttp per call here (docs/benchmarks.md); aiohttp stays one setting away.
    member_http_client: Literal["pyreqwest", "aiohttp"] = "pyreqwest"
    member_queue_wait: Annotated[float, Meta(ge=0, le=10)] = 0.25
    member_breaker_failures: Annotated[int, Meta(ge=1, le=1000)] = 5
    member_breaker_open_for: Annotated[float, Meta(gt=0, le=600)] = 5.0
    member_attempts: Annotated[int, Meta(ge=1, le=3)] = 2
    members_refresh_interval: Annotated[float, Meta(gt=0, le=300)] = 5.0
    # Serving workers only (gateway.heap): after start-up the collector's youngest generation is collected
    # once this many objects are pending, instead of Python's 700; 0 keeps Python's threshold.
    gc_gen0_threshold: Annotated[int, Meta(ge=0, le=1_000_000)] = 100_000
    # Serving workers only (gateway.affinity): "auto" pins each worker to a CPU of its own, for hosts whose
    # CPUs are the gateway's alone; "off" leaves placement to the scheduler.
    worker_cpu_affinity: Literal["off", "auto"] = "off"
    # Serving workers only (gateway.scheduling): "batch" runs every thread of a worker under SCHED_BATCH, so
    # the worker's own hand-offs between its threads do not preempt; "normal" leaves the system's default.
    worker_scheduling: Literal["batch", "normal"] = "batch"
    log_level: str = "INFO"
    log_format: str = "json"
    trace_console: bool = False

    @property
    def token_audience(self) -> str:
        return self.audience or self.issuer

    @property
    def signing_keys_dir(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``GATEWAY_*`` variables (and ``DATABASE_URL``), then explicit overrides."""
        env = os.environ if env is None else env
        raw: dict[str, object] = {}
        if env.get("DATABASE_URL"):
            raw["database_url"] = env["DATABASE_URL"]
        for field in msgspec.structs.fields(cls):
            value = env.get(f"GATEWAY_{field.name.upper()}")
            if value is not None:
                raw[field.name] = value
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_decode_path)
        except msgspec.ValidationError as exc:
            # Name the variable the operator set, not the internal field path.
            message = re.sub(r"`\$\.(\w+)`", lambda m: f"GATEWAY_{m[1].upper()}", str(exc))
            raise ValueError(f"invalid gateway setting: {message}") from exc


def _decode_path(type_: type, obj: object) -> object:
    if type_ is Path and isinstance(obj, str | Path):
        return Path(obj)
    raise NotImplementedError
