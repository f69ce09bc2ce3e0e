# Customer analytics workbench. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install report test lint format bench bench-data bench-run lab clean clean-runs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the package, test tools and the Spark extra

report: $(STAMP) ## full report on the bundled CDNOW sample -> reports/latest/index.html
	$(PY) -m analysis run --input data/raw/CDNOW_master.txt --as-of 1998-06-30

test: $(STAMP) ## run the test suite (two workers; a test file, or the files sharing a fixture, on one: tests/conftest.py)
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP) ## ruff lint
	$(VENV)/bin/ruff check src tests benchmarks

format: $(STAMP) ## ruff format
	$(VENV)/bin/ruff format src tests benchmarks

bench: $(STAMP) ## benchmarks on 1M simulated customers (times and peak memory)
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_clv.py
	$(PY) benchmarks/bench_clv_fit.py
	$(PY) benchmarks/bench_cohorts.py
	$(PY) benchmarks/bench_clusters.py
	$(PY) benchmarks/bench_churn.py
	$(PY) benchmarks/bench_lifetimes_api.py
	$(PY) benchmarks/bench_covariates.py

BENCH_SIZES ?= 100k 1m 10m dense100k
BENCH_DATA  := benchmarks/data

bench-data: $(foreach s,$(BENCH_SIZES),$(BENCH_DATA)/sim_$(s).parquet) ## simulated transactions (BENCH_SIZES) as Parquet

$(BENCH_DATA)/sim_%.parquet: benchmarks/generate.py | $(STAMP)
	$(PY) benchmarks/generate.py --customers $* --out $@

bench-run: bench-data ## full report runs timed per step and page (CDNOW master, then BENCH_SIZES) -> benchmarks/results/
	$(PY) benchmarks/bench_run.py --cdnow
	$(foreach s,$(BENCH_SIZES),$(PY) benchmarks/bench_run.py --size $(s) &&) true

lab: $(STAMP) ## JupyterLab on the project environment, with the kernel "Python (analysis)"
	$(PY) -m ipykernel install --sys-prefix --name analysis --display-name "Python (analysis)"
	$(VENV)/bin/jupyter lab notebooks/

# The run folders the runner makes in reports/ (YYYYMMDD-HHMMSS-<fingerprint>[-n]). reports/history/ (the tier
# snapshots the next run's migration compares with) and reports/.mask-key (the key of the masked ids) are kept.
RUNS := reports/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]-*/

clean-runs: ## remove the report runs and reports/latest (history and the mask key stay)
	rm -rf $(RUNS) reports/latest

clean: clean-runs ## remove the virtual environment and the report runs (history and the mask key stay)
	rm -rf $(VENV)
