# mlops-platform: offline preview, policy packs, plan diff, tests and operations.
# Every target sets up .venv from requirements.txt first (again whenever requirements.txt changes).

SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK  ?= dev
FORMAT ?= text
BASE   ?=
CONFIG ?=
export CONFIG  # read by the recipe from the environment, so values with spaces or quotes arrive whole
REGION ?=
ARGS   ?=

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
export PYTHONPATH := $(CURDIR):$(CURDIR)/policies/common
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Python's default is to cache compiled modules; some machines switch that off (PYTHONDONTWRITEBYTECODE), and
# then every preview, pack and test process compiles the project again (~2 s CPU per test worker). Cache
# them under build/ instead, out of the source tree.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/build/pycache

.PHONY: help venv preview preview-all diff cost prices architecture manifests checkov test smoke bench lint-workflows \
        bootstrap-backend dr-status dr-failover dr-failback clean

help: ## list the targets and the variables they take
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'
	@echo "Variables (make <target> NAME=value):"
	@echo "  STACK   the stack (Pulumi.<STACK>.yaml); default dev. For diff: only that stack (default: every stack)"
	@echo "  CONFIG  config overrides, space-separated KEY=VALUE; KEY may be a path:"
	@echo "          CONFIG='mlops:dr.replicaRegion=us-west-2 mlops:trainingPools[0].maxNodes=4'"
	@echo "  FORMAT  policy report format for preview: text (default) | json | sarif | junit"
	@echo "  BASE    git ref the diff compares against; default origin/main, else main"
	@echo "  REGION  AWS region for bootstrap-backend"
	@echo "  ARGS    extra arguments passed to the dr-* and bootstrap-backend commands"
	@echo "Exit codes: 0 ok, 1 policy (unwaived mandatory violation or expired waiver), 2 config or program error,"
	@echo "3 internal error. make itself always exits 2 on failure, so the recipe prints the tool's own code first."

# Run a tool command and, when it fails, say its own exit code (make reports every failure as 2).
define run_tool
$(1) || { code=$$?; echo "make: $(2) exited $$code ($$(case $$code in 1) echo policy;; 2) echo 'config or program';; 3) echo internal;; *) echo error;; esac))" >&2; exit $$code; }
endef

$(STAMP): requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "installing requirements.txt into $(VENV) (first run takes a few minutes)"
	@$(PY) -m pip install --quiet --requirement requirements.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@touch $@

venv: $(STAMP) ## create or refresh .venv from requirements.txt

preview: $(STAMP) ## offline preview of STACK (default dev) with the policy packs; writes build/plan/$(STACK).json
	@$(call run_tool,$(PY) -m mlops_tools preview --stack $(STACK) --format $(FORMAT) --configs "$$CONFIG",preview)

preview-all: $(STAMP) ## offline preview of every Pulumi.<stack>.yaml
	@$(call run_tool,$(PY) -m mlops_tools preview-all --format $(FORMAT),preview-all)

diff: $(STAMP) ## Markdown plan diff between BASE (default origin/main or main) and the working tree; STACK=<s> for one stack
	@$(call run_tool,$(PY) -m mlops_tools diff $(if $(BASE),--base $(BASE)) $(if $(filter command line environment,$(origin STACK)),--stack $(STACK)),diff)

cost: $(STAMP) ## monthly cost estimate of STACK, every resource with price, quantity and assumption (FORMAT=text|json|csv)
	@$(PY) -m mlops_tools cost --stack $(STACK) --format $(if $(filter $(FORMAT),json csv),$(FORMAT),text) --configs "$$CONFIG"

prices: $(STAMP) ## refresh the dated price snapshot (mlops_tools/review/cost/snapshot/) from the AWS, Azure and GCP price APIs
	@for s in $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml)); do $(PY) -m mlops_tools preview --stack $$s --quiet --no-policy || exit 2; done
	$(PY) -m mlops_tools prices $(ARGS)

architecture: $(STAMP) ## regenerate the architecture picture in README.md from the dev stack's plan
	$(PY) -m mlops_tools preview --stack dev --quiet --no-policy
	$(PY) -m mlops_tools architecture --stack dev --write README.md

manifests: $(STAMP) ## render and validate every Kubernetes manifest of STACK into build/manifests/$(STACK)/
	$(PY) -m mlops_tools preview --stack $(STACK) --quiet --no-policy
	$(PY) -m mlops_tools manifests --stack $(STACK)

CHECKOV_VENV  := build/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.requirements-installed

# Checkov pins packages the project also uses (pydantic, boto3, ...) at other versions: its own venv.
$(CHECKOV_STAMP): policies/checkov/requirements.txt
	@test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	@echo "installing policies/checkov/requirements.txt into $(CHECKOV_VENV)"
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --requirement policies/checkov/requirements.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@touch $@

checkov: $(STAMP) $(CHECKOV_STAMP) ## Checkov over STACK's rendered manifests and .github (run after make preview); adds its SARIF run to build/reports/$(STACK).sarif
	@test -f build/plan/$(STACK).json || $(PY) -m mlops_tools preview --stack $(STACK) --quiet --no-policy
	$(PY) -m mlops_tools manifests --stack $(STACK)
	$(PY) -m mlops_tools checkov --stack $(STACK)

# `time` (bash) prints wall and CPU (user+sys of every worker) and --durations the slowest tests, so a run
# on any machine says where its time went (issue 18: the goal is under 35 s on 2 cores).
test: $(STAMP) ## the whole suite: every stack file previewed with every policy pack and its manifests validated
	time $(PY) -m pytest -n 2 --dist loadscope --durations=15

# make smoke runs the dev stacks of the three clouds unless STACK is given on the command line.
SMOKE_STACKS := $(if $(filter file,$(origin STACK)),dev azure-dev gcp-dev,$(STACK))

smoke: $(STAMP) ## run the rendered config of STACK (default: dev azure-dev gcp-dev) with the real MLflow, Postgres, Prometheus, emulators
	$(PY) -m mlops_tools.smoke.setup
	$(PY) -m mlops_tools.smoke.run $(SMOKE_STACKS)

bench: $(STAMP) ## preview seconds and peak memory per stack and per resource
	$(PY) -m mlops_tools bench

lint-workflows: $(STAMP) ## validate .github/workflows against the GitHub workflow schema and our rules
	$(PY) -m mlops_tools lint-workflows

bootstrap-backend: $(STAMP) ## create the S3 state bucket and KMS key for self-managed state (REGION=...)
	@test -n "$(REGION)" || { echo "usage: make bootstrap-backend REGION=<aws region> [ARGS=...]" >&2; exit 2; }
	$(PY) -m mlops_tools bootstrap-backend --region $(REGION) $(ARGS)

dr-status: $(STAMP) ## replication health of STACK against its RPO (the runbook of the stack file's mlops:cloud)
	$(PY) -m mlops_tools dr status --stack $(STACK) $(ARGS)

dr-failover: $(STAMP) ## promote the DR replicas of STACK and repoint the tracking database (asks first; ARGS=--dry-run shows the plan)
	$(PY) -m mlops_tools dr failover --stack $(STACK) $(ARGS)

dr-failback: $(STAMP) ## return STACK to its primary region after a failover (asks first; refuses while replication is behind)
	$(PY) -m mlops_tools dr failback --stack $(STACK) $(ARGS)

clean: ## remove build outputs
	rm -rf build
