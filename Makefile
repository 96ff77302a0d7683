# emops — the two commands a newcomer needs are `make demo` and `make test`.
# Both install what they need (Debian packages, a virtual environment) and are
# idempotent: a second run only does what is missing.

SHELL      := /bin/bash
PYTHON     ?= python3
UV_VERSION := 0.13.8
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
VENV       := .venv
EMOPS      := $(VENV)/bin/emops
OUT        ?= out
# Debian packages the twin, the playbooks and the monitoring run on.
APT_PACKAGES := iproute2 nftables openssh-server openssh-client iperf3 postgresql frr frr-pythontools keepalived haproxy nginx snmpd snmp prometheus-snmp-exporter prometheus chromium chromium-driver prometheus-alertmanager git
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint setup apt clean bench

demo: setup  ## the main job: plan the province's WAN links
	@mkdir -p $(OUT)
	$(EMOPS) capacity plan -i inventory/province --chart $(OUT)/capacity-plan.html \
		--csv $(OUT)/capacity-plan.csv --json $(OUT)/capacity-plan.json
	@echo "chart: $(OUT)/capacity-plan.html"

test: setup lint  ## lint, then every test
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(VENV)/bin/python benchmarks/plan_province.py

setup: $(VENV)/.synced apt

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

apt:  ## install missing Debian packages (root), nothing if all are there
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) $(TOOLS) $(OUT)
