# Two commands that work on a fresh machine: `make demo` and `make test`; `make docs` builds the site.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: demo test test-slow lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test,neural]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lookalike demo --out-dir out

# the suite without the tests marked slow (whole-table fits, the README and guide walks, the
# demo): under 15 minutes on 2 cores; `make test-slow` runs those, and CI (.ci/run) runs both
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow" --durations=10

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m slow --durations=10

# the documentation site (mkdocs.yml, docs/) with --strict: a broken link, a missing page or a
# docstring mkdocstrings cannot render fails the build; the site is written to site/
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src/lookalike

bench: $(STAMP)
	$(BIN)/python benchmarks/foundation.py

clean:
	rm -rf $(VENV) out site .pytest_cache
