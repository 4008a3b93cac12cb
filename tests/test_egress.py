"""The egress guard: from-url fetches and webhooks never reach loopback, private or metadata addresses.

Nothing here leaves the machine, guard or no guard: an autouse trap stops every TCP connect beyond
loopback before it is made (and fails the test), and host names resolve through a table of this
file's own (`.test` names), so no DNS query is sent for them. The fetches go through the real ingest
app over a real nats-server; the webhooks through the notify stage in the real consume loop.
"""

from __future__ import annotations

import asyncio
import errno
import http.server
import ipaddress
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import msgspec
import pytest

from contracts.subjects import message_id
from runtime.egress import EgressPolicy, EgressRefused
from runtime.egress_http import MAX_REDIRECTS, guarded_client
from runtime.netblocks import refusal_of
from runtime.settings import EgressSettings, StorageSettings
from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from services.notify.config import NotifySettings
from services.notify.handler import Receipt, receipt_key
from tests.test_notify import completed, new_job, notify_settled, run_notify
from tests.test_worker import publish

AUDIO = (Path(__file__).parent / "fixtures" / "audio" / "en_short.wav").read_bytes()
PUBLIC = "93.184.216.34"  # a public address: dialled only where a test says so, and then refused
LOOPBACK_ONLY = EgressPolicy.from_settings(EgressSettings(allow="127.0.0.1/32"))

# What the test resolver answers; a name not here (and not numeric) does not resolve.
NAMES: dict[str, list[str]] = {
    "localhost": ["127.0.0.1", "::1"],
    "evil.test": ["10.1.2.3"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": [PUBLIC, "192.168.1.20"],  # one public address does not make up for a private one
    "hooks.test": ["127.0.0.1"],
    "other.test": ["127.0.0.1"],
}
# Answers in turn, the last one repeating: a rebinding name, public when checked, private after.
REBINDING: dict[str, list[list[str]]] = {"rebind.test": [[PUBLIC], ["10.0.0.1"]]}


# --------------------------------------------------------------------------- the trap


@dataclass
class Trap:
    """Every TCP connect this process tries, and every name it looks up; beyond loopback, none is made."""

    dialled: list[tuple[str, int]] = field(default_factory=list)
    stopped: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)  # dialled on purpose: refused (ECONNREFUSED), no failure
    answered: dict[str, int] = field(default_factory=dict)

    def check(self, sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host, port = str(address[0]), int(address[1])
        self.dialled.append((host, port))
        if _is_loopback(host):
            return
        self.stopped.append((host, port))
        if host in self.expected:
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"the test trap refused {host}")
        raise AssertionError(f"a test tried to connect to {host}:{port}, beyond loopback")

    def dialled_port(self, port: int) -> list[tuple[str, int]]:
        return [d for d in self.dialled if d[1] == port]

    def resolve(self, host: str) -> list[str] | None:
        name = host.lower().rstrip(".")
        self.lookups.append(name)
        if name in REBINDING:
            turn = self.answered.get(name, 0)
            self.answered[name] = turn + 1
            return REBINDING[name][min(turn, len(REBINDING[name]) - 1)]
        return NAMES.get(name)


def _is_loopback(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@pytest.fixture(autouse=True)
def no_escape(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trap]:
    """socket.connect / connect_ex checked before the real call (asyncio and anyio dial through them)."""
    trap = Trap()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        trap.check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        trap.check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0):  # type: ignore[no-untyped-def]
        if host is None:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        name = host.decode() if isinstance(host, bytes) else str(host)
        answers = trap.resolve(name)
        if answers is None:  # numeric hosts only (2130706433 and 0x7f.1 included): never a DNS query
            try:
                return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:
                raise socket.gaierror(socket.EAI_NONAME, f"{name} is not a test name") from None
        number = int(port or 0)
        found = []
        for answer in answers:
            v6 = ":" in answer
            if family not in (0, socket.AF_INET6 if v6 else socket.AF_INET):
                continue
            sockaddr = (answer, number, 0, 0) if v6 else (answer, number)
            found.append((socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM, 6, "", sockaddr))
        return found

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield trap
    unexpected = [d for d in trap.stopped if d[0] not in trap.expected]
    assert not unexpected, f"connections beyond loopback were tried: {unexpected}"


