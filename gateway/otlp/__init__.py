"""Span export over OTLP/HTTP: the SDK's exporter, with the batch encoding done here (``protobuf``)."""
