# kla-analysis: `make help` lists the targets.
# Only Python 3.11+ and make are needed; everything else is installed into .venv from pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# Jobs for `make report` (default: one per core, decided by kla itself).
JOBS   ?=
# pytest-xdist workers for `make test` (auto: one per core); --dist loadfile keeps the cells
# of one notebook (nbval) in one worker, and each module's fixtures are built once.
TEST_JOBS ?= auto
# Extra arguments for `make lab`, e.g. LAB_ARGS="--no-browser --port 8890" on a server.
LAB_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help report test fuzz lab env data validate bench lint clean browser

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name kla-analysis --display-name "Python (kla-analysis)" >/dev/null
	touch $(STAMP)

env: $(STAMP) ## Create or update the .venv environment and the Jupyter kernel

validate: $(STAMP) ## Check every raw data file and list all problems
	$(BIN)/kla validate

data: $(STAMP) ## Validate raw data and build the processed tables
	$(BIN)/kla build

report: $(STAMP) ## Set up, build the processed data and render every evaluation-year report
	$(BIN)/kla build
	$(BIN)/kla report --all $(if $(JOBS),--jobs $(JOBS))
	$(BIN)/kla screenshots
	@echo "Reports: file://$(abspath $(or $(KLA_REPORTS_DIR),reports))/index.html (open it in any browser, offline)"

test: $(STAMP) ## Set up and run the whole test suite (tests, doctests, notebooks), in parallel
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

# Examples per dataset for `make fuzz` (make test runs 25, always the same ones).
FUZZ_EXAMPLES ?= 500

fuzz: $(STAMP) ## Long random fuzzing of the raw-file readers (FUZZ_EXAMPLES per dataset)
	KLA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) KLA_FUZZ_RANDOM=1 $(BIN)/python -m pytest -q \
		-p no:cacheprovider tests/test_fuzz_inputs.py tests/test_fuzz_inputs_2.py

lab: $(STAMP) ## Open JupyterLab with the package importable and its kernel selected
	$(BIN)/jupyter lab --notebook-dir=notebooks --MultiKernelManager.default_kernel_name=kla-analysis \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

bench: $(STAMP) ## Run the benchmarks (slow; results go to docs/performance.md)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py --write-docs

lint: $(STAMP) ## Lint the code with ruff
	$(BIN)/ruff check .

browser: ## Optional: install Debian's chromium (enables the browser test and screenshots)
	@if [ -x /usr/bin/chromium ]; then echo "chromium is installed: /usr/bin/chromium"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "make browser needs apt-get (Debian/Ubuntu); install Chromium yourself and set KLA_CHROMIUM" >&2; exit 1; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "make browser: run it as root or with sudo available to apt-get install chromium" >&2; exit 1; fi

clean: ## Remove build outputs (interim and processed tables, reports); raw data is never touched
	rm -rf data/interim
	find data/processed reports -mindepth 1 ! -name .gitkeep ! -path 'reports/screenshots' \
		! -path 'reports/screenshots/*' -delete 2>/dev/null || true
