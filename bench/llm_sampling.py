"""Where the local summary model's time goes: prompt, decode and sampling, per generated token.

The request is the one the summarize stage makes for the generated 4 h 15 recording (its ground-truth
transcript, bench/audio/long_4h15.json, through services/summarize/salient.py), answered in this
process by llama-cpp-python with its stock sampler (the grammar filters every candidate) and with
services/summarize/grammar_sampling.py (the grammar checks the sampled token), on the same threads.

    .venv/bin/python -m bench.llm_sampling [--samplers stock checked] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.summarize_long import transcript_from_truth
from services.summarize import salient
from services.summarize.config import SummarizeSettings
from services.summarize.llm import CallLimits, LlmTarget
from services.summarize.models import resolve_gguf
from services.summarize.prompts import prompt


class _Captured(Exception):
    pass


def salient_request(truth_path: Path) -> dict[str, Any]:
    """The messages, schema and limits of the salient summary of a ground-truth transcript."""
    request: dict[str, Any] = {}

    async def capture(
        target: Any, user: str, language: Any, limits: CallLimits, parse: Any, schema: Any
    ) -> Any:
        system = {"role": "system", "content": prompt("system", language)}
        request.update(
            messages=[system, {"role": "user", "content": user}],
            schema=schema,
            max_tokens=limits.max_output_tokens,
            temperature=limits.temperature,
        )
        raise _Captured

    transcript = transcript_from_truth(json.loads(truth_path.read_text()))
    settings = SummarizeSettings()
    limits = CallLimits(settings.max_output_tokens, settings.temperature, settings.request_timeout_s)
    target = LlmTarget(model="local", label="local", local=True)
    original, salient.complete = salient.complete, capture  # type: ignore[assignment]
    try:
        asyncio.run(salient.summarize_salient(transcript, target, limits, settings.prompt_words))
    except _Captured:
        pass
    finally:
        salient.complete = original  # type: ignore[assignment]
    return request


def measure(llm: Any, request: dict[str, Any], max_tokens: int | None = None) -> dict[str, Any]:
    """One answer to `request`, timed: the prompt's decode, each token's decode and its sampling."""
    spent = {"prompt_s": 0.0, "decode_s": 0.0, "decodes": 0, "sample_s": 0.0, "samples": 0}
    decode, sample = llm._ctx.decode, llm.sample

    def timed_decode(batch: Any) -> Any:
        started = time.perf_counter()
        try:
            return decode(batch)
        finally:
            small = batch.batch.n_tokens <= 16
            spent["decode_s" if small else "prompt_s"] += time.perf_counter() - started
            spent["decodes"] += small

    def timed_sample(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return sample(*args, **kwargs)
        finally:
            spent["sample_s"] += time.perf_counter() - started
            spent["samples"] += 1

    llm._ctx.decode, llm.sample = timed_decode, timed_sample
    started, cpu = time.perf_counter(), time.process_time()
    try:
        out = llm.create_chat_completion(
            messages=request["messages"],
            max_tokens=max_tokens or request["max_tokens"],
            temperature=request["temperature"],
            response_format={"type": "json_object", "schema": request["schema"]},
        )
    finally:
        llm._ctx.decode, llm.sample = decode, sample
    wall = time.perf_counter() - started
    usage = out["usage"]
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "prompt_s": round(spent["prompt_s"], 1),
        "decode_ms_per_token": round(1000 * spent["decode_s"] / max(spent["decodes"], 1), 1),
        "sample_ms_per_token": round(1000 * spent["sample_s"] / max(spent["samples"], 1), 1),
        "resampled": getattr(llm._sampler, "resampled", None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--truth", type=Path, default=Path("bench/audio/long_4h15.json"))
    parser.add_argument("--samplers", nargs="+", choices=("stock", "checked"), default=["stock", "checked"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, help="stop the answer early (decode figures only)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/llm-sampling.json"))
    args = parser.parse_args()
    if not args.truth.exists():
        raise SystemExit(f"{args.truth} is missing: python -m bench.generate_long")
    if not any(k in os.environ for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")):
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # as the server runs (llm_server.py); read at load
    from llama_cpp import Llama

    from services.summarize.grammar_sampling import GrammarLastLlama

    request = salient_request(args.truth)
    settings = SummarizeSettings()
    path = str(resolve_gguf(settings.model.removeprefix("local/"), settings.model_cache_dir))
    report: dict[str, Any] = {
        "model": settings.model,
        "threads": args.threads,
        "omp": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_"))},
    }
    for name in args.samplers:
        cls = Llama if name == "stock" else GrammarLastLlama
        llm = cls(
            model_path=path,
            n_ctx=settings.local_n_ctx,
            n_batch=512,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            verbose=False,
        )
        try:
            report[name] = measure(llm, request, args.max_tokens)
        finally:
            llm.close()
        print(json.dumps({name: report[name]}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
