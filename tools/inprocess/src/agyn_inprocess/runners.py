"""Runners in-process next to Users, Organizations and Agents."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.server import RunningService, start_service
from agyn_runners.__main__ import DEFINITION
from agyn_runners.settings import RunnersSettings
from agyn_testkit.calls import metadata
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.runners.v1 import runners_pb2 as pb
from agynio.api.runners.v1 import runners_pb2_grpc

from agyn_inprocess.agents import Agents

ORCHESTRATOR = metadata(caller="agents-orchestrator")  # the records' writer


@dataclass
class Runners:
    service: RunningService[Any]
    stub: runners_pb2_grpc.RunnersServiceStub

    @property
    def address(self) -> str:
        return self.service.address


@dataclass
class Cast:
    """An organization with an owner, a member and an outsider, an agent, and a runner of the
    organization with its service token."""

    org: str
    owner: uuid.UUID
    member: uuid.UUID
    outsider: uuid.UUID
    agent_id: str
    runner: pb.Runner
    token: str


async def new_cast(agents: Agents, runners: Runners) -> Cast:
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


@asynccontextmanager
async def in_process_runners(
    agents: Agents,
    database_factory: DatabaseFactory,
    nats_url: str,
    **overrides: Any,
) -> AsyncIterator[Runners]:
    """Runners next to the platform and Agents; Users issues its runners' credentials."""
    served = DEFINITION
    platform = agents.platform
    running = await start_service(
        served,
        in_process_settings(
            RunnersSettings,
            database_factory("runners", served.migrations),
            nats_url,
            organizations_address=platform.organizations_service.address,
            users_address=platform.users.running.address,
            agents_address=agents.service.address,
            **overrides,
        ),
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Runners(service=running, stub=runners_pb2_grpc.RunnersServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)


def workload_request(cast: Cast, **fields: object) -> pb.CreateWorkloadRequest:
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "runner_id": cast.runner.meta.id,
        "thread_id": str(uuid.uuid4()),
        "agent_id": cast.agent_id,
        "organization_id": cast.org,
        "status": pb.WORKLOAD_STATUS_STARTING,
    }
    return pb.CreateWorkloadRequest(**{**values, **fields})  # type: ignore[arg-type]


def volume_request(cast: Cast, **fields: object) -> pb.CreateVolumeRequest:
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "volume_id": str(uuid.uuid4()),
        "thread_id": str(uuid.uuid4()),
        "runner_id": cast.runner.meta.id,
        "agent_id": cast.agent_id,
        "organization_id": cast.org,
        "size_gb": "10",
        "status": pb.VOLUME_STATUS_PROVISIONING,
    }
    return pb.CreateVolumeRequest(**{**values, **fields})  # type: ignore[arg-type]
