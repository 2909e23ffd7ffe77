"""`python -m bff.users`: managing accounts from a shell, against a real SQLite file."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bff.accounts import Accounts
from bff.users import main
from service_db.engine import create_engine, create_sessions
from tests.support.processes import REPO_ROOT


def run(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    code = main(["--database-url", db, *args])
    out, err = capsys.readouterr()
    return code, out, err


def authenticate(db: str, name: str, password: str) -> bool:
    async def check() -> bool:
        engine = create_engine(db)
        try:
            return await Accounts(create_sessions(engine)).authenticate(name, password) is not None
        finally:
            await engine.dispose()

    return asyncio.run(check())


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bff.db'}"


def test_add_generates_a_password_shown_once(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, db, "add", "Ann", "--role", "approver", "--role", "VIEWER")
    assert code == 0
    password = re.search(r"password: (\S+)", out)
    assert password and authenticate(db, "ann", password[1])
    code, listing, _ = run(capsys, db, "list")
    assert code == 0
    assert listing.strip() == "ann\tann\tapprover viewer\tenabled"
    assert password[1] not in listing and "argon2" not in listing


def test_a_password_from_the_environment_is_never_printed(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BFF_NEW_PASSWORD", "a chosen password")
    code, out, _ = run(capsys, db, "add", "bob", "--role", "clerk", "--display-name", "Bob B")
    assert code == 0 and "a chosen password" not in out and "password:" not in out
    assert authenticate(db, "bob", "a chosen password")
    monkeypatch.setenv("BFF_NEW_PASSWORD", "short")
    code, _, err = run(capsys, db, "reset-password", "bob")
    assert code == 1 and "at least 8 characters" in err
    assert authenticate(db, "bob", "a chosen password")  # unchanged


def test_disable_enable_and_reset(capsys: pytest.CaptureFixture[str], db: str) -> None:
    _, out, _ = run(capsys, db, "add", "cy", "--role", "viewer")
    first = re.search(r"password: (\S+)", out)
    assert first
    assert run(capsys, db, "disable", "cy")[0] == 0
    assert not authenticate(db, "cy", first[1])
    assert "disabled" in run(capsys, db, "list")[1]
    assert run(capsys, db, "enable", "cy")[0] == 0
    assert authenticate(db, "cy", first[1])
    code, out, _ = run(capsys, db, "reset-password", "cy")
    second = re.search(r"password: (\S+)", out)
    assert code == 0 and second and second[1] != first[1]
    assert authenticate(db, "cy", second[1]) and not authenticate(db, "cy", first[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "dup", "--role", "viewer"], "already exists"),
        (["add", "x", "--role", "admin"], "unknown role(s) admin"),
        (["add", "Bad Name!", "--role", "viewer"], "a user name is"),
        (["disable", "nobody"], "no user nobody"),
    ],
)
def test_mistakes_get_a_clear_message_and_exit_1(
    capsys: pytest.CaptureFixture[str], db: str, args: list[str], message: str
) -> None:
    run(capsys, db, "add", "dup", "--role", "viewer")
    code, _, err = run(capsys, db, *args)
    assert code == 1 and message in err and "Traceback" not in err


def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bff.users", "list"],
        env={"BFF_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "PATH": ""},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no users"
