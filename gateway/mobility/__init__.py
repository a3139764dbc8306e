"""Learner mobility and credit-transfer requests: a durable registrar workflow (issue 7).

``workflow`` is the pure transition table and SLA clock; ``models`` the Structs on the wire; ``store`` the
one-statement writes (request + audit + event + idempotency record); ``service`` the decisions; ``routes``
the HTTP surface. Webhook delivery of the events is ``gateway.webhooks``.
"""
