# The two commands of README: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-floor lint typecheck docs venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch and torchvision first, pinned, so nothing later pulls another torch build.
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
	# mmcv-lite's sdist needs pkg_resources (gone in setuptools 81) and must build without isolation.
	$(BIN)/python -m pip install -q "setuptools>=77,<81" wheel
	$(BIN)/python -m pip install -q --no-build-isolation mmcv-lite==2.0.1
	$(BIN)/python -m pip install -q -e '.[all,dev,docs]' torch==2.14.1 torchvision==0.29.1
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jointaug demo --out jointaug-demo

test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(MAKE) typecheck
	$(MAKE) docs
	$(BIN)/python -m pytest -q

MYPY_TREE := build/mypy-tree
# Type checks (pyproject's [tool.mypy]). 1: the core, the folder jointaug_plugins/. 2: the adapters and the hydra
# plugin under their installed names, through a tree of links placing adapters/ where the wheel puts it (mypy does not
# run setuptools' editable-install finder), with the adapters' looser override.
typecheck: $(STAMP)
	$(BIN)/python -m mypy
	rm -rf $(MYPY_TREE) && mkdir -p $(MYPY_TREE)/jointaug_plugins
	for f in jointaug_plugins/*; do ln -s ../../../$$f $(MYPY_TREE)/jointaug_plugins/; done
	ln -s ../../../adapters $(MYPY_TREE)/jointaug_plugins/adapters
	ln -s ../../adapters/hydra_plugins $(MYPY_TREE)/hydra_plugins
	MYPYPATH=$(MYPY_TREE) $(BIN)/python -m mypy --cache-dir build/mypy-cache-adapters -p jointaug_plugins.adapters -p hydra_plugins

# The documentation site (Sphinx, Markdown pages under docs/pages), warnings as errors; the generated parts
# (option tables, pictures, changelog) are written at the start of every build by docs/generate.py.
docs: $(STAMP)
	rm -rf build/site
	$(BIN)/python -m sphinx -W --keep-going -E -q -c docs docs/pages build/site

lint: $(STAMP)
	$(BIN)/python -m ruff check .

# The version floor that pyproject.toml states, run for real: the core and lightly tests in .venv-floor with
# torch 2.1.2 / torchvision 0.16.2 from PyPI (CUDA builds, ~2.5 GB downloaded once, then from pip's cache;
# wheels for Python <= 3.11 only) and numpy < 2 (torch 2.1 was built against numpy 1.x).
FLOOR_VENV := .venv-floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed
FLOOR_PINS := torch==2.1.2 torchvision==0.16.2 "numpy<2"
FLOOR_TESTS := tests/test_core.py tests/test_draw.py tests/test_contract.py tests/test_reliability.py \
	tests/test_batch.py tests/test_import_graph.py tests/test_dino_multicrop.py tests/test_tools_extra.py \
	tests/test_lightly.py tests/test_lightly_dino.py

$(FLOOR_STAMP): pyproject.toml
	test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install -q --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install -q $(FLOOR_PINS)
	$(FLOOR_VENV)/bin/python -m pip install -q -e '.[lightly,dev]' $(FLOOR_PINS)
	touch $(FLOOR_STAMP)

test-floor: $(FLOOR_STAMP)
	$(FLOOR_VENV)/bin/python -c 'import torch, torchvision; print("floor: torch", torch.__version__, "torchvision", torchvision.__version__)'
	$(FLOOR_VENV)/bin/python -m pytest -q $(FLOOR_TESTS)

clean:
	rm -rf $(VENV) $(FLOOR_VENV) jointaug-demo .pytest_cache build/site docs/pages/generated
