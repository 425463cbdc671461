"""Agents in-process next to Users and Organizations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_agents.__main__ import DEFINITION as AGENTS
from agyn_agents.settings import AgentsSettings
from agyn_common.server import RunningService, start_service
from agyn_testkit.calls import metadata
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.agents.v1 import agents_pb2, agents_pb2_grpc

from agyn_inprocess.organizations import Platform

pb = agents_pb2
MODEL = "00000000-0000-4000-8000-000000000001"  # any UUID: models are not checked (sheet §3.2)


def agent_request(org: str, **fields: Any) -> pb.CreateAgentRequest:
    """A valid CreateAgentRequest in `org`; `fields` override or add."""
    values: dict[str, Any] = {
        "organization_id": org,
        "name": "Reviewer",
        "model": MODEL,
        "init_image": "ghcr.io/agynio/agent-init:1",
        "availability": pb.AGENT_AVAILABILITY_INTERNAL,
    }
    return pb.CreateAgentRequest(**{**values, **fields})


@dataclass
class Agents:
    platform: Platform
    service: RunningService[Any]
    stub: agents_pb2_grpc.AgentsServiceStub

    async def create(self, caller: uuid.UUID, org: str, **fields: Any) -> pb.Agent:
        reply: pb.CreateAgentResponse = await self.stub.CreateAgent(
            agent_request(org, **fields), metadata=metadata(caller)
        )
        return reply.agent

    async def set_role(
        self, caller: uuid.UUID, agent_id: str, identity: uuid.UUID, role: pb.AgentRole
    ) -> None:
        await self.stub.SetAgentRole(
            pb.SetAgentRoleRequest(agent_id=agent_id, identity_id=str(identity), role=role),
            metadata=metadata(caller),
        )


@asynccontextmanager
async def in_process_agents(
    platform: Platform, database_factory: DatabaseFactory, nats_url: str
) -> AsyncIterator[Agents]:
    running = await start_service(
        AGENTS,
        in_process_settings(
            AgentsSettings,
            database_factory("agents", AGENTS.migrations),
            nats_url,
            organizations_address=platform.organizations_service.address,
            users_address=platform.users.running.address,
        ),
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Agents(platform=platform, service=running, stub=agents_pb2_grpc.AgentsServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
