"""Which IP addresses an outbound call may reach, and how host names become addresses (R18).

The fetcher resolves names itself, checks every address here, and connects only to the addresses it
checked, so a DNS answer that changes between the check and the connection (rebinding) cannot redirect it.
Resolution is a plain async callable (``HostResolver``) so that tests can inject answers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["HostResolver", "IPAddress", "is_forbidden_address", "system_resolver", "unwrap_embedded_ipv4"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Resolves (host, port) to the addresses a connection may use. Raises OSError when the name does not resolve.
HostResolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

# Named explicitly (R18), on top of ``is_global``, so that the rule does not depend on which Python release
# maintains the IANA special-purpose registry tables in ``ipaddress``.
_FORBIDDEN_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # CGNAT shared address space, RFC 6598
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, including cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",  # unspecified
        "::1/128",  # loopback
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "ff00::/8",  # multicast
    )
)

# NAT64 well-known prefix (RFC 6052): the last 32 bits are an IPv4 address a translator would reach.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def unwrap_embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4, Teredo), else the address.

    ``::ffff:127.0.0.1`` reaches 127.0.0.1, so it must be judged as 127.0.0.1 (Python 3.11's ``ipaddress``
    does not do this for ``is_private``).
    """
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return address


def is_forbidden_address(address: IPAddress) -> bool:
    """True for anything but a public unicast address: loopback, RFC 1918, link-local, CGNAT, ULA,
    multicast, reserved and documentation ranges (R18)."""
    for candidate in {address, unwrap_embedded_ipv4(address)}:
        if not candidate.is_global or candidate.is_multicast:
            return True
        if any(candidate.version == net.version and candidate in net for net in _FORBIDDEN_NETWORKS):
            return True
    return False


async def system_resolver(host: str, port: int) -> Sequence[IPAddress]:
    """Resolve with the operating system's resolver (``getaddrinfo``), TCP addresses only."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # Scoped IPv6 addresses come back as "fe80::1%eth0"; the scope is dropped, the address still checked.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
