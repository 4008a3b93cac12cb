"""The embedded default: local GGUF models behind llama.cpp servers this process starts on first use.

A server holds about 2 GiB (the mapped model, its KV cache and compute buffers). It is started when a
summary needs it and stopped once no summary has used it for `local_idle_stop_s`, so the memory is
free while the other stages of the next recordings run; a later summary starts it again (seconds:
the model file is still in the page cache).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator

from runtime.embedded import EmbeddedServerError
from services.summarize.config import SummarizeSettings
from services.summarize.llm import LlmFailure, LlmTarget
from services.summarize.llm_server import LlamaServer, llama_server_missing
from services.summarize.models import LocalModelError, resolve_gguf

log = logging.getLogger(__name__)


class LocalModels:
    """`local/<name>` -> an OpenAI-compatible target; its server starts on first use, stops when idle."""

    def __init__(self, settings: SummarizeSettings) -> None:
        self.settings = settings
        self._servers: dict[str, LlamaServer] = {}
        self._users: dict[str, int] = {}
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    @contextlib.asynccontextmanager
    async def use(self, model: str) -> AsyncIterator[LlmTarget]:
        """The target for `local/<name>` while the block runs; its server is not stopped meanwhile."""
        name = model.removeprefix("local/")
        if self.settings.local_server_url:  # a server someone else runs (the stack, a sidecar)
            yield LlmTarget(
                model=f"openai/{name}", label=model, api_base=self.settings.local_server_url, local=True
            )
            return
        server = await asyncio.to_thread(self._acquire, name)
        try:
            yield LlmTarget(model=f"openai/{name}", label=model, api_base=server.address, local=True)
        finally:
            with self._lock:
                self._users[name] -= 1
                self._last_used[name] = time.monotonic()

    def _acquire(self, name: str) -> LlamaServer:
        with self._lock:
            server = self._server(name)
            self._users[name] = self._users.get(name, 0) + 1
            if self._reaper is None and self.settings.local_idle_stop_s > 0:
                self._reaper = threading.Thread(target=self._stop_idle, name="llm-reaper", daemon=True)
                self._reaper.start()
            return server

    def _stop_idle(self) -> None:
        limit = self.settings.local_idle_stop_s
        while not self._closed.wait(min(5.0, limit)):
            with self._lock:
                for name, server in list(self._servers.items()):
                    idle = time.monotonic() - self._last_used.get(name, time.monotonic())
                    if self._users.get(name, 0) == 0 and idle >= limit:
                        log.info("stopping the idle local model server %s (unused for %.0f s)", name, idle)
                        server.stop()
                        del self._servers[name]

    def _server(self, name: str) -> LlamaServer:
        """The running server for `name`, started if needed; the caller holds the lock."""
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
        self._closed.set()
        with self._lock:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()
