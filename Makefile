# The two commands of README: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch and torchvision first, pinned, so nothing later pulls another torch build.
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
	# mmcv-lite's sdist needs pkg_resources (gone in setuptools 81) and must build without isolation.
	$(BIN)/python -m pip install -q "setuptools>=77,<81" wheel
	$(BIN)/python -m pip install -q --no-build-isolation mmcv-lite==2.0.1
	$(BIN)/python -m pip install -q -e '.[all,dev]' torch==2.14.1 torchvision==0.29.1
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jointaug demo --out jointaug-demo

test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) jointaug-demo .pytest_cache
