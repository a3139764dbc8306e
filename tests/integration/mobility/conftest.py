"""Two member institutions (from the OAuth fixtures) for mobility over HTTP: uni-b is the learner's home,
uni-a the host that decides."""

from integration.auth.conftest import client, reader, tenants, uni_a, uni_b

__all__ = ["client", "reader", "tenants", "uni_a", "uni_b"]
