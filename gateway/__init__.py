"""Consortium Gateway: the core service."""
