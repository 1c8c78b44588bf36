# make demo / make test work on a fresh machine: they create .venv when it is missing.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch first, with the pin (a CPU build lies on disk here; anything else pulls a CUDA build),
# then the package and its dev tools; reinstalled when pyproject.toml changes.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tsrnn info beijing_pm25 --report reports/demo/data_report.md

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Quick versions (a few minutes on 2 cores); the full runs are the scripts without flags.
bench: $(STAMP)
	$(BIN)/python benchmarks/windows.py --quick
	$(BIN)/python benchmarks/read_csv.py --rows 1000000
	$(BIN)/python benchmarks/baselines.py --quick
	$(BIN)/python benchmarks/train_throughput.py --quick
	$(BIN)/python benchmarks/backtest.py --quick

clean:
	rm -rf $(VENV) build *.egg-info
