"""The two member institutions and the app of the OAuth fixtures, for the tests that run the whole gateway."""

from integration.auth.conftest import client, reader, tenants, uni_a, uni_b

__all__ = ["client", "reader", "tenants", "uni_a", "uni_b"]
