"""Every agent is a platform identity (sheet §3.2; issue 16 item 3).

An agent's id is its identity id: it is registered with Identity (the users deployable) as
IDENTITY_TYPE_AGENT, holds a direct `member` grant on its organization (where the sheet writes
the OpenFGA tuple `identity:<id> member organization:<org>`, Organizations'
WriteOrganizationGrants stands in: DESIGN §3), and its nickname is its handle in the
organization, which Identity stores and keeps unique across users, apps and agents.

None of this shares the agents database's transaction. The handlers make these calls inside
their writing transaction, each with its undo (`step`, `agyn_common.db.on_rollback`): when a
later step or the commit fails (the pipeline's too, for a call with an idempotency key),
what was done remotely is undone, newest first, and the transaction rolls back, so no agent
is left half made (sheet §8 #17). A registration cannot be undone; the identity of an agent
that was rolled back names nothing and is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

import grpc
from agyn_common.caller import acting_as
from agyn_common.db import Undo, on_rollback
from agyn_common.errors import ServiceError, already_exists, dependency_unavailable
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from agynio.api.organizations.v1 import access_pb2, access_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncConnection

USERS, ORGANIZATIONS = "users", "organizations"  # the dependencies, as errors name them
MEMBER = "member"


class AgentIdentities:
    """The agent's identity, membership and handle, as Identity and Organizations keep them.

    Each call has the channels' deadline; a peer that cannot answer is UNAVAILABLE naming it.
    """

    def __init__(self, users: grpc.aio.Channel, organizations: grpc.aio.Channel) -> None:
        self._identity = identity_pb2_grpc.IdentityServiceStub(users)
        self._access = access_pb2_grpc.OrganizationAccessServiceStub(organizations)

    async def register(self, agent_id: uuid.UUID) -> None:
        """Identity learns the agent's id as an agent's (a platform call: no identity)."""
        try:
            await self._identity.RegisterIdentity(
                identity_pb2.RegisterIdentityRequest(
                    identity_id=str(agent_id), identity_type=identity_pb2.IDENTITY_TYPE_AGENT
                )
            )
        except grpc.aio.AioRpcError as error:
            raise dependency_unavailable(USERS, error) from error

    async def admit(self, agent_id: uuid.UUID, organization_id: uuid.UUID) -> None:
        """The agent becomes a `member` of its organization (writing it again changes nothing)."""
        await self._write_grant(agent_id, organization_id, admit=True)

    async def dismiss(self, agent_id: uuid.UUID, organization_id: uuid.UUID) -> None:
        """The agent's `member` grant goes (none left is fine)."""
        await self._write_grant(agent_id, organization_id, admit=False)

    async def _write_grant(self, agent_id: uuid.UUID, organization_id: uuid.UUID, *, admit: bool) -> None:
        grant = access_pb2.OrganizationGrant(
            identity_id=str(agent_id), organization_id=str(organization_id), relation=MEMBER
        )
        request = access_pb2.WriteOrganizationGrantsRequest(
            writes=[grant] if admit else [], deletes=[] if admit else [grant]
        )
        try:
            await self._access.WriteOrganizationGrants(request)
        except grpc.aio.AioRpcError as error:
            raise dependency_unavailable(ORGANIZATIONS, error) from error

    async def set_nickname(self, agent_id: uuid.UUID, organization_id: uuid.UUID, nickname: str) -> None:
        """The agent's handle in its organization becomes `nickname`; "" removes it (none held is
        fine). A handle someone else holds is ALREADY_EXISTS.

        The call acts as the agent itself: Identity lets an identity manage its own handle when it
        is a member of the organization, which the agent is from `admit` until `dismiss`. Acting
        as the caller would not do: Agents has already decided that the caller may edit the agent
        (`can_edit_config`), but a maintainer of the agent may not manage others' handles.
        """
        metadata = acting_as(agent_id)
        try:
            if nickname:
                await self._identity.SetNickname(
                    identity_pb2.SetNicknameRequest(
                        organization_id=str(organization_id), identity_id=str(agent_id), nickname=nickname
                    ),
                    metadata=metadata,
                )
            else:
                await self._identity.RemoveNickname(
                    identity_pb2.RemoveNicknameRequest(
                        organization_id=str(organization_id), identity_id=str(agent_id)
                    ),
                    metadata=metadata,
                )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                raise already_exists("nickname already taken in the organization") from error
            if error.code() == grpc.StatusCode.NOT_FOUND and not nickname:
                return  # nothing to remove
            raise dependency_unavailable(USERS, error) from error


async def step(connection: AsyncConnection, what: str, action: Awaitable[None], undo: Undo) -> None:
    """Await `action`, a write in another service, and have `undo` run if the transaction of
    `connection` does not commit. It is registered too when `action` failed without an answer
    from the peer (UNAVAILABLE: a deadline, a lost connection), since the write may have
    happened; the undo steps are idempotent."""
    refused = False  # a definite answer refusing the write: nothing to undo
    try:
        await action
    except ServiceError as error:
        refused = error.code != grpc.StatusCode.UNAVAILABLE
        raise
    finally:
        if not refused:
            on_rollback(connection, what, undo)
