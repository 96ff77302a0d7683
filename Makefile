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
# Debian packages the twin, the playbooks, the monitoring and the tests run on
# (every program in tests/testkit.py TOOL_PACKAGES; tests/test_testkit.py checks).
APT_PACKAGES := iproute2 procps curl nftables openssh-server openssh-client iperf3 postgresql frr frr-pythontools frr-snmp keepalived haproxy nginx snmpd snmp prometheus-snmp-exporter prometheus chromium chromium-driver prometheus-alertmanager git
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

LAB_DIR    ?= /var/lib/emops-lab
DASHBOARD_PID := $(OUT)/dashboard.pid

.PHONY: demo demo-down dashboard-start test lint setup apt clean bench

# The main job: plan the province's WAN links, then bring up the digital twin,
# provision it with the playbooks, watch it with Prometheus and the collectors,
# run the short load-and-fault campaign, and serve the dashboard. Everything
# keeps running in the background until `make demo-down`.
demo: setup
	@mkdir -p $(OUT)
	$(EMOPS) capacity plan -i inventory/province --chart $(OUT)/capacity-plan.html \
		--csv $(OUT)/capacity-plan.csv --json $(OUT)/capacity-plan.json
	$(EMOPS) lab up
	$(VENV)/bin/ansible-playbook -i inventory/lab playbooks/site.yml --limit @$(LAB_DIR)/limit
	$(EMOPS) monitor up
	$(EMOPS) campaign run smoke --out $(OUT)/campaigns/smoke
	@$(MAKE) --no-print-directory dashboard-start
	@echo "capacity plan: $(OUT)/capacity-plan.html"
	@echo "Prometheus:    http://127.0.0.1:9090   Alertmanager: http://127.0.0.1:9093"
	@echo "dashboard:     http://127.0.0.1:8501   (stop everything: make demo-down)"

demo-down:  ## stop what `make demo` started: dashboard, monitoring, twin
	@pid=$$(cat $(DASHBOARD_PID) 2>/dev/null); \
	if [ -n "$$pid" ] && tr '\0' ' ' < /proc/$$pid/cmdline 2>/dev/null | grep -q "streamlit run .*dashboard/app.py"; then \
		kill $$pid && echo "dashboard: stopped (pid $$pid)"; \
	fi; rm -f $(DASHBOARD_PID)
	-$(EMOPS) monitor down
	$(EMOPS) lab down

dashboard-start:
	@pid=$$(cat $(DASHBOARD_PID) 2>/dev/null); \
	if [ -n "$$pid" ] && kill -0 $$pid 2>/dev/null; then echo "dashboard: already running (pid $$pid)"; \
	else nohup $(EMOPS) dashboard --alertmanager http://127.0.0.1:9093 > $(OUT)/dashboard.log 2>&1 & \
		echo $$! > $(DASHBOARD_PID); echo "dashboard: started (pid $$!)"; fi

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
