"""Signed webhooks for workflow events (R30): the outbox relay, Standard Webhooks signatures, dead letters.

``standard_webhooks`` signs and verifies (v1a, Ed25519); ``backoff`` decides retries; ``store`` is the SQL
of deliveries; ``relay`` claims due deliveries and sends them through the SSRF-hardened fetcher (R18);
``receiver`` is a small verifying receiver for the demo and tests; ``cli`` the operator commands.
"""
