# Contact-reason analytics. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# dvc.yaml stages call `python -m pipeline`: make that the project's Python
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "} {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the project with its test tools

demo: setup ## Run the whole pipeline (dvc repro) on the bundled demo data; reports in reports/
	$(BIN)/dvc repro
	$(BIN)/python -m pipeline score-demo
	@echo "Reports: reports/index.html   Metrics: reports/metrics/   Warehouse: data/warehouse.duckdb"

test: setup ## Run every test (slow, browser and notebook checks included)
	$(BIN)/python -m pytest

lint: setup ## Check formatting and lint with ruff
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests

demo-data: setup ## Regenerate the bundled demo exports in data/raw (deterministic)
	$(BIN)/python -m pipeline synth --out data/raw --answers data/demo/answers.csv

bench: setup ## Speed and memory benchmark of lemmatize + classify
	$(BIN)/python -m pipeline bench

ACCURACY_DATA ?= ../shared/data
ACCURACY_OUT := build/accuracy
# one process per core: single-threaded OpenMP/BLAS, or two processes fight over both cores
ACCURACY := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/accuracy.py \
  --data-root $(ACCURACY_DATA)
# the long reviews on one core; the two appeal sets and the 10,000-text fit time on the other
ACCURACY_PART_A := --sets gpb-sravni-reviews --skip-10k
ACCURACY_PART_B := --sets ryazan-appeals spb-appeals

$(VENV)/.bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench-accuracy: $(VENV)/.bench ## Pipeline vs 6 peers on 3 real sets (../shared/data), 5-fold CV, 2 processes (~1 h)
	mkdir -p $(ACCURACY_OUT)
	@# two processes, one per core; their JSON files are merged into one table
	$(ACCURACY) $(ACCURACY_PART_A) --out $(ACCURACY_OUT)/part_a.json \
	  > $(ACCURACY_OUT)/part_a.log 2>&1 & \
	  peer=$$!; \
	  $(ACCURACY) $(ACCURACY_PART_B) --out $(ACCURACY_OUT)/part_b.json \
	    > $(ACCURACY_OUT)/part_b.log; mine=$$?; \
	  wait $$peer; theirs=$$?; \
	  if [ $$theirs -ne 0 ]; then tail -n 20 $(ACCURACY_OUT)/part_a.log; fi; \
	  test $$mine -eq 0 && test $$theirs -eq 0
	$(BIN)/python benchmarks/accuracy.py --merge $(ACCURACY_OUT)/part_a.json \
	  $(ACCURACY_OUT)/part_b.json --out $(ACCURACY_OUT)/accuracy.json

REASON ?= sms_code_missing
WEEK ?=
NOTEBOOKS := reports/notebooks

why: setup ## "Why did it rise" notebook: make why REASON=card_blocked WEEK=2026-W45 (after make demo)
	mkdir -p $(NOTEBOOKS)
	$(BIN)/papermill --cwd notebooks notebooks/why_reason_rose.ipynb \
	  $(NOTEBOOKS)/why_$(REASON)_$(or $(WEEK),latest).ipynb -p reason_id $(REASON) -p week "$(WEEK)"

undefined: setup ## "What is in Не определено" notebook: make undefined [WEEK=2026-W47]
	mkdir -p $(NOTEBOOKS)
	$(BIN)/papermill --cwd notebooks notebooks/undefined_contacts.ipynb \
	  $(NOTEBOOKS)/undefined_$(or $(WEEK),latest).ipynb -p week "$(WEEK)"

model-errors: setup ## "Where the model errs" notebook: make model-errors
	mkdir -p $(NOTEBOOKS)
	$(BIN)/papermill --cwd notebooks notebooks/model_errors.ipynb \
	  $(NOTEBOOKS)/model_errors_$(or $(WEEK),latest).ipynb -p week "$(WEEK)"

clean: ## Remove generated data, models and reports (keeps data/raw and .venv)
	rm -rf data/interim data/processed data/warehouse.duckdb models reports/*.html \
	  reports/reasons reports/owners reports/archive reports/assets reports/closed_loop.xlsx \
	  reports/metrics reports/plots reports/notebooks

.PHONY: help setup demo test lint demo-data bench bench-accuracy clean why undefined model-errors
