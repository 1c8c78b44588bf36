# make demo / make test work on a fresh machine: they create .venv when it is missing.
PYTHON ?= python3
TORCH ?= torch==2.13.0
# Where pip looks for torch (empty: PyPI, whose Linux wheels are CUDA builds, several GB);
# TORCH_INDEX=https://download.pytorch.org/whl/cpu gets the CPU build on an ordinary machine.
TORCH_INDEX ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-example test lint bench install clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch first, with the pin (a CPU build lies on disk here; anything else pulls a CUDA build),
# then the package and its dev tools; reinstalled when pyproject.toml changes.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The main job on bundled data: the default LSTM (no options) against two baselines on the
# Beijing PM2.5 stations, the last 24 hours; the report (it opens with who won, by how much)
# lands in reports/demo-run/, which git ignores. demo-example regenerates the committed
# example, reports/demo/, the same way, with screenshots of its first screen
# (reports/demo-report.png, in the README) and of the whole page (reports/demo-report-full.png).
DEMO = backtest beijing_pm25 --models lstm,snaive,naive2 --horizon 24 --windows 1

demo: $(STAMP)
	$(BIN)/tsrnn $(DEMO) --report-dir reports/demo-run

demo-example: $(STAMP)
	$(BIN)/tsrnn $(DEMO) --report-dir reports/demo
	@if command -v chromium >/dev/null 2>&1; then \
		for shot in demo-report:1500 demo-report-full:5600; do \
			chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
				--window-size=1100,$${shot#*:} --screenshot=reports/.shot.png \
				"file://$(CURDIR)/reports/demo/report.html" >/dev/null 2>&1 \
				&& mv reports/.shot.png reports/$${shot%%:*}.png; \
		done; \
	else echo "chromium not installed: reports/demo-report*.png not updated"; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -m "not slow"

# Chromium for the report's browser test (Debian's package), when apt can install it (as root;
# one line says so); without apt, or not as root, nothing is tried and the test skips, saying
# why.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
		&& [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium with apt-get (root), for the report's browser test"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
			|| echo "apt-get could not install chromium: tests/test_report_browser.py will skip"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Quick versions (a few minutes on 2 cores); the full runs are the scripts without flags.
bench: $(STAMP)
	$(BIN)/python benchmarks/windows.py --quick
	$(BIN)/python benchmarks/read_csv.py --rows 1000000
	$(BIN)/python benchmarks/scale.py --quick
	$(BIN)/python benchmarks/baselines.py --quick
	$(BIN)/python benchmarks/train_throughput.py --quick
	$(BIN)/python benchmarks/backtest.py --quick
	$(BIN)/python benchmarks/beijing.py --quick
	$(BIN)/python benchmarks/m4_neural.py --quick
	$(BIN)/python benchmarks/defaults.py --quick

clean:
	rm -rf $(VENV) build *.egg-info
