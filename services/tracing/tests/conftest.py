"""Fixtures: an organization whose agent exports with its workload credential (the services
come from agyn_inprocess.fixtures)."""

from __future__ import annotations

from typing import Any

import pytest
from agyn_inprocess.agents import Agents
from agyn_inprocess.tracing import exporting_agent


@pytest.fixture
async def org(agents: Agents) -> dict[str, Any]:
    return await exporting_agent(agents)