async def test_the_trap_stops_a_connection_beyond_loopback_before_it_is_made(no_escape: Trap) -> None:
    with socket.socket() as sock:
        with pytest.raises(AssertionError, match=r"10\.255\.255\.1"):
            sock.connect(("10.255.255.1", 9))
        with pytest.raises(OSError):
            sock.getpeername()  # not connected: the real connect never ran
        sock.setblocking(False)
        with pytest.raises(AssertionError):
            sock.connect_ex(("10.255.255.1", 9))
    with pytest.raises(AssertionError):
        socket.create_connection(("10.255.255.1", 9), timeout=1)
    with pytest.raises(AssertionError):
        await asyncio.open_connection("10.255.255.1", 9)  # the selector loop's sock.connect
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 80)  # a real name is never looked up
    assert socket.getaddrinfo("2130706433", 80)[0][4][0] == "127.0.0.1"  # numeric forms still parse
    assert {host for host, _ in no_escape.stopped} == {"10.255.255.1"}
    no_escape.stopped.clear()


# --------------------------------------------------------------------------- a local origin


class Origin:
    """A real HTTP server on 127.0.0.1: serves a recording, takes webhooks, redirects where told."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        origin = self

        class Handle(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.answer(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                origin.answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.port = self._server.server_port
        self.base = f"http://127.0.0.1:{self.port}"

    def answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        self.requests.append((handler.command, handler.path))
        parts = urlsplit(handler.path)
        status, headers, body = 404, {}, b""
        if parts.path == "/redirect":
            status, headers = 302, {"Location": parse_qs(parts.query)["to"][0]}
        elif parts.path == "/loop":
            status, headers = 302, {"Location": "/loop"}
        elif handler.command == "POST" or parts.path == "/talk.wav":
            status, body = 200, (AUDIO if handler.command == "GET" else b"")
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def redirect(self, to: str) -> str:
        return f"{self.base}/redirect?to={quote(to, safe='')}"

    def __enter__(self) -> Origin:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with Origin() as server:
        yield server


@pytest.fixture
def fresh(origin: Origin) -> Origin:
    origin.requests.clear()
    return origin


@dataclass
class Ingest:
    client: httpx.AsyncClient
    artifacts: Path

    def stored(self) -> set[Path]:
        return set(self.artifacts.rglob("*")) if self.artifacts.exists() else set()

    async def fetch(self, url: str) -> httpx.Response:
        return await self.client.post("/v1/jobs/from-url", json={"url": url})


@asynccontextmanager
async def ingest(bus, root: Path, egress: EgressPolicy | None) -> AsyncIterator[Ingest]:  # type: ignore[no-untyped-def]
    """The real ingest app over the test's namespace, artifacts in a directory."""
    storage = StorageSettings(backend="directory", directory=root / "artifacts", scratch_dir=root / "scratch")
    app = create_app(IngestSettings(api_keys="", max_upload_bytes=8 * 1024**2), bus.settings, storage, egress)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingest", timeout=60
        ) as client,
    ):
        yield Ingest(client, root / "artifacts")


@pytest.fixture
async def strict_api(bus, tmp_path: Path) -> AsyncIterator[Ingest]:
    """The ingest app as deployed by default: no allowance."""
    async with ingest(bus, tmp_path, None) as api:
        yield api


@pytest.fixture
async def loopback_api(bus, tmp_path: Path) -> AsyncIterator[Ingest]:
    """The ingest app with AODIO_EGRESS_ALLOW=127.0.0.1/32: the origin is allowed, nothing else is."""
    async with ingest(bus, tmp_path, LOOPBACK_ONLY) as api:
        yield api


# --------------------------------------------------------------------------- what is refused

