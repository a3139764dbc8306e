"""The OTLP/HTTP span exporter the gateway installs: the SDK's, with our batch encoding.

Everything but the encoding stays the SDK's: the endpoint, headers, TLS files, compression and timeout
from the standard ``OTEL_EXPORTER_OTLP_*`` variables, and sending with its retries (429/502/503/504 with
back-off and ``Retry-After``) and shutdown. Only the step that turns a batch into bytes is replaced, by
``protobuf.SpanEncoder``, which writes the same bytes for a third of the instructions.

That step has no public hook, so the send goes through the exporter's HTTP client (``_client``, since
opentelemetry-exporter-otlp-proto-http 1.45). Where that is missing (another version), or where the
exporter's own metrics are turned on (they are kept around the stock path), the stock ``export`` runs:
slower, never wrong. ``encodes_batches`` says which path is in use, and a test fails if the installed
version loses the fast one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from gateway.otlp.protobuf import SpanEncoder

__all__ = ["GatewaySpanExporter"]

log = logging.getLogger(__name__)

_SELF_METRICS = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"
_NO_LIMIT = 0


class GatewaySpanExporter(OTLPSpanExporter):
    """``OTLPSpanExporter`` (same arguments) whose batches are encoded by ``SpanEncoder``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = SpanEncoder()
        self._send = self._client_send()

    def _client_send(self) -> Callable[[bytes], Any] | None:
        if os.environ.get(_SELF_METRICS, "").strip().lower() == "true":
            return None
        send = getattr(getattr(self, "_client", None), "export", None)
        return send if callable(send) else None

    @property
    def encodes_batches(self) -> bool:
        """Whether batches are encoded here (else by the stock exporter)."""
        return self._send is not None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        send = self._send
        if send is None or getattr(self, "_shutdown", False):
            return super().export(spans)
        try:
            data = self._encoder.encode(spans)
        except Exception:  # an exporter must not raise into the batch processor
            log.exception("span batch not encoded")
            return SpanExportResult.FAILURE
        limit = getattr(self, "_max_request_size", _NO_LIMIT)
        if limit > 0 and len(data) > limit:
            log.warning("span batch dropped: %d bytes, more than the %d allowed", len(data), limit)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if send(data).success else SpanExportResult.FAILURE
