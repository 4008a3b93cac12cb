"""Settings of the summarize stage."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.summarize.models import DEFAULT_LOCAL_MODEL


class SummarizeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AODIO_SUMMARIZE_", extra="ignore", env_ignore_empty=True)

    # A litellm model ("openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest", "ollama/llama3.1"),
    # or "local/<name>" for a GGUF served by the embedded llama.cpp server (local/qwen2.5-coder-1.5b,
    # local/smollm2-135m). A job's summary_model overrides it. Keys come from the provider's own
    # environment variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...), read by litellm.
    model: str = f"local/{DEFAULT_LOCAL_MODEL}"
    api_base: str | None = None  # an OpenAI-compatible server for model "openai/<name>"
    api_key: str | None = None  # for that api_base, when it needs one
    method: Literal["llm", "extractive"] = "llm"  # "extractive": this deployment runs no LLM at all
    # salient: ranked passages with timestamps in one bounded call (the local model's context is small);
    # map_reduce: the whole transcript in windows, summarised in parallel, then merged (hosted models).
    strategy: Literal["auto", "salient", "map_reduce"] = "auto"
    request_timeout_s: float = Field(default=600.0, gt=0)
    max_output_tokens: int = Field(default=2000, ge=16, le=16384)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    # salient: how many words of ranked passages the model reads (about 1.4 tokens a word)
    prompt_words: int = Field(default=1000, ge=100, le=100_000)
    # map_reduce: words per window and how many windows are summarised at once
    window_words: int = Field(default=12_000, ge=500, le=200_000)
    map_concurrency: int = Field(default=4, ge=1, le=64)
    concurrency: int = Field(default=1, ge=1, le=16)  # jobs at once per replica
    # the embedded llama.cpp server (model "local/...")
    model_cache_dir: Path = Path("data/models")
    local_server_url: str | None = None  # an already running llama.cpp server; else one is started
    local_n_ctx: int = Field(default=8192, ge=512, le=131_072)
    local_threads: int = Field(default=0, ge=0, le=256)  # 0: every core
    # a server this process started is stopped after this long unused (0: kept), freeing ~2 GiB
    local_idle_stop_s: float = Field(default=120.0, ge=0)
    log_dir: Path = Path("data/logs")
