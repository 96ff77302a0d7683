"""`alertmanager.yml` as plain data: who is told what, and what stays quiet.

Pages go to the pager receiver, information to the log receiver; both are
webhooks on the emops alert sink (campaigns read alerts back there; in the
province a relay forwards pages to the SMS gateway). Inhibition keeps one
incident to one notification: a cut-off site silences the alerts of its own
devices and links, and a down service silences its own component alerts.
"""

from __future__ import annotations

from emops.monitoring.settings import MonitorSettings

PAGE_RECEIVER = "pager"
INFO_RECEIVER = "log"


def alertmanager_config(s: MonitorSettings) -> dict:
    t = s.timing
    sink = s.endpoints.alert_sink.rstrip("/")
    return {
        "route": {
            "receiver": INFO_RECEIVER,
            "group_by": ["site", "service"],
            "group_wait": t.group_wait,
            "group_interval": t.group_interval,
            "repeat_interval": t.repeat_interval,
            "routes": [
                {"matchers": ['severity="page"'], "receiver": PAGE_RECEIVER},
                {"matchers": ['severity="info"'], "receiver": INFO_RECEIVER},
            ],
        },
        "receivers": [
            _webhook(PAGE_RECEIVER, f"{sink}/alerts/page"),
            _webhook(INFO_RECEIVER, f"{sink}/alerts/info"),
        ],
        "inhibit_rules": [
            {
                # a site cut off from HQ: its routers, links and probes say the same thing
                "source_matchers": ['alertname="WanSiteIsolated"'],
                "target_matchers": ['alertname!="WanSiteIsolated"'],
                "equal": ["site"],
            },
            {
                # a service down: its backends, VIP, VRRP and latency alerts are the evidence
                "source_matchers": ['alertname=~".+ServiceDown"'],
                "target_matchers": ['alertname!~".+ServiceDown"'],
                "equal": ["service"],
            },
        ],
    }


def _webhook(name: str, url: str) -> dict:
    return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}
