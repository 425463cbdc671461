"""One thread at a time: create, archive, degrade, add participants, read.

Thread participation is Threads' own fact; organization relations come from Organizations,
agent relations (may the caller bring this agent in?) and an agent's organization from Agents.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import sqlalchemy as sa
from agyn_common.agent_access import CAN_INITIATE, AgentAccess
from agyn_common.caller import Caller, current_caller
from agyn_common.db import Database
from agyn_common.errors import failed_precondition, invalid_argument
from agyn_common.org_access import OrganizationAccess
from agyn_common.validation import check_length, parse_uuid
from agynio.api.threads.v1 import threads_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_threads import convert, store
from agyn_threads.identities import Identities
from agyn_threads.rpc.permissions import ADD_PARTICIPANT, ARCHIVE, READ, ThreadPermissions

ORGANIZATION_KEY = "x-organization-id"
MAX_PARTICIPANTS = 99  # sheet §8 #2


class ThreadHandlers:
    def __init__(
        self,
        database: Database,
        organizations: OrganizationAccess,
        agents: AgentAccess,
        identities: Identities,
        permissions: ThreadPermissions,
    ) -> None:
        self._db = database
        self._organizations = organizations
        self._agents = agents
        self._identities = identities
        self._permissions = permissions

    async def create(
        self, request: pb.CreateThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateThreadResponse:
        caller_info = current_caller()
        caller = caller_info.require_identity()
        if request.participant_ids and request.participants:
            raise invalid_argument("participants", "participant_ids and participants are mutually exclusive")
        if len(request.participant_ids) + len(request.participants) > MAX_PARTICIPANTS:
            raise invalid_argument("participants", f"at most {MAX_PARTICIPANTS} participants")
        organization_id = await self._organization_of_call(context, request, caller_info)
        listed = [
            parse_uuid(value.strip(), f"participant_ids[{index}]")
            for index, value in enumerate(request.participant_ids)
        ]
        for index, participant in enumerate(request.participants):
            listed.append(
                await self._identities.resolve(caller, participant, f"participants[{index}]", organization_id)
            )
        if caller in listed:
            raise invalid_argument("participants", "participants must not include the initiator")
        if len(set(listed)) != len(listed):
            raise invalid_argument("participants", "duplicate participant")
        if organization_id is None:
            raise invalid_argument("organization_id", "organization_id must be provided")
        await self._organizations.require(caller, "can_create_thread", organization_id)
        await self._require_initiate(caller, listed)
        thread_id = uuid.uuid4()
        async with self._db.transaction() as connection:
            await store.create_thread(
                connection,
                thread_id,
                organization_id,
                caller,
                initiator_passive=caller_info.is_agent,
                listed=listed,
            )
            thread = await _thread(connection, thread_id)
        return pb.CreateThreadResponse(thread=thread)

    async def archive(self, request: pb.ArchiveThreadRequest) -> pb.ArchiveThreadResponse:
        caller = current_caller().require_identity()
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        async with self._db.transaction() as connection:
            row = await store.load_thread(connection, thread_id, lock=True)
            await self._permissions.require(connection, caller, row, ARCHIVE)
            await store.archive_thread(connection, thread_id)
            thread = await _thread(connection, thread_id)
        return pb.ArchiveThreadResponse(thread=thread)

    async def degrade(self, request: pb.DegradeThreadRequest) -> pb.DegradeThreadResponse:
        caller = current_caller().identity_id  # none: the orchestrator, trusted by the mesh
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        reason = check_length(request.reason.strip(), "reason", max_chars=1024)
        async with self._db.transaction() as connection:
            row = await store.load_thread(connection, thread_id, lock=True)
            if caller is not None:
                await self._organizations.require(caller, "can_manage_organization", row.organization_id)
            if row.status == store.ACTIVE:  # degraded stays degraded, archived wins
                await store.degrade_thread(connection, thread_id, reason or None)
            thread = await _thread(connection, thread_id)
        return pb.DegradeThreadResponse(thread=thread)

    async def add_participant(
        self, request: pb.AddParticipantRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddParticipantResponse:
        caller = current_caller().require_identity()
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        async with self._db.transaction() as connection:
            row = await store.load_thread(connection, thread_id)
            await self._permissions.require(connection, caller, row, ADD_PARTICIPANT)
        if request.HasField("participant"):
            # Nicknames are the thread organization's; naming another organization is a mistake.
            named = await self._organization_of_call(context, request, current_caller())
            if named is not None and named != row.organization_id:
                raise invalid_argument(
                    "organization_id", "organization_id does not match the thread's organization"
                )
            participant = await self._identities.resolve(
                caller, request.participant, "participant", row.organization_id
            )
        elif request.participant_id:
            participant = parse_uuid(request.participant_id.strip(), "participant_id")
        else:
            raise invalid_argument("participant", "participant identifier must be provided")
        await self._require_initiate(caller, [participant])
        async with self._db.transaction() as connection:
            row = await store.load_thread(connection, thread_id, lock=True)
            refuse_archived(row)
            await store.add_participant(connection, thread_id, participant, passive=request.passive)
            thread = await _thread(connection, thread_id)
        return pb.AddParticipantResponse(thread=thread)

    async def _require_initiate(self, caller: uuid.UUID, participants: list[uuid.UUID]) -> None:
        """Bringing an agent in needs `can_initiate` on it; an agent adding itself is not
        checked (threads sheet §8 #7: a private agent may still start its own threads)."""
        others = [participant for participant in participants if participant != caller]
        agents = await self._identities.agents_among(caller, others)
        await self._agents.require_each(caller, CAN_INITIATE, agents)

    async def _organization_of_call(
        self,
        context: grpc.aio.ServicerContext,
        request: pb.CreateThreadRequest | pb.AddParticipantRequest,
        caller: Caller,
    ) -> uuid.UUID | None:
        """The organization of the call: the one the metadata pins, else an agent caller's own,
        else the request's; a request naming another one is refused (threads sheet §A3)."""
        requested = (
            parse_uuid(request.organization_id.strip(), "organization_id")
            if request.HasField("organization_id")
            else None
        )
        pinned = [value for key, value in context.invocation_metadata() or () if key == ORGANIZATION_KEY]
        fixed: uuid.UUID | None = None
        if pinned:
            fixed = parse_uuid(str(pinned[-1]).strip(), ORGANIZATION_KEY)
        elif caller.is_agent:
            fixed = await self._agents.organization_of(caller.require_identity())
        if fixed is None:
            return requested
        if requested is not None and requested != fixed:
            raise invalid_argument("organization_id", "organization_id does not match identity organization")
        return fixed

    async def get(self, request: pb.GetThreadRequest) -> pb.GetThreadResponse:
        caller = current_caller().require_identity()
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        async with self._db.transaction() as connection:
            row = await store.load_thread(connection, thread_id)
            await self._permissions.require(connection, caller, row, READ)
            thread = await _thread(connection, thread_id)
        return pb.GetThreadResponse(thread=thread)


def refuse_archived(thread: sa.Row[Any]) -> None:
    if thread.status == store.ARCHIVED:
        raise failed_precondition("thread is archived", "THREAD_ARCHIVED")


async def _thread(connection: AsyncConnection, thread_id: uuid.UUID) -> pb.Thread:
    """The thread as it now is, with its participants."""
    row = await store.load_thread(connection, thread_id)
    (thread,) = convert.thread_messages([row], await store.participants_of(connection, [row]))
    return thread
