# The Agyn platform backend. `make help` lists the targets.
# Every target installs what it needs: uv into .tools/, then the workspace into .venv/.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced
BIN := $(VENV)/bin

# Use the machine's Python (3.11+); never download one behind the user's back.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help up test pytest bench lint typecheck fmt proto generate new-service charts kind-up kind-test kind-down clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)
	$(UV) sync --all-packages --locked --python $(PYTHON)
	@touch $@

up: $(SYNCED) ## Run the whole platform on this machine (state in .agyn/local; Ctrl-C stops)
	$(BIN)/python -m agyn_local up

test: lint typecheck pytest ## Lint, type-check and run every test (what CI runs)

# Test workers side by side (pytest-xdist), each with its own PostgreSQL, NATS and share of
# the ports; a file's tests stay together on one worker (they share its services).
PYTEST_WORKERS ?= auto

pytest: $(SYNCED) ## Run the tests only (PYTEST_WORKERS=0 runs them in this process)
	$(BIN)/pytest --numprocesses=$(PYTEST_WORKERS) --dist=loadfile

bench: $(SYNCED) ## Benchmark SendMessage and its delivery, the Gateway, the cost of one call, Files, Tracing, Chat; then the goals (~7 min)
	$(BIN)/python bench/goals.py

lint: $(SYNCED) ## ruff (lint and formatting check) and shellcheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/shellcheck deploy/kind/*.sh

typecheck: $(SYNCED) ## mypy over the libraries, services and tools
	$(BIN)/mypy

fmt: $(SYNCED) ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

proto: $(SYNCED) ## Regenerate libs/api from proto/ (pinned grpcio-tools)
	$(BIN)/python scripts/gen_proto.py

generate: $(SYNCED) ## Regenerate the charts' generated files, Dockerfiles and skaffold.yaml (tools/deploy)
	$(BIN)/python -m agyn_deploy generate

new-service: $(SYNCED) ## Add a service: `make new-service NAME=<name>` ([a-z][a-z0-9]*), ready for `make test`
	$(BIN)/python -m agyn_deploy new-service "$(NAME)"
	$(UV) lock
	$(MAKE) proto generate

charts: $(SYNCED) ## Build the Helm charts' dependencies (before `helm install deploy/helm/agyn`)
	$(BIN)/python -m agyn_deploy charts

kind-up: $(SYNCED) ## Create a kind cluster with Istio and deploy the platform (needs docker, kind, istioctl, skaffold)
	deploy/kind/kind.sh up

kind-test: $(SYNCED) ## kind-up, run tests/integration against it, always tear down; the tests' exit code
	deploy/kind/kind.sh test

kind-down: ## Delete the kind cluster
	deploy/kind/kind.sh down

clean: ## Remove the tool and virtual environments (keeps .agyn/local data)
	rm -rf $(TOOLS) $(VENV)
