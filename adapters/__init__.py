"""Plug-ins of the gateway: credit frameworks, registry connectors and the conformance kit."""
