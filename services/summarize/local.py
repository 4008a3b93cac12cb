"""The embedded default: local GGUF models behind llama.cpp servers this process starts once and keeps."""

from __future__ import annotations

import asyncio
import threading

from runtime.embedded import EmbeddedServerError
from services.summarize.config import SummarizeSettings
from services.summarize.llm import LlmFailure, LlmTarget
from services.summarize.llm_server import LlamaServer, llama_server_missing
from services.summarize.models import LocalModelError, resolve_gguf


class LocalModels:
    """`local/<name>` -> an OpenAI-compatible target; the server is started on first use and reused."""

    def __init__(self, settings: SummarizeSettings) -> None:
        self.settings = settings
        self._servers: dict[str, LlamaServer] = {}
        self._lock = threading.Lock()

    async def target(self, model: str) -> LlmTarget:
        """The target for `local/<name>`, starting its server if none runs yet."""
        name = model.removeprefix("local/")
        if self.settings.local_server_url:  # a server someone else runs (the stack, a sidecar)
            return LlmTarget(
                model=f"openai/{name}", label=model, api_base=self.settings.local_server_url, local=True
            )
        server = await asyncio.to_thread(self._server, name)
        return LlmTarget(model=f"openai/{name}", label=model, api_base=server.address, local=True)

    def _server(self, name: str) -> LlamaServer:
        with self._lock:
            server = self._servers.get(name)
            if server is not None and server.running:
                return server
            try:
                path = resolve_gguf(name, self.settings.model_cache_dir)
                missing = llama_server_missing()
                if missing:
                    raise LlmFailure(missing)
                server = LlamaServer(
                    path,
                    name,
                    n_ctx=self.settings.local_n_ctx,
                    threads=self.settings.local_threads,
                    log_file=self.settings.log_dir / f"llama-server-{name}.log",
                )
                server.start()
            except LocalModelError as exc:
                raise LlmFailure(exc.reason) from exc
            except EmbeddedServerError as exc:
                raise LlmFailure(f"the local model server did not start: {exc}") from exc
            self._servers[name] = server
            return server

    def close(self) -> None:
        """Stop every server started here."""
        with self._lock:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()
