# Two commands for a fresh machine (README): `make demo` runs the main job on the bundled defaults,
# `make test` installs everything and runs the whole test suite (what .ci/run calls).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-min lint bench bench-awscli engine e2e

$(BIN)/china-site: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	[ "$(VENV)" != ".venv" ] || ln -sfn ../.venv policies/venv
	touch $(BIN)/china-site

install: $(BIN)/china-site

# The bundled sample registry is dated around 2026-11-28; --today pins the date so the verdicts stay reproducible.
DEMO_DAY ?= 2026-11-28

demo: install
	$(BIN)/china-site preflight --stack mainland --today $(DEMO_DAY)
	$(BIN)/china-site preflight --stack hongkong --today $(DEMO_DAY)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest -q -n 2 -p no:cacheprovider

# The suite on the lowest versions pyproject.toml allows for the direct dependencies (uv's lowest-direct resolution;
# transitive dependencies resolve to their newest compatible versions): proves the floors are honest.
MIN_VENV ?= .venv-min

$(MIN_VENV)/.installed: pyproject.toml | $(BIN)/china-site
	$(BIN)/pip install --quiet uv
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python3 $(MIN_VENV)
	$(BIN)/uv pip install --quiet --python $(MIN_VENV)/bin/python --resolution lowest-direct -e '.[test]'
	touch $@

test-min: $(MIN_VENV)/.installed
	$(MIN_VENV)/bin/pytest -q -n 2 -p no:cacheprovider

bench: install
	$(BIN)/python -m bench

# The real Pulumi engine (tools/pulumi-engine.sh: a pulumi on PATH, else built from Go modules into
# ~/.cache/china-site) against the local cloud (tests/e2e/localcloud) and moto's S3 server. README: "make e2e".
engine:
	@bash tools/pulumi-engine.sh

e2e: install
	bash tools/pulumi-engine.sh >/dev/null
	$(BIN)/pytest -q -p no:cacheprovider -m e2e tests/e2e

# `aws s3 cp` for the content_sync large-file figure, in its own venv (awscli pins its own botocore).
bench-awscli:
	$(PY) -m venv .venv-awscli
	.venv-awscli/bin/pip install --quiet awscli
