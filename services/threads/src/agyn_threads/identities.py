"""Who a participant is: @nicknames and identity types, asked of Identity (users deployable).

Calls carry the acting caller's identity, so Identity applies that caller's rights in the
organization.
"""

from __future__ import annotations

import uuid

import grpc
from agyn_common.caller import acting_as
from agyn_common.errors import (
    ServiceError,
    dependency_unavailable,
    invalid_argument,
    not_found,
)
from agyn_common.validation import parse_uuid
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from agynio.api.threads.v1 import threads_pb2 as pb

NICKNAME_BATCH = 1000  # what Identity takes in one call


class Identities:
    def __init__(self, users: grpc.aio.Channel) -> None:
        self._identity = identity_pb2_grpc.IdentityServiceStub(users)

    async def resolve(
        self,
        caller: uuid.UUID,
        participant: pb.ParticipantIdentifier,
        field: str,
        organization_id: uuid.UUID | None,
    ) -> uuid.UUID:
        """The identity a ParticipantIdentifier names (by id, or by @nickname in the organization)."""
        case = participant.WhichOneof("identifier")
        if case == "participant_id":
            return parse_uuid(participant.participant_id.strip(), f"{field}.participant_id")
        if case != "participant_nickname":
            raise invalid_argument(field, "participant_id or participant_nickname must be set")
        nickname = participant.participant_nickname.strip().removeprefix("@")
        if not nickname:
            raise invalid_argument(f"{field}.participant_nickname", "participant_nickname must be provided")
        if organization_id is None:
            raise invalid_argument(
                "organization_id", "organization_id must be provided for participant_nickname"
            )
        try:
            reply = await self._identity.ResolveNickname(
                identity_pb2.ResolveNicknameRequest(organization_id=str(organization_id), nickname=nickname),
                metadata=acting_as(caller),
            )
        except grpc.aio.AioRpcError as error:
            raise _mapped(error, f"participant nickname @{nickname} not found") from error
        return uuid.UUID(reply.identity_id)

    async def agents_among(self, caller: uuid.UUID, identities: list[uuid.UUID]) -> list[uuid.UUID]:
        """Which of `identities` are agents (their joining needs `can_initiate`, asked of Agents)."""
        if not identities:
            return []
        try:
            reply = await self._identity.BatchGetIdentityTypes(
                identity_pb2.BatchGetIdentityTypesRequest(identity_ids=[str(i) for i in identities]),
                metadata=acting_as(caller),
            )
        except grpc.aio.AioRpcError as error:
            raise _mapped(error, "identity not found") from error
        return [
            uuid.UUID(entry.identity_id)
            for entry in reply.entries
            if entry.identity_type == identity_pb2.IDENTITY_TYPE_AGENT
        ]

    async def nicknames(
        self, caller: uuid.UUID, organization_id: uuid.UUID, identities: list[uuid.UUID]
    ) -> dict[str, str]:
        """Handles in the organization, asked in batches Identity accepts."""
        found: dict[str, str] = {}
        for start in range(0, len(identities), NICKNAME_BATCH):
            try:
                reply = await self._identity.BatchGetNicknames(
                    identity_pb2.BatchGetNicknamesRequest(
                        organization_id=str(organization_id),
                        identity_ids=[str(i) for i in identities[start : start + NICKNAME_BATCH]],
                    ),
                    metadata=acting_as(caller),
                )
            except grpc.aio.AioRpcError as error:
                raise dependency_unavailable("users", error) from error
            found.update((entry.identity_id, entry.nickname) for entry in reply.entries)
        return found


def _mapped(error: grpc.aio.AioRpcError, not_found_message: str) -> ServiceError:
    if error.code() == grpc.StatusCode.NOT_FOUND:
        return not_found(not_found_message)
    if error.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT):
        return ServiceError(error.code(), error.details() or error.code().name)
    return dependency_unavailable("users", error)
