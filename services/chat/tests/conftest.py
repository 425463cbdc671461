"""Fixtures: an organization with its owner (the person chatting), a colleague, an outsider,
an agent and a runner (the services come from agyn_inprocess.fixtures)."""

from __future__ import annotations

import pytest
from agyn_inprocess.agents import Agents
from agyn_inprocess.runners import Cast, Runners, new_cast


@pytest.fixture
async def cast(agents: Agents, runners: Runners) -> Cast:
    return await new_cast(agents, runners)
