# Developer tasks. Uses the project's virtual environment when there is one.
VENV ?= .venv
PY := $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3)

.PHONY: test test-all lint validate typecheck format docs

# Every test but the browser one (no root needed); `make test-all` or .ci/run for all.
test:
	$(PY) -m pytest -m "not browser" -n auto

test-all:
	$(PY) -m pytest -n auto

lint:
	$(PY) -m ruff check src tests bench tools docs/hooks.py docs/tutorial.ipynb
	$(PY) -m ruff format --check src tests bench tools docs/hooks.py docs/tutorial.ipynb
	$(PY) -m mypy

typecheck:
	$(PY) -m mypy

format:
	$(PY) -m ruff format src tests bench tools docs/hooks.py docs/tutorial.ipynb

# SHACL-validate the packaged graph (exit 1 if it does not conform)
validate:
	$(PY) -m khalis_kg.cli validate

# The documentation site (site/) and the tutorial notebook, as CI builds and runs them
docs:
	$(VENV)/bin/mkdocs build --strict
	$(PY) -m pytest --nbmake docs/tutorial.ipynb -p no:cacheprovider -q
