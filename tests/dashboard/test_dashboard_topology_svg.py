"""The topology drawing: every device and link, state in colour, valid SVG for any inventory."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from pagetest import ROOT

from dashboard.network_state import network_state
from dashboard.prometheus import Sample
from dashboard.timerange import TimeRange
from dashboard.topology_svg import COLOURS, link_colour, topology_svg
from emops.topology import load_topology

SVG = "{http://www.w3.org/2000/svg}"


def state_of(topo, utilisation=None, down=(), silent=()):
    utilisation = utilisation or {}
    members = [
        Sample({"link": lk.name, "member": str(m)}, 0.0 if lk.name in down else 1.0)
        for lk in topo.links
        for m in range(max(1, len(lk.members)))
    ]
    devices = [Sample({"device": d}, 0.0 if d in silent else 1.0) for d in topo.devices]
    util = [Sample({"link": k}, v) for k, v in utilisation.items()]
    return network_state(topo, devices, members, [], util)


@pytest.mark.parametrize("inventory", ["lab", "province"])
def test_every_device_and_link_is_drawn(inventory):
    topo = load_topology(ROOT / "inventory" / inventory)
    root = ET.fromstring(topology_svg(topo, state_of(topo)))
    groups = list(root.iter(f"{SVG}g"))
    devices = {g.get("data-device") for g in groups if g.get("class") == "device"}
    links = {g.get("data-link") for g in groups if (g.get("class") or "").startswith("link ")}
    assert devices == set(topo.devices)
    assert links == {lk.name for lk in topo.links}
    sites = {t.get("data-site") for t in root.iter(f"{SVG}text") if t.get("class") == "site"}
    assert sites == {s.name for s in topo.municipal_sites()}


def test_state_is_drawn_in_colour():
    topo = load_topology(ROOT / "inventory" / "lab")
    state = state_of(
        topo,
        utilisation={"anping-private": 0.9, "baishan-private": 0.1, "qinghe-backup": 0.4},
        down={"changle-private"},
        silent={"hq-web2"},
    )
    svg = topology_svg(topo, state, selected="anping")
    root = ET.fromstring(svg)
    strokes = {
        g.get("data-link"): {ln.get("stroke") for ln in g.iter(f"{SVG}line")}
        for g in root.iter(f"{SVG}g")
        if g.get("data-link")
    }
    assert COLOURS["full"] in strokes["anping-private"]
    assert COLOURS["ok"] in strokes["baishan-private"]
    assert COLOURS["down"] in strokes["changle-private"]
    assert COLOURS["backup_carrying"] in strokes["qinghe-backup"]
    assert COLOURS["backup_idle"] in strokes["anping-backup"]
    assert len([ln for ln in strokes["anping-backup"] if ln]) == 1  # 4 members, one colour
    assert 'data-device="hq-web2" data-up="false"' in svg
    assert "?site=anping" in svg  # site names drill down


def test_link_colour_thresholds_follow_the_planners_ceiling():
    topo = load_topology(ROOT / "inventory" / "lab")
    for value, colour in ((0.2, "ok"), (0.4, "busy"), (0.7, "full"), (None, "unknown")):
        util = {} if value is None else {"anping-private": value}
        state = state_of(topo, utilisation=util).links["anping-private"]
        assert link_colour(state, max_utilisation=0.7) == COLOURS[colour], value


def test_time_range_windows():
    r = TimeRange.last(3600, "lab", now=1_000_007)
    assert r.step == 30 and r.end == 999_990  # aligned: cached range answers are reused
    assert (r.window, r.now_window, r.point_window) == ("3600s", "30s", "30s")
    assert TimeRange.last(7 * 86400, "province").point_window == "7200s"
    assert TimeRange.last(900, "province").now_window == "120s"
