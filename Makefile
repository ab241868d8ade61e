# The two commands the README promises: `make demo` and `make test`.
# Both create the virtual environment themselves from the hash-pinned lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed

.PHONY: demo test venv lint typecheck unit lock render clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mlops demo

lint: $(STAMP)
	$(BIN)/ruff check platform gitops tests
	$(BIN)/ruff format --check platform gitops tests

typecheck: $(STAMP)
	cd platform && ../$(BIN)/mypy -p mlplatform __main__.py

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

render: $(STAMP)
	$(BIN)/mlops render --stack dev --out build/render/dev.json
	$(BIN)/mlops render --stack prod --out build/render/prod.json

# Maintainers only: re-resolve the lock after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --no-emit-index-url \
	    --universal --python-version 3.11 -q --no-header -o requirements.lock

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
