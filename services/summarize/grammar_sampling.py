"""Grammar-constrained sampling at the cost of checking one token, as llama.cpp's own server does it.

llama-cpp-python puts the JSON grammar at the head of the sampler chain: for every token generated,
the grammar is run over all 151,936 candidates of Qwen2.5's vocabulary, on one core, while the other
core waits (34 ms a token on the 2-core machine, against 102 ms for the model's decode: a quarter of
the summary's generation, bench/results/2026-12-04-grammar-sampling.md). llama.cpp's common sampler
(common/sampling.cpp) samples from the chain without the grammar first and asks the grammar about
that one token; only when the grammar refuses it is the grammar applied to the whole vocabulary and
the token sampled again. The answer is grammatical either way; a token the model prefers and the
grammar allows is taken as it is, which is also what llama.cpp's server returns.

`GrammarLastLlama` is llama_cpp.Llama with that sampler; services/summarize/llama_serve.py serves it.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import _internals as internals
from llama_cpp.llama_grammar import LlamaGrammar

__all__ = ["GrammarLastLlama", "GrammarLastSampler"]


class GrammarLastSampler:
    """What llama-cpp-python asks of a sampler (`sample`, `accept`, `reset`, `close`) over two
    llama.cpp samplers: the chain without the grammar, and the grammar on its own."""

    def __init__(
        self, chain: internals.LlamaSampler, vocab: Any, grammar: LlamaGrammar, n_vocab: int
    ) -> None:
        self.chain = chain
        self.n_vocab = n_vocab
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self.grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self.resampled = 0  # tokens the grammar refused, sampled again under it
        self._candidates = internals.LlamaTokenDataArray(n_vocab=n_vocab)
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)

    def sample(self, ctx: internals.LlamaContext, idx: int = -1) -> int:
        """The next token from the logits at `idx`, accepted by the grammar and the chain."""
        pointer = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        token = self._pick(logits, constrained=False)
        if not self._allowed(token):
            self.resampled += 1
            token = self._pick(logits, constrained=True)
        self.accept(token)
        return token

    def _pick(self, logits: np.ndarray, constrained: bool) -> int:
        self._candidates.copy_logits(logits)
        array = ctypes.byref(self._candidates.candidates)
        if constrained:
            llama_cpp.llama_sampler_apply(self.grammar, array)
        llama_cpp.llama_sampler_apply(self.chain.sampler, array)
        chosen = self._candidates.candidates
        return int(chosen.data[chosen.selected].id)

    def _allowed(self, token: int) -> bool:
        self._one[0] = llama_cpp.llama_token_data(id=token, logit=1.0, p=0.0)
        self._one_array.size, self._one_array.selected, self._one_array.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self._one_array))
        return bool(np.isfinite(self._one[0].logit))

    def accept(self, token: int) -> None:
        """Advance the grammar and the chain (its repetition penalties) past `token`."""
        llama_cpp.llama_sampler_accept(self.grammar, token)
        self.chain.accept(token)

    def reset(self) -> None:
        llama_cpp.llama_sampler_reset(self.grammar)
        self.chain.reset()

    def close(self) -> None:
        if self.grammar:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None
        self.chain.close()

    def __del__(self) -> None:
        self.close()


class GrammarLastLlama(llama_cpp.Llama):
    """llama_cpp.Llama whose grammar checks the sampled token instead of filtering every candidate."""

    def _init_sampler(self, *args: Any, grammar: LlamaGrammar | None = None, **kwargs: Any) -> Any:
        chain = super()._init_sampler(*args, grammar=None, **kwargs)
        if grammar is None:
            return chain
        return GrammarLastSampler(chain, self._model.vocab, grammar, self._n_vocab)
