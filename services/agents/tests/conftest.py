"""Fixtures: a cast of callers around one agent (the services come from agyn_inprocess.fixtures)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from agyn_inprocess.agents import Agents, pb


@dataclass
class Cast:
    """One organization and one agent in it, with every kind of caller (sheet §4)."""

    org: str
    org_owner: uuid.UUID  # created the organization, and the agent
    agent_owner: uuid.UUID  # organization members holding an agent role
    maintainer: uuid.UUID
    participant: uuid.UUID
    member: uuid.UUID  # an organization member without a role on the agent
    outsider: uuid.UUID  # not in the organization
    agent: pb.Agent


@pytest.fixture
async def cast(agents: Agents) -> Cast:
    platform = agents.platform
    org_owner = await platform.user("olga")
    org = await platform.create_org(org_owner)
    people = {}
    for name in ("agent_owner", "maintainer", "participant", "member"):
        people[name] = await platform.user(name.replace("_", ""))
        await platform.join(org_owner, org, people[name])
    agent = await agents.create(org_owner, org)
    for name, role in (("agent_owner", pb.AGENT_ROLE_OWNER), ("maintainer", pb.AGENT_ROLE_MAINTAINER)):
        await agents.set_role(org_owner, agent.meta.id, people[name], role)
    await agents.set_role(org_owner, agent.meta.id, people["participant"], pb.AGENT_ROLE_PARTICIPANT)
    return Cast(org, org_owner, outsider=await platform.user("otto"), agent=agent, **people)
