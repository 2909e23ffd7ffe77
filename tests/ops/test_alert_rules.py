"""The alert rules in ops/prometheus/ are valid, fire on their conditions (promtool's own rule
tests), and only name metrics the apps export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from bff.metrics import BffMetrics
from billing_api.metrics import BillingMetrics
from ordering_api.metrics import OrderingMetrics
from service_http.metrics import HttpMetrics

RULES_DIR = Path(__file__).resolve().parents[2] / "ops" / "prometheus"
RULES = RULES_DIR / "alerts.yml"
# promtool from Debian's `prometheus` package (scripts/setup test installs it).
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_promtool_rule_tests_pass() -> None:
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_rule_tests_catch_a_broken_rule(tmp_path: Path) -> None:
    """The rule tests can fail: with a threshold moved, the dead-letter case does."""
    rules = RULES.read_text().replace("(billing_dead_letters) > 0", "(billing_dead_letters) > 5")
    (tmp_path / "alerts.yml").write_text(rules)
    shutil.copy(RULES_DIR / "alerts_test.yml", tmp_path)
    result = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "BillingDeadLetters" in result.stdout + result.stderr


def exported_metric_names() -> set[str]:
    registry = CollectorRegistry()
    HttpMetrics(registry)
    OrderingMetrics(registry)
    BffMetrics(registry)

    async def none() -> int:
        return 0

    BillingMetrics(registry).count_dead_letters(none)
    names: set[str] = set()
    for family in registry.collect():
        names.update(sample.name for sample in family.samples)
        names.add(family.name)
        if family.type == "counter":  # a labelled counter has no samples before its first use
            names.add(f"{family.name}_total")
    return names


def test_rules_name_only_exported_metrics() -> None:
    exported = exported_metric_names()
    groups = yaml.safe_load(RULES.read_text())["groups"]
    used = {
        name
        for group in groups
        for rule in group["rules"]
        for name in re.findall(r"\b(?:billing|bff|ordering|http)_[a-z_]+\b", rule["expr"])
    }
    assert used, "no metric found in the rules"
    assert used <= exported, used - exported


def test_the_example_scrape_configuration_is_valid() -> None:
    """ops/prometheus/prometheus.yml (credential files exist only on a Prometheus host)."""
    result = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
