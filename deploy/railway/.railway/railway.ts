// Aodio on Railway, as code. From deploy/railway (the directory linked with `railway link`):
//   npm ci && railway config plan && railway config apply
// Every Aodio service builds deploy/Dockerfile from the repository; BUILD_TARGET picks its stage,
// because Railway cannot pass `docker build --target`. Services talk over the private network
// (<service>.railway.internal); only ingest gets a public domain.
import { defineRailway, github, image, preserve, service, volume } from "railway/iac";

const REPO = "aodio/aodio"; // the GitHub repository Railway builds from: change to yours
const NATS_IMAGE = "nats:2.10-alpine";
const MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z";

// A service that builds one stage of deploy/Dockerfile.
function stage(target: string) {
  return {
    source: github(REPO, { branch: "main" }),
    build: {
      builder: "DOCKERFILE" as const,
      dockerfilePath: "deploy/Dockerfile",
      // rebuild a stage only when what its image holds changes
      watchPatterns: ["contracts/**", "exports/**", "runtime/**", "services/**", "cli/**", "scripts/**",
        "pyproject.toml", "constraints.txt", "deploy/Dockerfile"],
    },
  };
}

export default defineRailway((ctx, project) => {
  // NATS JetStream: one node with its store on a volume. A volume forbids replicas on its service:
  // for a replicated JetStream use the three-node configuration in deploy/nats/ instead.
  const natsData = volume("nats-data", { sizeMB: 5_000 });
  const nats = service("nats", {
    source: image(NATS_IMAGE),
    // "::" listens on IPv6 and IPv4: Railway's private network is IPv6 in older environments.
    start: "nats-server --addr :: --port 4222 --http_port 8222 --jetstream --store_dir /data/jetstream",
    volumeMounts: { "/data": natsData },
    deploy: { restartPolicyType: "ALWAYS" },
  });

  // MinIO: the artifacts. Workers have replicas, so they cannot share a volume: they all use S3.
  // A Railway bucket can replace it (see deploy/README.md).
  const minioData = volume("minio-data", { sizeMB: 50_000 });
  const minio = service("minio", {
    source: image(MINIO_IMAGE),
    start: "minio server /data --address [::]:9000 --console-address [::]:9001",
    volumeMounts: { "/data": minioData },
    env: {
      MINIO_ROOT_USER: "aodio",
      MINIO_ROOT_PASSWORD: { value: ctx.randomString("minio-root-password", 24), isSealed: true },
    },
    deploy: { restartPolicyType: "ALWAYS" },
  });

  // What every Aodio service reads: NATS, storage, drain. Variable names are checked against the
  // settings classes by tests/test_deploy_files.py.
  const common = {
    AODIO_NATS_URL: "nats://nats.railway.internal:4222",
    AODIO_NATS_DRAIN_TIMEOUT_S: "30",
    AODIO_STORAGE_BACKEND: "s3",
    AODIO_STORAGE_S3_ENDPOINT: "minio.railway.internal:9000",
    AODIO_STORAGE_S3_BUCKET: "aodio",
    AODIO_STORAGE_S3_SECURE: "false",
    AODIO_STORAGE_S3_ACCESS_KEY: minio.env.MINIO_ROOT_USER,
    AODIO_STORAGE_S3_SECRET_KEY: minio.env.MINIO_ROOT_PASSWORD,
    AODIO_LOG_LEVEL: "INFO",
  };
  // SIGTERM drains; Railway keeps the old deployment this long so the message in flight finishes.
  const worker = { restartPolicyType: "ON_FAILURE" as const, restartPolicyMaxRetries: 10, drainingSeconds: 60 };

  const ingest = service("ingest", {
    ...stage("ingest"),
    env: {
      ...common,
      BUILD_TARGET: "ingest",
      AODIO_INGEST_HOST: "::",
      AODIO_INGEST_PORT: "8000",
      AODIO_INGEST_API_KEYS: preserve(), // secret: set once in the dashboard (`aodio key new NAME`)
      AODIO_INGEST_PUBLIC_S3_ENDPOINT: preserve(), // a public MinIO domain, for presigned uploads
    },
    healthcheck: "/healthz",
    healthcheckTimeout: 60,
    // a Railway-generated domain on port 8000 (for your own: `domains: ["aodio.example.com"]`)
    networking: { serviceDomains: { "aodio-api.up.railway.app": { port: 8000 } } },
    replicas: 2,
    deploy: worker,
  });

  const transcode = service("transcode", {
    ...stage("transcode"),
    env: { ...common, BUILD_TARGET: "transcode" },
    replicas: 2,
    deploy: worker,
  });
  const diarize = service("diarize", {
    ...stage("diarize"),
    env: { ...common, BUILD_TARGET: "diarize", AODIO_DIARIZE_CPU_THREADS: "2" },
    replicas: 2,
    deploy: worker,
  });
  // The chunks of one job fan out over every replica: scale this one first.
  const transcribe = service("transcribe", {
    ...stage("transcribe"),
    env: { ...common, BUILD_TARGET: "transcribe", AODIO_TRANSCRIBE_CPU_THREADS: "1" },
    replicas: 4,
    deploy: worker,
  });
  const assemble = service("assemble", {
    ...stage("assemble"),
    env: { ...common, BUILD_TARGET: "assemble" },
    replicas: 1,
    deploy: worker,
  });
  const summarize = service("summarize", {
    ...stage("summarize"),
    env: {
      ...common,
      BUILD_TARGET: "summarize",
      // the offline default (local/qwen2.5-coder-1.5b on llama.cpp); a hosted model instead:
      // AODIO_SUMMARIZE_MODEL=openai/gpt-4o-mini plus OPENAI_API_KEY
      AODIO_SUMMARIZE_MODEL: "local/qwen2.5-coder-1.5b",
      AODIO_SUMMARIZE_LOCAL_THREADS: "0",
    },
    replicas: 1,
    deploy: worker,
  });
  const notify = service("notify", {
    ...stage("notify"),
    env: {
      ...common,
      BUILD_TARGET: "notify",
      AODIO_NOTIFY_WEBHOOK_URL: preserve(),
      AODIO_NOTIFY_WEBHOOK_SECRET: preserve(),
      AODIO_NOTIFY_PUBLIC_URL: "https://aodio-api.up.railway.app",
    },
    replicas: 1,
    deploy: worker,
  });

  return project("aodio", {
    resources: [natsData, nats, minioData, minio, ingest, transcode, diarize, transcribe, assemble,
      summarize, notify],
  });
});
