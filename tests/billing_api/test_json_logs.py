"""LOG_FORMAT=json in a real uvicorn process: every line is JSON, uvicorn's own included, and a
request's lines carry its X-Request-ID."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.billing_api.harness import TOKEN
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port


def test_every_line_is_json_with_the_request_id(tmp_path: Path) -> None:
    env = service_env({
        "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}",
        # Nothing listens there: the pull fails, and says so in a log line.
        "BILLING_ORDERING_URL": f"http://127.0.0.1:{free_port()}",
        "BILLING_PULL_ENABLED": "false",
        "SERVICE_TOKEN": TOKEN,
        "LOG_FORMAT": "json",
    })  # fmt: skip
    log = tmp_path / "billing.log"
    with ServiceProcess("billing", "billing_api.app:create_app", free_port(), env, log) as billing:
        response = httpx.post(
            f"{billing.url}/sync/run",
            headers={"authorization": f"Bearer {TOKEN}", "x-request-id": "json-log-1"},
            timeout=10,
        )
        assert response.status_code == 503
        assert response.headers["x-request-id"] == "json-log-1"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert all(line["service"] == "billing" for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's lines too"
    failed = [line for line in lines if line["message"].startswith("pull failed")]
    assert failed and all(line["request_id"] == "json-log-1" for line in failed)
    assert failed[0]["level"] == "WARNING"
