from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from agyn_common.embedded import EmbeddedNats
from agyn_inprocess.runner import Runner, in_process_runner


@pytest.fixture
async def runner(tmp_path: Path, nats: EmbeddedNats) -> AsyncIterator[Runner]:
    """A daemon of the test's own: its workloads are processes the test's end stops."""
    async with in_process_runner(
        tmp_path / "runner", nats.url, runner_allowed_commands="/bin/sh,sh"
    ) as running:
        yield running
