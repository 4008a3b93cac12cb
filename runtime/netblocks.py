"""Special-purpose IP ranges an outbound request must not reach, and the reason each one is refused.

Written out rather than read off `ipaddress`'s `is_private` / `is_global`, whose ranges changed
between Python releases; `is_global` is only the last net, for ranges this table does not name.
IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by
the IPv4 address they carry, since that is where a connection to them ends up.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

PRIVATE = "private address"
LOOPBACK = "loopback address"
LINK_LOCAL = "link-local address"
MULTICAST = "multicast address"
UNSPECIFIED = "unspecified address"
RESERVED = "reserved address"
METADATA = "cloud metadata address"

# Instance metadata and platform endpoints: credentials live behind these. Only an allowed range that
# contains one lets it through (an allowed host name does not).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer: a public address, so named here
        "192.0.0.192",  # Oracle Cloud Classic
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    )
)

_V4_RANGES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", UNSPECIFIED),  # "this network": 0.0.0.0 reaches the local host on Linux
        ("10.0.0.0/8", PRIVATE),
        ("100.64.0.0/10", "shared address (carrier-grade NAT)"),
        ("127.0.0.0/8", LOOPBACK),
        ("169.254.0.0/16", LINK_LOCAL),
        ("172.16.0.0/12", PRIVATE),
        ("192.0.0.0/24", RESERVED),  # IETF protocol assignments
        ("192.0.2.0/24", RESERVED),  # documentation
        ("192.88.99.0/24", RESERVED),  # 6to4 relays
        ("192.168.0.0/16", PRIVATE),
        ("198.18.0.0/15", RESERVED),  # benchmarking
        ("198.51.100.0/24", RESERVED),  # documentation
        ("203.0.113.0/24", RESERVED),  # documentation
        ("224.0.0.0/4", MULTICAST),
        ("255.255.255.255/32", "broadcast address"),
        ("240.0.0.0/4", RESERVED),
    )
)

_V6_RANGES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", UNSPECIFIED),
        ("::1/128", LOOPBACK),
        ("64:ff9b:1::/48", PRIVATE),  # local-use NAT64
        ("100::/64", RESERVED),  # discard-only
        ("2001::/32", RESERVED),  # Teredo: the client address inside is obfuscated, so not judged
        ("2001:db8::/32", RESERVED),  # documentation
        ("fc00::/7", PRIVATE),  # unique local
        ("fe80::/10", LINK_LOCAL),
        ("fec0::/10", PRIVATE),  # site-local, deprecated
        ("ff00::/8", MULTICAST),
    )
)

_MAPPED = IPv6Network("::ffff:0:0/96")
_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")


def embedded_v4(address: IPv6Address) -> tuple[IPv4Address, str] | None:
    """The IPv4 address an IPv6 address carries, and the form that carries it; None for plain IPv6."""
    if address in _MAPPED:
        return IPv4Address(int(address) & 0xFFFFFFFF), "IPv4-mapped"
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address in _SIX_TO_FOUR:
        return IPv4Address((int(address) >> 80) & 0xFFFFFFFF), "6to4"
    if address in _COMPATIBLE and int(address) > 1:  # :: and ::1 are themselves, not IPv4
        return IPv4Address(int(address) & 0xFFFFFFFF), "IPv4-compatible"
    return None


def is_metadata(address: IPAddress) -> bool:
    """Whether address is a metadata endpoint, itself or carried inside an IPv6 form."""
    carried = embedded_v4(address) if isinstance(address, IPv6Address) else None
    return address in METADATA_ADDRESSES or (carried is not None and carried[0] in METADATA_ADDRESSES)


def refusal_of(address: IPAddress) -> str | None:
    """Why a connection to address is refused (e.g. "private address"); None for a public address."""
    if address in METADATA_ADDRESSES:
        return METADATA
    if isinstance(address, IPv4Address):
        for network, reason in _V4_RANGES:
            if address in network:
                return reason
        return None if address.is_global else RESERVED
    carried = embedded_v4(address)
    if carried is not None:
        inner, form = carried
        inner_reason = refusal_of(inner)
        if inner_reason is not None:
            return f"{inner_reason} {inner}, {form}"
        return f"{RESERVED}, {form}" if form == "IPv4-compatible" else None  # deprecated form
    for network6, reason6 in _V6_RANGES:
        if address in network6:
            return reason6
    return None if address.is_global else RESERVED
