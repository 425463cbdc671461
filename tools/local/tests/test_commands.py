"""The command lines of the services `make up` runs, as a newcomer first tries them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from agyn_local.services import SERVICES


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_help_answers_without_settings(service):
    result = subprocess.run(
        [sys.executable, "-m", service.module, "--help"],
        env={"PATH": os.environ["PATH"]},  # no DATABASE_URL, no addresses
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: agyn-{service.name} ")
    assert "serve" in result.stdout


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
