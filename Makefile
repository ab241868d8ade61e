# The two commands the README promises: `make demo` and `make test`.
# Both create the virtual environment themselves from the hash-pinned lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed
# checkov pins packaging<24, which would hold the project venv back: it gets its own tool venv.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: demo test venv lint typecheck unit lock render clean checkov-venv checkov-lock scan

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mlops demo

LINTED := platform gitops mlops policies tests benchmarks scripts

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python scripts/check_function_size.py --max-lines 80 gitops mlops
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	cd platform && ../$(BIN)/mypy mlplatform __main__.py
	$(BIN)/mypy gitops mlops policies/checkov

$(CHECKOV_STAMP): policies/checkov-requirements.lock $(STAMP)
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python --require-hashes \
	    -r policies/checkov-requirements.lock
	touch $(CHECKOV_STAMP)

checkov-venv: $(CHECKOV_STAMP)

# The policy gate: both stacks rendered to ARM, environments, workflows and secrets; offline.
scan: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/mlops scan

# The policy tests run checkov from its tool venv, so the unit tests need it.
unit: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -q --durations=15

test: lint typecheck unit

render: $(STAMP)
	$(BIN)/mlops render --stack dev --out build/render/dev.json
	$(BIN)/mlops render --stack prod --out build/render/prod.json

# Maintainers only: re-resolve the lock after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --no-emit-index-url \
	    --universal --python-version 3.11 -q --no-header -o requirements.lock

checkov-lock: $(STAMP)
	$(BIN)/uv pip compile policies/checkov-requirements.in --generate-hashes --no-emit-index-url \
	    --universal --python-version 3.11 -q --no-header -o policies/checkov-requirements.lock

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .mypy_cache .pytest_cache .ruff_cache
