"""Trust between members: the authorisation server, the resource server guard, and the gateway's keys.

Modules are named after the specification they implement: ``rfc7523`` (client assertions),
``rfc9068`` (JWT access tokens), ``rfc8414`` (metadata), ``rfc7662`` (introspection), ``rfc7009``
(revocation).
"""