REFUSED = [
    pytest.param("http://127.0.0.1:{port}/talk.wav", "to 127.0.0.1 (loopback address):", id="loopback"),
    pytest.param("http://[::1]:{port}/talk.wav", "to ::1 (loopback address)", id="loopback-v6"),
    pytest.param("http://localhost:{port}/talk.wav", "(loopback address) for host localhost", id="localhost"),
    pytest.param("http://10.0.0.5/talk.wav", "to 10.0.0.5 (private address)", id="private-10"),
    pytest.param("http://192.168.1.10/talk.wav", "to 192.168.1.10 (private address)", id="private-192"),
    pytest.param("http://172.16.0.1/talk.wav", "to 172.16.0.1 (private address)", id="private-172"),
    pytest.param(
        "http://169.254.169.254/latest/meta-data/", "169.254.169.254 (cloud metadata address)", id="metadata"
    ),
    pytest.param(
        "http://evil.test/talk.wav", "to 10.1.2.3 (private address) for host evil.test", id="name-to-private"
    ),
    pytest.param(
        "http://mixed.test/talk.wav",
        "to 192.168.1.20 (private address) for host mixed.test",
        id="one-private",
    ),
    pytest.param(
        "http://[::ffff:10.0.0.1]/talk.wav",
        "to ::ffff:10.0.0.1 (private address 10.0.0.1, IPv4-mapped)",
        id="v4-mapped",
    ),
    pytest.param(
        "http://[::ffff:7f00:1]:{port}/talk.wav",
        "to ::ffff:127.0.0.1 (loopback address 127.0.0.1, IPv4-mapped)",
        id="v4-mapped-hex",
    ),
    pytest.param("http://[64:ff9b::a00:1]/talk.wav", "(private address 10.0.0.1, NAT64)", id="nat64"),
    pytest.param(
        "http://2130706433:{port}/talk.wav",
        "to 127.0.0.1 (loopback address) for host 2130706433",
        id="decimal",
    ),
    pytest.param(
        "http://0177.0.0.1:{port}/talk.wav", "to 127.0.0.1 (loopback address) for host 0177.0.0.1", id="octal"
    ),
    pytest.param(
        "http://0x7f.1:{port}/talk.wav", "to 127.0.0.1 (loopback address) for host 0x7f.1", id="hex"
    ),
    pytest.param("http://0.0.0.0:{port}/talk.wav", "to 0.0.0.0 (unspecified address)", id="unspecified"),
]

