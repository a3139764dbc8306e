"""R18: which addresses the fetcher may connect to, as a table of the ranges the requirement names."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.outbound.addresses import is_forbidden_address, unwrap_embedded_ipv4

FORBIDDEN = [
    "127.0.0.1",  # loopback
    "127.0.0.2",
    "10.1.2.3",  # RFC 1918
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.1",  # multicast (ipaddress calls it global)
    "239.255.255.250",
    "255.255.255.255",
    "203.0.113.7",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fc00::1",  # ULA
    "fd12:3456::1",
    "fe80::1",  # link-local
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
]

ALLOWED = ["1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:1.1.1.1"]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


def test_embedded_ipv4_is_unwrapped() -> None:
    assert unwrap_embedded_ipv4(ipaddress.ip_address("::ffff:10.0.0.1")) == ipaddress.ip_address("10.0.0.1")
    assert unwrap_embedded_ipv4(ipaddress.ip_address("64:ff9b::a00:1")) == ipaddress.ip_address("10.0.0.1")
    plain = ipaddress.ip_address("2606:4700:4700::1111")
    assert unwrap_embedded_ipv4(plain) == plain
