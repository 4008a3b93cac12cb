"""The egress guard: outbound requests to user-given URLs reach public addresses only, unless allowed.

A from-url fetch or a webhook names a URL that a user chose, so without a guard it can reach the
services' own network: loopback, private ranges, cloud metadata (SSRF). This module decides what may
be reached (`EgressPolicy`, over the ranges of runtime/netblocks.py); runtime/egress_http.py makes
every connection of an httpx client go through it, to an address it checked.

Errors (a branch of runtime/errors.py's tree)::

    PermanentError
    └── EgressRefused      the URL, a redirect hop or an address of its host is not allowed
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx

from runtime.errors import PermanentError
from runtime.netblocks import IPAddress, is_metadata, refusal_of
from runtime.settings import EgressSettings

__all__ = [
    "EgressPolicy",
    "EgressRefused",
    "literal_address",
    "open_policy",
    "shown_address",
    "system_resolve",
]

SCHEMES = ("http", "https")
ALLOW_HINT = "set AODIO_EGRESS_ALLOW to allow it"

Resolver = Callable[[str, int], Awaitable[list[str]]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# What inet_aton reads as an IPv4 address: 2130706433, 0177.0.0.1, 0x7f.1, 127.1 (all 127.0.0.1).
_NUMERIC_V4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)


class EgressRefused(PermanentError):
    """A connection the egress guard would not open; `reason` says why and what to do."""


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address of host, in the system resolver's order (getaddrinfo, in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def literal_address(host: str) -> IPAddress | None:
    """The IP address a URL host spells, in any spelling getaddrinfo accepts; None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC_V4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare.rstrip(".")))
        except OSError:
            return None
    return None


def shown_address(address: IPAddress) -> str:
    """An address as people write it: IPv4-mapped ones dotted (::ffff:10.0.0.1), as Python 3.13 does."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


@dataclass(frozen=True)
class EgressPolicy:
    """What outbound requests may reach: public addresses, plus the allowance (AODIO_EGRESS_ALLOW)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    resolve: Resolver = field(default=system_resolve, compare=False)

    @classmethod
    def from_settings(cls, settings: EgressSettings, resolve: Resolver = system_resolve) -> EgressPolicy:
        """The policy the settings describe."""
        return cls(settings.allowed_hosts, settings.allowed_networks, resolve)

    def describe(self) -> str:
        """The allowance, for the start-up log line; empty when nothing private is allowed."""
        return ", ".join([*(str(n) for n in self.networks), *sorted(self.hosts)])

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why connecting to address for host is refused; None when it is allowed."""
        reason = refusal_of(address)
        if reason is None or self._in_allowed_range(address):
            return None
        if _host_key(host) in self.hosts and not is_metadata(address):
            return None
        return reason

    def check_address(self, host: str, address: IPAddress) -> None:
        """Raise EgressRefused when address may not be reached for host."""
        reason = self.refusal(host, address)
        if reason is not None:
            shown = shown_address(address)
            named = "" if _host_key(host) == shown else f" for host {host}"
            raise EgressRefused(f"refused to connect to {shown} ({reason}){named}: {ALLOW_HINT}")

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or whose host spells a refused IP; names wait for the dial."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            raise EgressRefused(f"refused {url[:100]!r}: only http(s) URLs with a host are fetched")
        address = literal_address(parts.hostname)
        if address is not None:
            self.check_address(parts.hostname, address)

    async def vet_request(self, request: httpx.Request) -> None:
        """httpx request hook: runs on the first request and again on every redirect hop."""
        self.check_url(str(request.url))

    async def addresses_for(self, host: str, port: int) -> list[str]:
        """Resolve host once and return its addresses, all checked; raise EgressRefused if any is refused."""
        literal = literal_address(host)
        if literal is not None:
            self.check_address(host, literal)
            return [str(literal)]
        try:
            found = await self.resolve(host, port)
        except OSError as exc:  # socket.gaierror: the name does not resolve
            raise httpcore.ConnectError(f"could not resolve {host}: {exc.strerror or exc}") from exc
        if not found:
            raise httpcore.ConnectError(f"could not resolve {host}: no address")
        for text in found:
            self.check_address(host, ipaddress.ip_address(text))  # any refused address refuses the host
        return found

    def _in_allowed_range(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(c.version == n.version and c in n for c in candidates for n in self.networks)


def open_policy(settings: EgressSettings, log: logging.Logger, uses: str) -> EgressPolicy:
    """A service's policy at start-up; an allowance weakens the guard, so it is logged as a warning."""
    policy = EgressPolicy.from_settings(settings)
    if policy.describe():
        log.warning(
            "%s may reach these private hosts and ranges (AODIO_EGRESS_ALLOW): %s", uses, policy.describe()
        )
    return policy


def _host_key(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")
