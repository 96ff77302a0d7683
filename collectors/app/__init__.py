"""Application collectors (job `emops-app`): HTTP probes, VRRP state, PostgreSQL, /stats.

The pipeline mirrors the SNMP exporter's: inventory -> topology model -> an
`AppPlan` of targets (targets.py) -> one round of checks per interval, each
from its vantage point (vantage.py, agent.py) -> the latest results (store.py)
-> `AppCollector` families on every scrape (exposition.py). A target that does
not answer is a 0 and a reason, never an exception out of the round.
"""