REDIRECTED = [
    pytest.param("http://10.1.2.3/talk.wav", "to 10.1.2.3 (private address)", id="to-private"),
    pytest.param(
        "http://evil.test/talk.wav", "to 10.1.2.3 (private address) for host evil.test", id="to-name"
    ),
    pytest.param("http://[::1]:{port}/talk.wav", "to ::1 (loopback address)", id="to-loopback-v6"),
    pytest.param(
        "http://localhost:{port}/talk.wav", "to ::1 (loopback address) for host localhost", id="to-localhost"
    ),
    pytest.param("http://169.254.169.254/", "169.254.169.254 (cloud metadata address)", id="to-metadata"),
    pytest.param(
        "http://167772161/talk.wav", "to 10.0.0.1 (private address) for host 167772161", id="to-decimal"
    ),
    pytest.param("file:///etc/passwd", "only http(s) URLs", id="to-file"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_a_fetch_of_a_refused_address_answers_422_with_the_reason_and_stores_nothing(
    strict_api: Ingest, fresh: Origin, no_escape: Trap, url: str, reason: str
) -> None:
    before = strict_api.stored()
    reply = await strict_api.fetch(url.format(port=fresh.port))

    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert reason in detail and "set AODIO_EGRESS_ALLOW to allow it" in detail
    assert strict_api.stored() == before
    assert fresh.requests == [] and no_escape.dialled_port(fresh.port) == []


@pytest.mark.parametrize(("target", "reason"), REDIRECTED)
async def test_a_redirect_from_an_allowed_origin_to_a_refused_address_is_not_followed(
    loopback_api: Ingest, fresh: Origin, no_escape: Trap, target: str, reason: str
) -> None:
    before = loopback_api.stored()
    url = fresh.redirect(target.format(port=fresh.port))
    reply = await loopback_api.fetch(url)

    assert reply.status_code == 422, reply.text
    assert reason in reply.json()["detail"]
    assert loopback_api.stored() == before
    assert [path for _, path in fresh.requests] == [urlsplit(url).path + "?" + urlsplit(url).query]
    assert not [d for d in no_escape.dialled_port(fresh.port) if d[0] != "127.0.0.1"]


async def test_an_allowed_origin_is_fetched_directly_or_by_a_name_that_resolves_to_it(
    loopback_api: Ingest, fresh: Origin
) -> None:
    for url in (f"{fresh.base}/talk.wav", f"http://hooks.test:{fresh.port}/talk.wav"):
        reply = await loopback_api.fetch(url)
        assert reply.status_code == 202, reply.text
        state = (await loopback_api.client.get(f"/v1/jobs/{reply.json()['job_id']}")).json()
        assert (loopback_api.artifacts / state["outputs"]["source"]).read_bytes() == AUDIO
    assert [path for _, path in fresh.requests] == ["/talk.wav", "/talk.wav"]


async def test_a_redirect_loop_stops_after_the_limit(loopback_api: Ingest, fresh: Origin) -> None:
    reply = await loopback_api.fetch(f"{fresh.base}/loop")
    assert reply.status_code == 502 and "redirects" in reply.json()["detail"]
    assert len(fresh.requests) == MAX_REDIRECTS + 1


async def test_a_rebinding_name_is_dialled_at_the_address_that_was_checked(
    strict_api: Ingest, fresh: Origin, no_escape: Trap
) -> None:
    no_escape.expected.add(PUBLIC)  # public when checked: dialled, and the trap refuses it
    reply = await strict_api.fetch(f"http://rebind.test:{fresh.port}/a.wav")

    assert reply.status_code == 502 and "could not fetch" in reply.json()["detail"]
    assert no_escape.lookups.count("rebind.test") == 1  # one lookup: no second answer to rebind to
    assert {host for host, _ in no_escape.stopped} == {PUBLIC}  # never 10.0.0.1, the second answer


# --------------------------------------------------------------------------- webhooks


async def _notify(bus, storage, tmp_path, url: str, egress: EgressPolicy):  # type: ignore[no-untyped-def]
    job = await new_job(bus, webhook_url=url)
    event = completed(job.job_id)
    await publish(bus, event)
    state = await run_notify(
        bus, storage, tmp_path, NotifySettings(), notify_settled(bus, job.job_id), egress
    )
    raw = storage.get_bytes(receipt_key(job.job_id, f"{message_id(event)}.0"))
    return state, msgspec.json.decode(raw, type=Receipt)


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_a_webhook_to_a_refused_address_is_not_called_and_the_receipt_says_why(
    bus, dir_storage, tmp_path, fresh: Origin, no_escape: Trap, url: str, reason: str
) -> None:
    state, receipt = await _notify(bus, dir_storage, tmp_path, url.format(port=fresh.port), EgressPolicy())

    notify = state.stages["notify"]
    assert notify.status == "failed" and notify.attempts == 1  # for good: not retried
    assert notify.error is not None and reason in notify.error and "was not called" in notify.error
    assert not receipt.delivered and receipt.status_code == 0 and reason in receipt.reason
    assert state.status == "completed"  # the job itself did not fail
    assert fresh.requests == [] and no_escape.dialled_port(fresh.port) == []


async def test_a_webhook_to_an_allowed_receiver_is_delivered(
    bus, dir_storage, tmp_path, fresh: Origin
) -> None:
    for allowed in (LOOPBACK_ONLY, EgressPolicy.from_settings(EgressSettings(allow="localhost"))):
        host = "127.0.0.1" if allowed is LOOPBACK_ONLY else "localhost"
        state, receipt = await _notify(
            bus, dir_storage, tmp_path, f"http://{host}:{fresh.port}/hook", allowed
        )
        assert state.stages["notify"].status == "done" and receipt.delivered and receipt.status_code == 200
    assert fresh.requests == [("POST", "/hook"), ("POST", "/hook")]


@pytest.mark.parametrize("target", ["http://10.1.2.3/hook", "http://evil.test/hook"])
async def test_a_webhook_redirect_to_a_refused_address_is_not_followed(
    bus, dir_storage, tmp_path, fresh: Origin, target: str
) -> None:
    url = fresh.redirect(target)
    state, receipt = await _notify(bus, dir_storage, tmp_path, url, LOOPBACK_ONLY)

    assert state.stages["notify"].status == "failed"
    assert not receipt.delivered and "refused the delivery: HTTP 302 Found" in receipt.reason
    assert len(fresh.requests) == 1  # the trap fails the test had the 302 been followed


# --------------------------------------------------------------------------- TLS keeps the host name


@pytest.fixture
def tls_origin(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names hooks.test only, from a CA of its own."""
    ca_key, ca, key, csr, cert, san = (tmp_path / n for n in ("ca.key", "ca.pem", "k", "csr", "crt", "san"))
    san.write_text("subjectAltName=DNS:hooks.test\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
            "-days", "1", "-subj", "/CN=egress test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
            "-subj", "/CN=hooks.test")  # fmt: skip
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "1", "-extfile", str(san))  # fmt: skip
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]

    class Handle(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, ca, names
    server.shutdown()
    server.server_close()


async def test_tls_is_verified_against_the_host_name_not_the_dialled_address(tls_origin) -> None:
    port, ca, names = tls_origin
    trust = ssl.create_default_context(cafile=str(ca))
    async with guarded_client(LOOPBACK_ONLY, timeout=httpx.Timeout(10), verify=trust) as client:
        answer = await client.get(f"https://hooks.test:{port}/")
        assert answer.status_code == 200 and answer.text == "ok"
        assert names[-1] == "hooks.test"  # SNI is the URL's host, though 127.0.0.1 was dialled
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            await client.get(f"https://other.test:{port}/")  # same address, a name the certificate lacks


# --------------------------------------------------------------------------- the rules themselves


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback address"),
        ("::1", "loopback address"),
        ("10.0.0.5", "private address"),
        ("172.31.255.255", "private address"),
        ("192.168.0.1", "private address"),
        ("100.64.0.1", "shared address (carrier-grade NAT)"),
        ("169.254.1.1", "link-local address"),
        ("fe80::1", "link-local address"),
        ("fc00::1", "private address"),
        ("fd12:3456::1", "private address"),
        ("169.254.169.254", "cloud metadata address"),
        ("fd00:ec2::254", "cloud metadata address"),
        ("100.100.100.200", "cloud metadata address"),
        ("0.0.0.0", "unspecified address"),
        ("::", "unspecified address"),
        ("224.0.0.1", "multicast address"),
        ("ff02::1", "multicast address"),
        ("255.255.255.255", "broadcast address"),
        ("240.0.0.1", "reserved address"),
        ("2001:db8::1", "reserved address"),
        ("::ffff:127.0.0.1", "loopback address 127.0.0.1, IPv4-mapped"),
        ("::ffff:7f00:1", "loopback address 127.0.0.1, IPv4-mapped"),
        ("::ffff:169.254.169.254", "cloud metadata address 169.254.169.254, IPv4-mapped"),
        ("::127.0.0.1", "loopback address 127.0.0.1, IPv4-compatible"),
        ("64:ff9b::a00:1", "private address 10.0.0.1, NAT64"),
        ("2002:c0a8:101::1", "private address 192.168.1.1, 6to4"),
        (PUBLIC, None),
        ("2606:4700:4700::1111", None),
        (f"::ffff:{PUBLIC}", None),
        ("64:ff9b::5db8:d822", None),  # NAT64 of a public address
    ],
)
def test_each_special_range_is_refused_with_its_reason(address: str, reason: str | None) -> None:
    assert refusal_of(ipaddress.ip_address(address)) == reason


def test_an_allowance_names_hosts_and_ranges_but_a_host_name_never_unlocks_metadata() -> None:
    policy = EgressPolicy.from_settings(EgressSettings(allow="127.0.0.1/32, Hooks.Internal., 10.8.0.0/16"))
    assert policy.describe() == "127.0.0.1/32, 10.8.0.0/16, hooks.internal"
    assert policy.refusal("x", ipaddress.ip_address("10.8.1.2")) is None
    assert policy.refusal("x", ipaddress.ip_address("::ffff:127.0.0.1")) is None  # the same address
    assert policy.refusal("x", ipaddress.ip_address("10.9.0.1")) == "private address"
    assert policy.refusal("hooks.internal", ipaddress.ip_address("10.9.0.1")) is None
    for metadata in ("169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254"):
        assert policy.refusal("hooks.internal", ipaddress.ip_address(metadata)) is not None, metadata
    with pytest.raises(ValueError, match="neither a host name nor an IP range"):
        EgressSettings(allow="10.0.0.0/8,not a host")


@pytest.mark.parametrize(
    "host", ["2130706433", "0177.0.0.1", "0x7f.1", "127.1", "017700000001", "0x7f000001"]
)
def test_odd_spellings_of_loopback_are_refused_before_any_lookup(host: str, no_escape: Trap) -> None:
    with pytest.raises(EgressRefused, match=f"to 127.0.0.1 \\(loopback address\\) for host {host}"):
        EgressPolicy().check_url(f"http://{host}/")
    assert no_escape.lookups == []


def test_a_service_started_with_an_allowance_says_so_once_at_warning_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from runtime.egress import open_policy

    log = logging.getLogger("services.test")
    with caplog.at_level(logging.INFO):
        open_policy(EgressSettings(), log, "webhooks")
        open_policy(EgressSettings(allow="127.0.0.1/32,hooks.internal"), log, "webhooks")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "webhooks may reach these private hosts and ranges (AODIO_EGRESS_ALLOW): 127.0.0.1/32, hooks.internal"
    )
