"""Fixtures: an organization with an owner, a member and an outsider, an agent, and a runner
(the services come from agyn_inprocess.fixtures)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from agyn_inprocess.agents import Agents
from agyn_inprocess.runners import Runners
from agyn_testkit.calls import metadata
from agynio.api.runners.v1 import runners_pb2 as pb


@dataclass
class Cast:
    org: str
    owner: uuid.UUID
    member: uuid.UUID
    outsider: uuid.UUID
    agent_id: str
    runner: pb.Runner
    token: str


@pytest.fixture
async def cast(agents: Agents, runners: Runners) -> Cast:
    platform = agents.platform
    owner = await platform.user("owner")
    org = await platform.create_org(owner)
    member = await platform.user("member")
    await platform.join(owner, org, member)
    agent = await agents.create(owner, org)
    reply = await runners.stub.RegisterRunner(
        pb.RegisterRunnerRequest(
            name="edge", organization_id=org, labels={"zone": "a"}, capabilities=["gpu"]
        ),
        metadata=metadata(owner),
    )
    return Cast(
        org, owner, member, await platform.user("outsider"), agent.meta.id, reply.runner, reply.service_token
    )
