"""The consortium registry: members, their frameworks, connectors, endpoints and keys."""
