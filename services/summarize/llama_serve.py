"""``python -m services.summarize.llama_serve ARGS``: llama-cpp-python's OpenAI-compatible server, the
same arguments, with GrammarLastLlama (services/summarize/grammar_sampling.py) as its model class.

llama_cpp.server builds its model as ``llama_cpp.Llama(...)``, looked up when the model loads, so
setting that one name before the server starts is the whole change.
"""

from __future__ import annotations

import llama_cpp
from llama_cpp.server.__main__ import main

from services.summarize.grammar_sampling import GrammarLastLlama


def serve() -> None:
    """Run llama-cpp-python's server (arguments from the command line) with the checked-token sampler."""
    llama_cpp.Llama = GrammarLastLlama  # type: ignore[misc]
    main()


if __name__ == "__main__":
    serve()
