"""Users and Organizations running in-process and wired to each other, as in `make up`:
the `platform` most service suites start from."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.embedded import free_port
from agyn_common.server import RunningService, start_service
from agyn_organizations.__main__ import DEFINITION as ORGANIZATIONS
from agyn_organizations.settings import OrganizationsSettings
from agyn_testkit.calls import metadata
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agyn_users.__main__ import DEFINITION as USERS
from agyn_users.settings import UsersSettings
from agynio.api.identity.v1 import identity_pb2_grpc
from agynio.api.organizations.v1 import access_pb2, access_pb2_grpc, organizations_pb2, organizations_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc

from agyn_inprocess.users import UsersClient, provision

pb = organizations_pb2
OWNER, MEMBER = pb.MEMBERSHIP_ROLE_OWNER, pb.MEMBERSHIP_ROLE_MEMBER
PENDING, ACTIVE = pb.MEMBERSHIP_STATUS_PENDING, pb.MEMBERSHIP_STATUS_ACTIVE


@dataclass
class Platform:
    users: UsersClient
    organizations_service: RunningService[Any]
    organizations: organizations_pb2_grpc.OrganizationsServiceStub
    access: access_pb2_grpc.OrganizationAccessServiceStub
    organizations_running: bool = True

    async def stop_organizations(self) -> None:
        await self.organizations_service.stop(1)
        self.organizations_running = False

    async def start_organizations(self) -> None:
        """Organizations again, on the same port and database."""
        settings = self.organizations_service.runtime.settings
        self.organizations_service = await start_service(ORGANIZATIONS, settings)
        self.organizations_running = True

    async def stop_users(self) -> None:
        await self.users.running.stop(1)

    async def start_users(self) -> None:
        """Users again, on the same port and database."""
        running = self.users.running
        settings = running.runtime.settings.model_copy(update={"grpc_port": running.port})
        self.users.running = await start_service(USERS, settings)
        # The channel tried while Users was away and waits out its reconnect backoff.
        async with asyncio.timeout(10):
            await self.users.channel.channel_ready()

    async def user(self, username: str | None = None) -> uuid.UUID:
        fields = {"preferred_username": username} if username else {}
        created = await provision(self.users, name=username or "someone", **fields)
        return uuid.UUID(created.meta.id)

    async def username(self, identity: uuid.UUID) -> str:
        """The username Users gave `identity` (a taken one gets a suffix: names are shared)."""
        reply: users_pb2.GetMeResponse = await self.users.users.GetMe(
            users_pb2.GetMeRequest(), metadata=metadata(identity)
        )
        return reply.user.username

    async def admin(self) -> uuid.UUID:
        identity = await self.user()
        await self.users.make_admin(identity)
        return identity

    async def create_org(self, owner: uuid.UUID, name: str = "Acme") -> str:
        reply: pb.CreateOrganizationResponse = await self.organizations.CreateOrganization(
            pb.CreateOrganizationRequest(name=name), metadata=metadata(owner)
        )
        return reply.organization.id

    async def invite(
        self,
        owner: uuid.UUID,
        org: str,
        identity: uuid.UUID,
        role: organizations_pb2.MembershipRole = MEMBER,
    ) -> pb.Membership:
        reply: pb.CreateMembershipResponse = await self.organizations.CreateMembership(
            pb.CreateMembershipRequest(organization_id=org, identity_id=str(identity), role=role),
            metadata=metadata(owner),
        )
        return reply.membership

    async def join(
        self,
        owner: uuid.UUID,
        org: str,
        identity: uuid.UUID,
        role: organizations_pb2.MembershipRole = MEMBER,
    ) -> pb.Membership:
        """Invite `identity` and accept as them: an active membership."""
        invitation = await self.invite(owner, org, identity, role)
        reply: pb.AcceptMembershipResponse = await self.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(identity)
        )
        return reply.membership

    async def check(self, identity: uuid.UUID, relation: str, org: str, caller: str = "threads") -> bool:
        reply: access_pb2.CheckOrganizationRelationResponse = await self.access.CheckOrganizationRelation(
            access_pb2.CheckOrganizationRelationRequest(
                identity_id=str(identity), organization_id=org, relation=relation
            ),
            metadata=metadata(caller=caller),
        )
        return reply.allowed


@asynccontextmanager
async def in_process_platform(database_factory: DatabaseFactory, nats_url: str) -> AsyncIterator[Platform]:
    organizations_port = free_port()  # Users must know where Organizations will listen
    users = await start_service(
        USERS,
        in_process_settings(
            UsersSettings,
            database_factory("users", USERS.migrations),
            nats_url,
            organizations_address=f"127.0.0.1:{organizations_port}",
        ),
    )
    organizations = await start_service(
        ORGANIZATIONS,
        in_process_settings(
            OrganizationsSettings,
            database_factory("organizations", ORGANIZATIONS.migrations),
            nats_url,
            users_address=users.address,
            grpc_port=organizations_port,
        ),
    )
    users_channel = grpc.aio.insecure_channel(users.address)
    organizations_channel = grpc.aio.insecure_channel(organizations.address)
    platform = Platform(
        users=UsersClient(
            running=users,
            channel=users_channel,
            users=users_pb2_grpc.UsersServiceStub(users_channel),
            identity=identity_pb2_grpc.IdentityServiceStub(users_channel),
        ),
        organizations_service=organizations,
        organizations=organizations_pb2_grpc.OrganizationsServiceStub(organizations_channel),
        access=access_pb2_grpc.OrganizationAccessServiceStub(organizations_channel),
    )
    try:
        yield platform
    finally:
        await organizations_channel.close()
        await users_channel.close()
        if platform.organizations_running:
            await platform.organizations_service.stop(1)
        await platform.users.running.stop(1)  # stopping twice is harmless
