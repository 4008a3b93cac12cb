"""The deployed topology on loopback: a three-node NATS cluster, S3, every service its own process.

Each service is configured only by environment variables, as Railway injects them: every NATS node
in AODIO_NATS_URL, the stream and the jobs bucket replicated three times, artifacts on S3, and two
transcribe replicas. The nodes run deploy/nats/cluster.conf, the file a deployment uses, with their
ports and store directories given by environment variables too.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli.stack import LocalStack
from runtime.bus import connect, provision
from runtime.embedded import WeedMini, find_binary, free_ports
from runtime.settings import NatsSettings
from tests.faultkit import (
    FAST_MODELS,
    log_tail,
    stage_status,
    submit,
    transcript_text,
    wait_completed,
    wait_until,
)

pytest.importorskip("faster_whisper")
CLUSTER_CONF = Path(__file__).parents[1] / "deploy" / "nats" / "cluster.conf"
CONVERSATIONS = Path(__file__).parent / "fixtures" / "conversations"
AUDIO = Path(__file__).parent / "fixtures" / "audio"


@dataclass
class ClusterNode:
    """One nats-server of the cluster, run from deploy/nats/cluster.conf with its settings in env."""

    name: str
    client_port: int
    http_port: int
    cluster_port: int
    store_dir: Path
    log_file: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def route(self) -> str:
        return f"nats-route://127.0.0.1:{self.cluster_port}"

    def start(self, routes: list[str]) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "NATS_SERVER_NAME": self.name,
            "NATS_CLIENT_HOST": "127.0.0.1",
            "NATS_CLIENT_PORT": str(self.client_port),
            "NATS_HTTP_PORT": str(self.http_port),
            "NATS_CLUSTER_PORT": str(self.cluster_port),
            "NATS_STORE_DIR": str(self.store_dir),
            "NATS_MAX_FILE_STORE": "1G",
            "NATS_MAX_MEMORY_STORE": "64M",
            **{f"NATS_ROUTE_{i}": route for i, route in enumerate(routes, start=1)},
        }
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(find_binary("nats-server")), "-c", str(CLUSTER_CONF)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: the node crashes, nothing flushed or handed over."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def meta_leader(self) -> str | None:
        """The JetStream meta leader this node knows of (monitoring /jsz), or None."""
        try:
            reply = httpx.get(f"http://127.0.0.1:{self.http_port}/jsz", timeout=1)
        except httpx.TransportError:
            return None
        meta = reply.json().get("meta_cluster", {}) if reply.status_code == 200 else {}
        return meta.get("leader") if meta.get("cluster_size") == 3 else None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ClusterNode]]:
    """Three nodes on free loopback ports, each with its own store, once they agree on a meta leader."""
    ports = free_ports(9)
    nodes = [
        ClusterNode(
            f"nats-{i + 1}",
            client_port=ports[3 * i],
            http_port=ports[3 * i + 1],
            cluster_port=ports[3 * i + 2],
            store_dir=tmp_path / f"nats-{i + 1}",
            log_file=tmp_path / "stack" / "logs" / f"nats-{i + 1}.log",
        )
        for i in range(3)
    ]
    routes = [node.route for node in nodes]
    try:
        for node in nodes:
            node.start(routes)
        deadline = time.monotonic() + 60
        while len({node.meta_leader() for node in nodes} - {None}) != 1 or not all(
            node.meta_leader() for node in nodes
        ):
            assert all(node.proc and node.proc.poll() is None for node in nodes), log_tail(tmp_path / "stack")
            assert time.monotonic() < deadline, f"no meta leader:\n{log_tail(tmp_path / 'stack')}"
            time.sleep(0.2)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[WeedMini]:
    with WeedMini(tmp_path / "s3", log_file=tmp_path / "stack" / "logs" / "weed.log") as server:
        yield server


def railway_env(nodes: list[ClusterNode], s3: WeedMini, api_port: int) -> dict[str, str]:
    """Every setting a service gets, as Railway would inject it: environment variables only."""
    return {
        "AODIO_NATS_URL": ",".join(node.url for node in nodes),
        "AODIO_NATS_STREAM_REPLICAS": "3",
        "AODIO_NATS_NAMESPACE": "c" + uuid.uuid4().hex[:10],
        # Short delivery timers so work a dead node or client held is redelivered quickly.
        "AODIO_NATS_ACK_WAIT_S": "5",
        "AODIO_NATS_MAX_DELIVER": "10",
        "AODIO_NATS_RETRY_BACKOFF_S": "[2, 4, 8]",
        "AODIO_STORAGE_BACKEND": "s3",
        "AODIO_STORAGE_S3_ENDPOINT": s3.endpoint,
        "AODIO_STORAGE_S3_ACCESS_KEY": s3.access_key,
        "AODIO_STORAGE_S3_SECRET_KEY": s3.secret_key,
        "AODIO_STORAGE_S3_BUCKET": "aodio-" + uuid.uuid4().hex[:8],
        "AODIO_INGEST_HOST": "127.0.0.1",
        "AODIO_INGEST_PORT": str(api_port),
        **FAST_MODELS,
    }


async def _provision(settings: NatsSettings) -> dict[str, int]:
    nc = await connect(settings, name="test-cluster")
    try:
        js = nc.jetstream()
        await provision(js, settings, settings.topology)
        stream = await js.stream_info(settings.topology.stream)
        bucket = await js.stream_info(f"KV_{settings.topology.jobs_bucket}")
        return {"stream": stream.config.num_replicas or 1, "jobs bucket": bucket.config.num_replicas or 1}
    finally:
        await nc.close()


def provision_replicated(env: dict[str, str], timeout_s: float = 60) -> dict[str, int]:
    """Provision as the services do, retrying while the new cluster settles; the replicas each got."""
    settings = NatsSettings(
        url=env["AODIO_NATS_URL"], namespace=env["AODIO_NATS_NAMESPACE"], stream_replicas=3
    )
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return asyncio.run(asyncio.wait_for(_provision(settings), 10))
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


async def _stream_leader(env: dict[str, str]) -> str:
    settings = NatsSettings(url=env["AODIO_NATS_URL"], namespace=env["AODIO_NATS_NAMESPACE"])
    nc = await connect(settings, name="test-cluster")
    try:
        info = await nc.jetstream().stream_info(settings.topology.stream)
        assert info.cluster is not None and info.cluster.leader, info
        return info.cluster.leader
    finally:
        await nc.close()


async def _waiting_pulls(env: dict[str, str], stages: list[str]) -> dict[str, int]:
    settings = NatsSettings(url=env["AODIO_NATS_URL"], namespace=env["AODIO_NATS_NAMESPACE"])
    nc = await connect(settings, name="test-cluster")
    try:
        js = nc.jetstream()
        infos = [await js.consumer_info(settings.topology.stream, stage) for stage in stages]
        return {stage: info.num_waiting or 0 for stage, info in zip(stages, infos, strict=True)}
    finally:
        await nc.close()


def wait_all_pulling(stack: LocalStack, env: dict[str, str], timeout_s: float = 120) -> None:
    """Wait until every replica of every stage has a pull request waiting on its consumer."""
    replicas = Counter(name.split(".")[0] for name in stack.children if not name.startswith("ingest"))
    deadline = time.monotonic() + timeout_s
    while (waiting := asyncio.run(_waiting_pulls(env, list(replicas)))) and any(
        waiting[stage] < count for stage, count in replicas.items()
    ):
        assert not stack.dead_children(), log_tail(stack.data_dir)
        assert time.monotonic() < deadline, f"not all pulling: {waiting}\n{log_tail(stack.data_dir)}"
        time.sleep(0.5)


def start_stack(
    tmp_path: Path, cluster: list[ClusterNode], s3: WeedMini
) -> tuple[LocalStack, dict[str, str]]:
    """Every service as its own process (two of transcribe), configured by railway_env() alone."""
    api_port = free_ports(1)[0]
    env = railway_env(cluster, s3, api_port)
    assert provision_replicated(env) == {"stream": 3, "jobs bucket": 3}
    stack = LocalStack(
        tmp_path / "stack",
        api_port=api_port,
        nats_url=env["AODIO_NATS_URL"],
        extra_env=env,
        replicas={"transcribe": 2},
    )
    return stack, env


def assert_two_speakers(client: httpx.Client, job_id: str) -> None:
    transcript = client.get(f"/v1/jobs/{job_id}/outputs/transcript_json").json()
    assert len(transcript["speakers"]) == 2, transcript["speakers"]
    assert all(w["speaker"] for s in transcript["segments"] for w in s["words"])
    assert "supplier" in transcript_text(client, job_id).lower()


def test_job_completes_on_a_three_node_cluster_with_every_service_its_own_process(cluster, s3, tmp_path):
    stack, _ = start_stack(tmp_path, cluster, s3)
    with stack, httpx.Client(base_url=stack.api_url, timeout=30) as client:
        stages = ["assemble", "diarize", "ingest", "notify", "summarize", "transcode"]
        assert sorted(stack.children) == [*stages, "transcribe.1", "transcribe.2"]
        job_id = submit(client, CONVERSATIONS / "two_voices.mp3", json.dumps({"chunk_seconds": 30}))
        try:
            job = wait_completed(client, job_id, timeout_s=240)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log_tail(stack.data_dir)}") from None
        assert_two_speakers(client, job_id)
        assert not stack.dead_children(), log_tail(stack.data_dir)
    assert job["chunks_done"] == list(range(job["chunks_total"]))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_stream_leader_killed_mid_job_and_every_job_completes(cluster, s3, tmp_path):
    stack, env = start_stack(tmp_path, cluster, s3)
    with stack, httpx.Client(base_url=stack.api_url, timeout=30) as client:
        wait_all_pulling(stack, env)  # every service up before the fault, so none is caught starting
        job_id = submit(client, CONVERSATIONS / "two_voices.mp3", json.dumps({"chunk_seconds": 30}))
        wait_until(client, job_id, lambda j: stage_status(j, "transcribe") == "running", 240, "transcribing")
        leader = asyncio.run(_stream_leader(env))
        victim = next(node for node in cluster if node.name == leader)
        victim.kill()  # the stream's leader, which also serves some of the services' connections
        try:
            job = wait_completed(client, job_id, timeout_s=180)
            assert_two_speakers(client, job_id)
            after = submit(client, AUDIO / "en_short.wav")
            wait_completed(client, after, timeout_s=180)
        except AssertionError as exc:
            raise AssertionError(f"killed {leader}: {exc}\n{log_tail(stack.data_dir)}") from None
        assert "quarterly report" in transcript_text(client, after).lower()
        assert asyncio.run(_stream_leader(env)) != leader  # the stream moved to a surviving node
        assert not stack.dead_children(), log_tail(stack.data_dir)
    assert job["chunks_done"] == list(range(job["chunks_total"]))
