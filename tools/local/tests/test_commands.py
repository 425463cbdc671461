"""The command lines of the services `make up` runs, as a newcomer first tries them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from agyn_local.services import SERVICES


def without_settings(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        env={"PATH": os.environ["PATH"]},  # no DATABASE_URL, no addresses
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_help_answers_without_settings(service):
    result = without_settings(service.module, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: agyn-{service.name} ")
    assert "serve" in result.stdout


@pytest.mark.parametrize("command", ["issue-token", "bootstrap-admin"])
def test_a_services_own_commands_answer_help_without_settings(command):
    result = without_settings("agyn_users", command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: agyn-users {command} ")


def test_issue_token_says_when_the_platform_is_not_up(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "agyn_local", "issue-token", "--dir", str(tmp_path), "--username", "ada"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == f"agyn-local: the platform is not up in {tmp_path}; start it with `make up`\n"
