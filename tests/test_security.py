"""Security at the seams: NATS over TLS with a token, credentials from the environment, and no secret in
any log line of a running stack (API keys, the NATS token, the webhook secret)."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from runtime.bus import NatsRefused, connect
from runtime.embedded import NatsServer
from runtime.settings import NatsSettings
from services.ingest.apikeys import new_key

AUDIO = Path(__file__).parent / "fixtures" / "audio"
TOKEN = "nats-token-" + uuid.uuid4().hex
WEBHOOK_SECRET = "webhook-secret-" + uuid.uuid4().hex


def make_certificates(folder: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1, made with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        name: folder / name
        for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem", "san.cnf")
    }
    files["san.cnf"].write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=aodio-test-ca",
            "-keyout", str(files["ca.key"]), "-out", str(files["ca.pem"]))  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", str(files["server.key"]), "-out", str(files["server.csr"]))  # fmt: skip
    openssl("x509", "-req", "-in", str(files["server.csr"]), "-CA", str(files["ca.pem"]), "-CAkey",
            str(files["ca.key"]), "-CAcreateserial", "-days", "1", "-extfile", str(files["san.cnf"]),
            "-out", str(files["server.pem"]))  # fmt: skip
    return files


@pytest.fixture(scope="module")
def tls_nats(tmp_path_factory) -> NatsServer:
    if subprocess.run(["which", "openssl"], capture_output=True).returncode != 0:
        pytest.skip("openssl is not installed: cannot make test certificates")
    root = tmp_path_factory.mktemp("tls-nats")
    certs = make_certificates(root / "certs")
    config = root / "nats.conf"
    config.write_text(
        f'tls {{\n  cert_file: "{certs["server.pem"]}"\n  key_file: "{certs["server.key"]}"\n}}\n'
        f'authorization {{\n  token: "{TOKEN}"\n}}\n'
    )
    server = NatsServer(root / "store", config_file=config)
    server.ca_file = certs["ca.pem"]  # type: ignore[attr-defined]
    with server:
        yield server


async def test_nats_over_tls_with_a_token(tls_nats) -> None:
    ca = tls_nats.ca_file
    good = NatsSettings(url=f"tls://127.0.0.1:{tls_nats.port}", token=TOKEN, tls_ca_file=ca)
    nc = await connect(good)
    assert nc.is_connected and nc.connected_url is not None
    await nc.close()
    for bad in (
        NatsSettings(url=f"tls://127.0.0.1:{tls_nats.port}", token="wrong", tls_ca_file=ca),
        NatsSettings(url=f"tls://127.0.0.1:{tls_nats.port}", token=TOKEN),  # the test CA is not trusted
    ):
        with pytest.raises(NatsRefused, match="refused"):
            nc = await connect(bad, name="bad")
            await nc.close()  # reached only when the connection wrongly succeeded


def test_no_secret_reaches_any_log_line(tls_nats, tmp_path: Path) -> None:
    key, entry = new_key("alice")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_NATS_TOKEN": TOKEN,
        "AODIO_NATS_TLS_CA_FILE": str(tls_nats.ca_file),
        "AODIO_INGEST_API_KEYS": entry,
        "AODIO_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/hook",  # refused at once: a failure to log
        "AODIO_NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "AODIO_LOG_LEVEL": "DEBUG",
    }
    url = f"tls://127.0.0.1:{tls_nats.port}"
    with LocalStack(
        tmp_path, api_port=0, nats_url=url, extra_env=env, stages=("ingest", "transcode", "notify")
    ) as stack:
        headers = {"authorization": f"Bearer {key}"}
        with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
            bad = client.post(
                "/v1/jobs", files={"file": ("notes.mp3", (AUDIO / "not_audio.txt").read_bytes())}
            )
            good = client.post(
                "/v1/jobs", files={"file": ("short.wav", (AUDIO / "en_short.wav").read_bytes())}
            )
            assert bad.status_code == good.status_code == 202
            assert (
                client.get("/v1/jobs", params={"access_token": "aodio_wrong"}).status_code == 200
            )  # header wins
            assert (
                httpx.get(f"{stack.api_url}/v1/jobs", headers={"authorization": "Bearer nope"}).status_code
                == 401
            )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                states = [client.get(f"/v1/jobs/{r.json()['job_id']}").json() for r in (bad, good)]
                if (
                    states[0]["status"] == "failed"
                    and states[1]["stages"].get("transcode", {}).get("status") == "done"
                ):
                    break
                time.sleep(0.5)
            assert states[0]["status"] == "failed", states[0]
    logs = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    assert "transcode" in logs and len(logs) > 1000  # the services did log, at DEBUG
    for secret in (TOKEN, key, WEBHOOK_SECRET):
        assert secret not in logs
