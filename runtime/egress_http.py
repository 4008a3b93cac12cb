"""httpx clients for user-given URLs: every connection dials an address the egress policy checked.

httpcore asks its network backend to connect to (host, port); `GuardedBackend.connect_tcp` resolves
the host once through the policy, which refuses it when any of its addresses is not allowed, and
connects to one of the addresses it checked: there is no second lookup for a DNS rebinding to answer.
TLS still verifies the certificate against the URL's host name (httpcore passes it as SNI after the
dial) and the Host header is the URL's, so only the dial changes. Every redirect hop dials again,
so it is checked again; a request hook also refuses a hop that is not http(s).
"""

from __future__ import annotations

import ssl
import typing

import anyio
import httpcore
import httpx

from runtime.egress import EgressPolicy, EgressRefused

__all__ = ["MAX_REDIRECTS", "GuardedBackend", "GuardedTransport", "guarded_client"]

MAX_REDIRECTS = 5


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that dials only addresses the policy checked, one lookup per dial."""

    def __init__(self, policy: EgressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):  # a hanging resolver counts against the connect timeout
                addresses = await self.policy.addresses_for(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # each one was checked above; the name is never looked up again
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # addresses_for never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused(f"refused to connect to the unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the connection pool dialing through a GuardedBackend."""

    def __init__(
        self, policy: EgressPolicy, verify: ssl.SSLContext | bool = True, limits: httpx.Limits | None = None
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        super().__init__(verify=context, trust_env=False, limits=limits)
        # httpx takes no network backend, so its pool is rebuilt with one; the rest is httpx's own.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


def guarded_client(
    policy: EgressPolicy,
    *,
    timeout: httpx.Timeout,
    follow_redirects: bool = False,
    headers: dict[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """An httpx client for user-given URLs: every hop is checked, every dial goes to a checked address."""
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        headers=headers,
        event_hooks={"request": [policy.vet_request]},
        trust_env=False,  # an HTTP(S)_PROXY from the environment would dial for us, unchecked
    )
