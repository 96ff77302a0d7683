"""`emops dashboard`: where it may listen, what it checks before starting Streamlit."""

from __future__ import annotations

import pytest
from pagetest import LAB

from control.emops_cli import main
from dashboard.dashboard_cli import streamlit_command
from dashboard.settings import DashboardSettings, check_address
from emops.errors import EmopsError


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "198.19.255.1"])
def test_loopback_and_lab_addresses_are_allowed(address):
    assert check_address(address, allow_any=False) == address


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "192.168.1.10", "198.20.0.1", "::"])
def test_other_addresses_need_the_explicit_flag(address):
    with pytest.raises(EmopsError, match="outside loopback"):
        check_address(address, allow_any=False)
    assert check_address(address, allow_any=True) == address


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--address", "0.0.0.0"], "--address: 0.0.0.0 is outside loopback"),
        (["--address", "dashboard.example"], "is not an IP address"),
        (["--port", "70000"], "--port: '70000' is outside 1 .. 65535"),
        (["--prometheus", "127.0.0.1:9090"], "--prometheus: '127.0.0.1:9090' is not an http(s)"),
        (["--inventory", "/nonexistent/inventory"], "emops: error:"),
    ],
)
def test_bad_options_end_with_one_line_and_exit_2(capsys, args, message):
    assert main(["dashboard", "--inventory", str(LAB), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_streamlit_runs_headless_without_telemetry_on_the_chosen_address():
    command = streamlit_command("127.0.0.1", 8600)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4].endswith("dashboard/app.py")
    for option in (
        "--server.address=127.0.0.1",
        "--server.port=8600",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ):
        assert option in command


def test_settings_travel_through_the_environment():
    settings = DashboardSettings(
        inventory="/inv", prometheus="http://127.0.0.1:9", campaigns="/c", alertmanager=""
    )
    assert DashboardSettings.from_env(settings.to_env()) == settings
    assert DashboardSettings.from_env({}) == DashboardSettings()
