# Two commands for a fresh machine (README): `make demo` runs the main job on the bundled defaults,
# `make test` installs everything and runs the whole test suite (what .ci/run calls).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench

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

bench: install
	$(BIN)/python -m bench
