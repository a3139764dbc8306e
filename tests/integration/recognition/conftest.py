"""Two member institutions (from the OAuth fixtures) for recognition over HTTP."""

from integration.auth.conftest import client, reader, tenants, uni_a, uni_b

__all__ = ["client", "reader", "tenants", "uni_a", "uni_b"]
