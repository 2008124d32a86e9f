# On a fresh machine: `make run` (install, prepare the model, build the index, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: install model index run test lint clean-index

# torch==2.13.0 first: it is the local CPU wheel; anything else would pull GBs of CUDA.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

model: install
	$(BIN)/assistant prepare-model

index: model
	$(BIN)/assistant ingest

run: index
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

test: model
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-index:
	rm -rf data/index
