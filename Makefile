# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU build by default (CI and laptops); on a machine with an NVIDIA GPU a plain torch (CUDA) is taken.
TORCH_SPEC ?= $(if $(shell command -v nvidia-smi 2>/dev/null),torch,torch==2.13.0)

.PHONY: install demo test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/tune-gamma run $(ARGS)

test: install
	$(BIN)/ruff check tune_gamma tests experiments
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check tune_gamma tests experiments

clean:
	rm -rf $(VENV) build *.egg-info
