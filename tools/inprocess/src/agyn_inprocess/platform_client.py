"""The calls a user makes through the Gateway, made straight to the service processes of a
local platform (the integration scenarios that reach behind the Gateway)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import grpc
from agynio.api.agents.v1 import agents_pb2, agents_pb2_grpc
from agynio.api.chat.v1 import chat_pb2_grpc
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc

from agyn_inprocess.agents import agent_request

GATEWAY = (("x-agyn-caller", "gateway"),)


class Addressed(Protocol):
    addresses: Mapping[str, str]


def as_user(identity: str, identity_type: str = "user") -> tuple[tuple[str, str], ...]:
    return (*GATEWAY, ("x-identity-id", identity), ("x-identity-type", identity_type))


class Client:
    """The calls a user makes through the Gateway, straight to the service processes."""

    def __init__(self, processes: Addressed) -> None:
        self.channels = {
            name: grpc.aio.insecure_channel(address) for name, address in processes.addresses.items()
        }
        self.users = users_pb2_grpc.UsersServiceStub(self.channels["users"])
        self.organizations = organizations_pb2_grpc.OrganizationsServiceStub(self.channels["organizations"])
        self.threads = threads_pb2_grpc.ThreadsServiceStub(self.channels["threads"])
        self.notifications = notifications_pb2_grpc.NotificationsServiceStub(self.channels["notifications"])
        self.agents = agents_pb2_grpc.AgentsServiceStub(self.channels["agents"])
        self.chat = chat_pb2_grpc.ChatServiceStub(self.channels["chat"])

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    async def user(self, username: str) -> str:
        reply: users_pb2.ResolveOrCreateUserResponse = await self.users.ResolveOrCreateUser(
            users_pb2.ResolveOrCreateUserRequest(
                oidc_subject=f"sub-{uuid.uuid4()}", preferred_username=username
            ),
            metadata=GATEWAY,
        )
        return reply.user.meta.id

    async def organization(self, owner: str, *members: str) -> str:
        """A new organization of `owner`, `members` invited and accepted."""
        created: organizations_pb2.CreateOrganizationResponse = await self.organizations.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(name="Acme"), metadata=as_user(owner)
        )
        org = created.organization.id
        for member in members:
            invitation: organizations_pb2.CreateMembershipResponse = (
                await self.organizations.CreateMembership(
                    organizations_pb2.CreateMembershipRequest(
                        organization_id=org, identity_id=member, role=organizations_pb2.MEMBERSHIP_ROLE_MEMBER
                    ),
                    metadata=as_user(owner),
                )
            )
            await self.organizations.AcceptMembership(
                organizations_pb2.AcceptMembershipRequest(membership_id=invitation.membership.id),
                metadata=as_user(member),
            )
        return org

    async def thread(self, initiator: str, org: str, *participants: str) -> str:
        reply: threads_pb2.CreateThreadResponse = await self.threads.CreateThread(
            threads_pb2.CreateThreadRequest(
                organization_id=org,
                participants=[threads_pb2.ParticipantIdentifier(participant_id=p) for p in participants],
            ),
            metadata=as_user(initiator),
        )
        return reply.thread.id

    async def thread_between(self, owner: str, friend: str) -> str:
        return await self.thread(owner, await self.organization(owner, friend), friend)

    async def agent(self, owner: str, org: str, **fields: Any) -> agents_pb2.Agent:
        """A new agent in `org` (INTERNAL unless `fields` say otherwise)."""
        reply: agents_pb2.CreateAgentResponse = await self.agents.CreateAgent(
            agent_request(org, **fields), metadata=as_user(owner)
        )
        return reply.agent

    async def send(self, sender: str, thread_id: str, body: str) -> str:
        reply: threads_pb2.SendMessageResponse = await self.threads.SendMessage(
            threads_pb2.SendMessageRequest(thread_id=thread_id, body=body), metadata=as_user(sender)
        )
        return reply.message.id

    async def subscribe(
        self,
        identity: str,
        rooms: Sequence[str] = ("thread_participant:me",),
        resume_after: str = "",
        identity_type: str = "user",
    ) -> Any:
        """An open stream (a grpc.aio stream call), returned once its headers say the
        subscription is live."""
        call = self.notifications.Subscribe(
            notifications_pb2.SubscribeRequest(rooms=list(rooms), resume_after=resume_after),
            metadata=as_user(identity, identity_type),
        )
        await call.initial_metadata()
        return call
