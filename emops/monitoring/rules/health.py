"""Device health: CPU, memory, temperature, fans, power supplies, optics, reboots, and
profile data a device should give but does not.

Each resource has one reading per device and entity, whatever the vendor: the
`emops:*_utilisation_ratio` records fuse the sources in order of precision (the
vendor's per-module table, else Cisco's memory pools, else HOST-RESOURCES), so a
device with both a vendor table and HOST-RESOURCES raises one alert, not two.
Every alert is `info`: a busy or hot module, a failed fan or power supply is a
component that redundancy (or a spare unit) carries until someone acts.
"""

from __future__ import annotations

from emops.monitoring.promql import evidence, labelled
from emops.monitoring.rules.constructors import alert, expr, record, rule_group
from emops.monitoring.settings import MonitorSettings, duration_seconds
from emops.topology import Topology

DEVICE = "device, site, role"
ENTITY = "device, site, role, entity"
HOST_CPU = "all processors"  # the entity of HOST-RESOURCES' mean hrProcessorLoad
HOST_MEMORY = "physical memory"  # the entity of HOST-RESOURCES' hrStorageRam
UPTIME_WRAP_SECONDS = 42_900_000  # sysUpTime (TimeTicks, 32 bits) wraps at 497 days


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.health` rule group."""
    return rule_group(
        "emops.health",
        records(s) + resource_alerts(s) + sensor_alerts(s) + [reboot_alert(s), missing_alert(s)],
    )


def _or_zero(metric: str) -> str:
    """A device's reading, 0 where the device does not report it (for subtraction)."""
    used = f"max by ({DEVICE}) (emops_device_memory_used_bytes)"
    return f"(max by ({DEVICE}) ({metric}) or 0 * {used})"


def records(s: MonitorSettings) -> list[dict]:
    """The CPU and memory readings, most precise source first; HOST-RESOURCES only
    where the settings trust it (`Thresholds.host_resources`)."""
    host = s.thresholds.host_resources
    vendor_cpu = f"max by ({ENTITY}) (emops_cpu_utilization_ratio)"
    host_cpu = f"""
        (
          label_replace(
            max by ({DEVICE}) (emops_device_cpu_load_ratio), "entity", "{HOST_CPU}", "", ""
          )
          unless on (device) emops_cpu_utilization_ratio
        )
        """
    vendor_memory = f"max by ({ENTITY}) (emops_memory_utilization_ratio)"
    used, free = "emops_memory_pool_used_bytes", "emops_memory_pool_free_bytes"
    pools = f"""
        (
          max by ({ENTITY}) (
            label_replace(
              sum by ({DEVICE}, pool) ({used})
              / (sum by ({DEVICE}, pool) ({used}) + sum by ({DEVICE}, pool) ({free})),
              "entity", "$1", "pool", "(.*)")
          )
          unless on (device) emops_memory_utilization_ratio
        )
        """
    # Linux counts buffers and page cache as used; they are given back on demand,
    # so they are subtracted and a full page cache does not alarm.
    host_memory = f"""
        (
          label_replace(
            (
              max by ({DEVICE}) (emops_device_memory_used_bytes)
              - {_or_zero("emops_memory_buffers_bytes")}
              - {_or_zero("emops_memory_cached_bytes")}
            )
            / max by ({DEVICE}) (emops_device_memory_size_bytes),
            "entity", "{HOST_MEMORY}", "", "")
          unless on (device) emops_memory_utilization_ratio
          unless on (device) emops_memory_pool_used_bytes
        )
        """
    cpu = [vendor_cpu] + [host_cpu] * host
    memory = [vendor_memory, pools] + [host_memory] * host
    return [
        record("emops:cpu_utilisation_ratio", _either(cpu)),
        record("emops:memory_utilisation_ratio", _either(memory)),
    ]


def _either(sources: list[str]) -> str:
    """Sources joined by `or`: each one's series only where no earlier one has the device."""
    return "\nor\n".join(expr(source) for source in sources)


def _where() -> str:
    return "{{ $labels.device }} ({{ $labels.role }}, site {{ $labels.site }})"


def resource_alerts(s: MonitorSettings) -> list[dict]:
    t, th = s.timing, s.thresholds
    return [
        alert(
            f"{name}High",
            f"emops:{metric}_utilisation_ratio > {limit:g}",
            severity="info",
            wait=t.health_for,
            summary=(
                f"{{{{ $labels.device }}}} {what} {{{{ $labels.entity }}}} at "
                "{{ $value | humanizePercentage }}"
            ),
            description=f"""
                {what[0].upper() + what[1:]} {{{{ $labels.entity }}}} of {_where()} has been
                {{{{ $value | humanizePercentage }}}} used for {t.health_for}, above
                {limit:g}. {consequence}
                """,
        )
        for name, metric, what, limit, consequence in (
            (
                "Cpu",
                "cpu",
                "CPU",
                th.cpu_high_ratio,
                "A saturated control plane drops routing hellos and SNMP polls first.",
            ),
            (
                "Memory",
                "memory",
                "memory",
                th.memory_high_ratio,
                "Buffers and page cache are not counted (they are given back on demand).",
            ),
        )
    ]


def sensor_alerts(s: MonitorSettings) -> list[dict]:
    t, th = s.timing, s.thresholds
    default = th.temperature_default_celsius
    temperature = f"max by ({ENTITY}) (emops_sensor_temperature_celsius)"
    own_limit = "max by (device, entity) (emops_sensor_temperature_high_celsius > 0)"
    limit = evidence(
        labelled(
            'max(emops_sensor_temperature_high_celsius{device="%s", entity="%s"} > 0)',
            "device",
            "entity",
        ),
        "its own high threshold {{ . | first | value }} °C",
        none=f"the default {default:g} °C (the device gives no threshold)",
    )
    rx = f"max by ({ENTITY}) (emops_optics_rx_power_dbm)"
    bound = evidence(
        labelled(
            'max(emops_optics_rx_power_%s_dbm{device="%s", entity="%s"})',
            "bound",
            "device",
            "entity",
        ),
    )
    port_down = (
        'label_replace(max by (device, ifname) (emops_interface_oper_up) == 0, "entity", "$1", '
        '"ifname", "(.*)")'
    )
    return [
        alert(
            "TemperatureHigh",
            f"""
            ({temperature} > on (device, entity) group_left () {own_limit})
            or
            ({temperature} > {default:g} unless on (device, entity) {own_limit})
            """,
            severity="info",
            wait=t.confirm_for,
            summary="{{ $labels.device }} {{ $labels.entity }} at {{ $value }} °C",
            description=f"""
                Sensor {{{{ $labels.entity }}}} of {_where()} reads {{{{ $value }}}} °C, above
                {limit}. Check the fans and the room's cooling before the device shuts
                the module down.
                """,
        ),
        _state_alert("FanFailed", "emops_fan_ok", "fan", t.confirm_for),
        _state_alert("PowerSupplyFailed", "emops_power_supply_ok", "power supply", t.confirm_for),
        # A port that is down reads no light at all: that is LinkDown's (or an unused
        # port's) business, so only ports that are up are judged.
        alert(
            "OpticalPowerOutOfRange",
            f"""
            (
                label_replace(
                  {rx} < on (device, entity) group_left ()
                  max by (device, entity) (emops_optics_rx_power_low_dbm),
                  "bound", "low", "", "")
              or
                label_replace(
                  {rx} > on (device, entity) group_left ()
                  max by (device, entity) (emops_optics_rx_power_high_dbm),
                  "bound", "high", "", "")
            )
            unless on (device, entity) {port_down}
            """,
            severity="info",
            wait=t.confirm_for,
            summary=(
                "{{ $labels.device }} {{ $labels.entity }} receives {{ $value }} dBm "
                "({{ $labels.bound }})"
            ),
            description=f"""
                The transceiver of {{{{ $labels.entity }}}} on {_where()} receives
                {{{{ $value }}}} dBm, outside the device's own {{{{ $labels.bound }}}} alarm
                threshold {bound} dBm while the port is up: a dirty connector, a bent
                fibre or a failing laser at the far end; errors follow.
                """,
        ),
    ]


def _state_alert(name: str, metric: str, what: str, wait: str) -> dict:
    return alert(
        name,
        f"min by ({ENTITY}) ({metric}) == 0",
        severity="info",
        wait=wait,
        summary=f"{{{{ $labels.device }}}} {what} {{{{ $labels.entity }}}} failed",
        description=f"""
            The {what} {{{{ $labels.entity }}}} of {_where()} reports a failed or abnormal
            state ({metric} = 0). The device runs on its other units; replace it before
            the next one fails.
            """,
    )


def reboot_alert(s: MonitorSettings) -> dict:
    """An uptime that went back: seen directly (resets), or after an outage of the
    agent (uptime younger than the window and SNMP was down within it). The 32-bit
    sysUpTime wrap after 497 days goes back too, and is left out."""
    w = s.timing.change_window
    uptime = "emops_device_uptime_seconds"
    now = evidence(
        labelled(f'max({uptime}{{device="%s"}})', "device"),
        "{{ . | first | value | humanizeDuration }}",
    )
    return alert(
        "DeviceRebooted",
        f"""
        (
            (max by ({DEVICE}) (resets({uptime}[{w}])) > 0)
          or
            (
              (max by ({DEVICE}) ({uptime}) < {duration_seconds(w)})
              and on (device) (min by (device) (min_over_time(emops_snmp_up[{w}])) == 0)
            )
        )
        unless on (device) (max by (device) (max_over_time({uptime}[{w}])) > {UPTIME_WRAP_SECONDS})
        """,
        severity="info",
        summary="{{ $labels.device }} restarted",
        description=f"""
            The uptime of {_where()} went back within the last {w}; it is now
            {now}: the device rebooted or its SNMP agent restarted. Shown for {w}; look
            for the cause (power, a crash, a planned reload) in its own log.
            """,
    )


def missing_alert(s: MonitorSettings) -> dict:
    return alert(
        "ProfileDataMissing",
        "max by (device, site, role, profile, group) (emops_snmp_profile_missing) == 1",
        severity="info",
        wait=s.timing.health_for,
        summary="{{ $labels.device }} gives no {{ $labels.group }} data",
        description=f"""
            Profile {{{{ $labels.profile }}}} promises {{{{ $labels.group }}}} readings, but
            {_where()} has returned none for {s.timing.health_for}: its {{{{ $labels.group }}}}
            alerts cannot fire. The device may lack the MIB (a different model or software
            than the profile assumes) or the SNMP view may hide it.
            """,
    )
