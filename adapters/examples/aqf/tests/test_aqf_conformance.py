"""The conformance kit against this adapter: how every adapter package tests itself."""

from __future__ import annotations

from consortium_gateway_aqf import framework

from adapters.testkit import FrameworkConformance


class TestAqfConformance(FrameworkConformance):
    framework = framework
