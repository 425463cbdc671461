"""Organization @nicknames, which Identity (in the users deployable) stores (sheet §3.4).

Calls go out with the acting end user's `x-identity-id`, so Identity applies that user's
rights in the organization.
"""

from __future__ import annotations

import logging
import uuid

import grpc
from agyn_common.caller import acting_as
from agyn_common.errors import ServiceError, dependency_unavailable, failed_precondition
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc

log = logging.getLogger(__name__)


class Nicknames:
    def __init__(self, users: grpc.aio.Channel) -> None:
        self._identity = identity_pb2_grpc.IdentityServiceStub(users)
        self._users = users_pb2_grpc.UsersServiceStub(users)

    async def require_identity(self, acting: uuid.UUID, identity_id: uuid.UUID) -> int:
        """The identity's type; FAILED_PRECONDITION when no such identity exists."""
        try:
            reply = await self._identity.GetIdentityType(
                identity_pb2.GetIdentityTypeRequest(identity_id=str(identity_id)), metadata=acting_as(acting)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise failed_precondition(
                    "identity not found", "IDENTITY_NOT_FOUND", identity_id=str(identity_id)
                ) from error
            raise dependency_unavailable("users", error) from error
        return int(reply.identity_type)

    async def seed_default(
        self, acting: uuid.UUID, organization_id: uuid.UUID, identity_id: uuid.UUID
    ) -> None:
        """Give a user who just became active their username as handle, unless they have one.

        Best effort: the membership stands whatever happens here.
        """
        try:
            await self._seed(acting, organization_id, identity_id)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:  # handle taken in the organization
                log.warning(
                    "default nickname not set for %s in %s: %s %s",
                    identity_id,
                    organization_id,
                    error.code().name,
                    error.details(),
                )

    async def _seed(self, acting: uuid.UUID, organization_id: uuid.UUID, identity_id: uuid.UUID) -> None:
        metadata = acting_as(acting)
        kind = await self._identity.GetIdentityType(
            identity_pb2.GetIdentityTypeRequest(identity_id=str(identity_id)), metadata=metadata
        )
        if kind.identity_type != identity_pb2.IDENTITY_TYPE_USER:
            return
        existing = await self._identity.BatchGetNicknames(
            identity_pb2.BatchGetNicknamesRequest(
                organization_id=str(organization_id), identity_ids=[str(identity_id)]
            ),
            metadata=metadata,
        )
        if existing.entries:  # a handle chosen earlier (e.g. before leaving) is kept
            return
        users = await self._users.BatchGetUsers(
            users_pb2.BatchGetUsersRequest(identity_ids=[str(identity_id)]), metadata=metadata
        )
        username = users.users[0].username if users.users else ""
        if not username:
            return
        await self._identity.SetNickname(
            identity_pb2.SetNicknameRequest(
                organization_id=str(organization_id), identity_id=str(identity_id), nickname=username
            ),
            metadata=metadata,
        )

    async def set_own(self, caller: uuid.UUID, organization_id: uuid.UUID, nickname: str) -> None:
        """The caller's own handle; Identity's status is passed on unchanged (e.g. ALREADY_EXISTS)."""
        try:
            await self._identity.SetNickname(
                identity_pb2.SetNicknameRequest(
                    organization_id=str(organization_id), identity_id=str(caller), nickname=nickname
                ),
                metadata=acting_as(caller),
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise dependency_unavailable("users", error) from error
            raise ServiceError(error.code(), error.details() or error.code().name) from error
