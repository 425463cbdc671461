"""Users in-process: its client, users as the Gateway's first sign-in makes them, admins,
and workload credentials as the agents orchestrator and Runners obtain them."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.server import RunningService
from agyn_testkit.calls import metadata
from agyn_users.admins import set_cluster_admin
from agynio.api.identity.v1 import identity_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from agynio.api.ziti_management.v1 import ziti_management_pb2, ziti_management_pb2_grpc


@dataclass
class UsersClient:
    running: RunningService[Any]
    channel: grpc.aio.Channel
    users: users_pb2_grpc.UsersServiceStub
    identity: identity_pb2_grpc.IdentityServiceStub

    @property
    def issuer(self) -> ziti_management_pb2_grpc.ZitiManagementServiceStub:
        """The credential issuer (ZitiManagementService) the users deployable serves."""
        return ziti_management_pb2_grpc.ZitiManagementServiceStub(self.channel)

    async def make_admin(self, identity_id: uuid.UUID | str) -> None:
        async with self.running.runtime.db.transaction() as connection:
            await set_cluster_admin(connection, uuid.UUID(str(identity_id)), True)


async def provision(client: UsersClient, subject: str | None = None, **fields: str) -> users_pb2.User:
    """A user as the Gateway's first-sign-in path creates it."""
    request = users_pb2.ResolveOrCreateUserRequest(oidc_subject=subject or f"sub-{uuid.uuid4()}", **fields)
    reply: users_pb2.ResolveOrCreateUserResponse = await client.users.ResolveOrCreateUser(
        request, metadata=metadata()
    )
    return reply.user


async def admin_user(client: UsersClient) -> uuid.UUID:
    user = await provision(client, name="Admin")
    await client.make_admin(user.meta.id)
    return uuid.UUID(user.meta.id)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def agent_credential(
    client: UsersClient, agent_id: uuid.UUID, workload_id: uuid.UUID
) -> ziti_management_pb2.CreateAgentIdentityResponse:
    """A workload credential, as the agents orchestrator gets one before starting the workload."""
    reply: ziti_management_pb2.CreateAgentIdentityResponse = await client.issuer.CreateAgentIdentity(
        ziti_management_pb2.CreateAgentIdentityRequest(agent_id=str(agent_id), workload_id=str(workload_id)),
        metadata=metadata(caller="agents-orchestrator"),
    )
    return reply


async def runner_credential(
    client: UsersClient, runner_id: uuid.UUID
) -> ziti_management_pb2.CreateRunnerIdentityResponse:
    """A runner's credential, as Runners gets one when the runner enrolls."""
    reply: ziti_management_pb2.CreateRunnerIdentityResponse = await client.issuer.CreateRunnerIdentity(
        ziti_management_pb2.CreateRunnerIdentityRequest(
            runner_id=str(runner_id), role_attributes=["runners"]
        ),
        metadata=metadata(caller="runners"),
    )
    return reply
