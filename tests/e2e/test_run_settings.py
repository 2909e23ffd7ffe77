"""The run command refuses, in words and before starting anything, what it cannot use."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.runner.environment import service_environment
from scripts.runner.settings import RunSettings, SettingsError
from tests.support.processes import REPO_ROOT


def run_module(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.runner", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_port_in_use_stops_the_run_before_it_starts_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_module(
            {"PATH": "/usr/bin:/bin", "RUN_VAR_DIR": str(tmp_path / "var"), "BFF_PORT": str(port)}
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "set BFF_PORT" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "supervisor").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORDERING_PORT", "eighty", "is not a port number"),
        ("BILLING_PORT", "70000", "is not between 1 and 65535"),
        ("RUN_REPLICAS", "0", "is not a number from 1 to 16"),
        ("RUN_HEALTH_PATH", "readyz", "is not a URL path"),
    ],
)
def test_a_bad_setting_is_refused_in_words(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        RunSettings.from_environment(scaled=True, env={name: value})


def test_the_scaled_run_puts_replicas_on_consecutive_ports_behind_the_public_ones() -> None:
    settings = RunSettings.from_environment(
        scaled=True, env={"RUN_REPLICA_PORT_BASE": "9100", "RUN_REPLICAS": "3"}
    )
    replicas = settings.replica_list()
    assert [r.name for r in replicas[:3]] == ["ordering-1", "ordering-2", "ordering-3"]
    assert [r.port for r in replicas] == list(range(9100, 9109))
    assert set(settings.listen_ports()) >= {8000, 8001, 8002, 5433, 6380, 8404}


def test_the_services_reach_each_other_through_the_public_ports_unless_told_otherwise() -> None:
    env = {"RUN_VAR_DIR": "/srv/o2i", "BFF_PORT": "9000", "RUN_POSTGRES_PORT": "5544"}
    plain = service_environment(RunSettings.from_environment(scaled=False, env=env), env)
    assert plain["ORDERING_DATABASE_URL"] == "sqlite+aiosqlite:////srv/o2i/ordering.db"
    assert plain["BILLING_WEB_URL"] == "http://127.0.0.1:9000"
    assert plain["APP_ENV"] == "development"

    scaled_settings = RunSettings.from_environment(scaled=True, env=env)
    # The developer's own setting wins; the rest is decided by the run.
    scaled = service_environment(
        scaled_settings, {**env, "BILLING_ORDERING_URL": "http://elsewhere:1"}, "pw"
    )
    assert scaled["ORDERING_DATABASE_URL"] == (
        "postgresql+asyncpg://postgres:pw@127.0.0.1:5544/ordering"
    )
    assert scaled["BFF_CACHE_URL"] == "redis://127.0.0.1:6380/0"
    assert scaled["BFF_ORDERING_URL"] == "http://127.0.0.1:8001"  # the balancer
    assert scaled["BILLING_ORDERING_URL"] == "http://elsewhere:1"
