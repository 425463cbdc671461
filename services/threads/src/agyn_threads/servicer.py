"""ThreadsService (threads sheet §A3, §A4, §8; DESIGN §2, §5).

Thread participation is Threads' own fact; organization relations come from Organizations.
SendMessage stores the message, one unread row per recipient and the `message.created`
envelope for the recipients' rooms in one transaction; the outbox relay puts the envelope on
the bus, so a bus outage never fails, loses or duplicates a stored message.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import grpc
import sqlalchemy as sa
from agyn_common.caller import Caller, current_caller
from agyn_common.errors import failed_precondition, invalid_argument, not_found, permission_denied
from agyn_common.org_access import OrganizationAccess
from agyn_common.pagination import clamp_page_size, decode_cursor, split_cursor_page
from agyn_common.rooms import room_messages
from agyn_common.server import Runtime
from agyn_common.timestamps import timestamp
from agyn_common.validation import check_length, parse_uuid
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.threads.v1 import threads_pb2 as pb
from agynio.api.threads.v1 import threads_pb2_grpc
from google.protobuf import struct_pb2
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_threads.identities import Identities
from agyn_threads.models import message_recipients, messages, thread_participants, threads
from agyn_threads.settings import ThreadsSettings

ACTIVE, ARCHIVED, DEGRADED = pb.THREAD_STATUS_ACTIVE, pb.THREAD_STATUS_ARCHIVED, pb.THREAD_STATUS_DEGRADED
STATUSES = frozenset({ACTIVE, ARCHIVED, DEGRADED})
ORGANIZATION_KEY = "x-organization-id"
# Limits the contract leaves open (sheet §8 #12, and 99 participants: §8 #2).
MAX_BODY_BYTES = 256 * 1024
MAX_FILES = 32
MAX_ACKS = 1000
MAX_PARTICIPANTS = 99

# Thread relations: a participant holds them all; otherwise this organization relation decides.
READ, WRITE, ADD_PARTICIPANT, ARCHIVE = "can_view_threads", "thread_write", "participant_add", "owner"

SORT_COLUMNS = {
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED: threads.c.created_at,
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_UPDATED: threads.c.updated_at,
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_MESSAGE_COUNT: threads.c.message_count,
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_STATUS: threads.c.status,
}
TIME_SORTS = frozenset(
    {pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED, pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_UPDATED}
)


def message_message(row: Any) -> pb.Message:
    return pb.Message(
        id=str(row.id),
        thread_id=str(row.thread_id),
        sender_id=str(row.sender_id),
        body=row.body,
        file_ids=[str(file_id) for file_id in row.file_ids],
        created_at=timestamp(row.created_at),
    )


def _instant(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise invalid_argument("page_token", "invalid page_token") from None


def _uuid_value(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid_argument("page_token", "invalid page_token") from None


def _after(
    columns: Sequence[Any], values: Sequence[Any], descending: Sequence[bool]
) -> sa.ColumnElement[bool]:
    """Keyset predicate: the rows after `values` in the order of `columns` (each ASC or DESC)."""
    clauses = []
    for index, column in enumerate(columns):
        equal_before = [columns[i] == values[i] for i in range(index)]
        beyond = column < values[index] if descending[index] else column > values[index]
        clauses.append(sa.and_(*equal_before, beyond))
    return sa.or_(*clauses)


def _newer_or_older(query: Any, cursor: list[str] | None, time: Any, key: Any, *, descending: bool) -> Any:
    """`query` ordered by (time, key), both one way, starting after the cursor's row."""
    if cursor is not None:
        last = [_instant(cursor[0]), _uuid_value(cursor[1])]
        query = query.where(_after([time, key], last, [descending, descending]))
    if descending:
        return query.order_by(time.desc(), key.desc())
    return query.order_by(time.asc(), key.asc())


class ThreadsServicer(threads_pb2_grpc.ThreadsServiceServicer):
    def __init__(
        self, runtime: Runtime[ThreadsSettings], organizations: OrganizationAccess, identities: Identities
    ) -> None:
        self._db = runtime.db
        self._outbox = runtime.outbox
        self._organizations = organizations
        self._identities = identities

    # --- writes ------------------------------------------------------------------------

    async def CreateThread(
        self, request: pb.CreateThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateThreadResponse:
        caller_info = current_caller()
        caller = caller_info.require_identity()
        if request.participant_ids and request.participants:
            raise invalid_argument("participants", "participant_ids and participants are mutually exclusive")
        if len(request.participant_ids) + len(request.participants) > MAX_PARTICIPANTS:
            raise invalid_argument("participants", f"at most {MAX_PARTICIPANTS} participants")
        organization_id = self._organization(context, request, caller_info)
        listed: list[uuid.UUID] = []
        if request.participant_ids:
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
        await self._identities.refuse_agents(caller, listed)
        thread_id = uuid.uuid4()
        initiator_passive = (caller_info.identity_type or "").lower() == "agent"
        async with self._db.transaction() as connection:
            await connection.execute(
                threads.insert().values(id=thread_id, organization_id=organization_id, status=ACTIVE)
            )
            # One statement: the initiator first, then the listed ones, in the order given.
            await connection.execute(
                thread_participants.insert(),
                [{"thread_id": thread_id, "participant_id": caller, "passive": initiator_passive}]
                + [{"thread_id": thread_id, "participant_id": p, "passive": False} for p in listed],
            )
            thread = await self._thread(connection, thread_id)
        return pb.CreateThreadResponse(thread=thread)

    async def ArchiveThread(
        self, request: pb.ArchiveThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.ArchiveThreadResponse:
        caller = current_caller().require_identity()
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        async with self._db.transaction() as connection:
            row = await self._load(connection, thread_id, lock=True)
            await self._authorize(connection, caller, row, ARCHIVE)
            await connection.execute(
                threads.update()
                .where(threads.c.id == thread_id)
                .values(
                    status=ARCHIVED,
                    updated_at=sa.func.now(),
                    archived_at=sa.func.coalesce(threads.c.archived_at, sa.func.now()),
                )
            )
            thread = await self._thread(connection, thread_id)
        return pb.ArchiveThreadResponse(thread=thread)

    async def DegradeThread(
        self, request: pb.DegradeThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.DegradeThreadResponse:
        caller = current_caller().identity_id  # none: the orchestrator, trusted by the mesh
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        reason = check_length(request.reason.strip(), "reason", max_chars=1024)
        async with self._db.transaction() as connection:
            row = await self._load(connection, thread_id, lock=True)
            if caller is not None:
                await self._organizations.require(caller, "can_manage_organization", row.organization_id)
            if row.status == ACTIVE:  # degraded stays degraded, archived wins
                await connection.execute(
                    threads.update()
                    .where(threads.c.id == thread_id)
                    .values(
                        status=DEGRADED,
                        updated_at=sa.func.now(),
                        degraded_at=sa.func.now(),
                        degraded_reason=reason or None,
                    )
                )
            thread = await self._thread(connection, thread_id)
        return pb.DegradeThreadResponse(thread=thread)

    async def AddParticipant(
        self, request: pb.AddParticipantRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddParticipantResponse:
        caller_info = current_caller()
        caller = caller_info.require_identity()
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        async with self._db.transaction() as connection:
            row = await self._load(connection, thread_id)
            await self._authorize(connection, caller, row, ADD_PARTICIPANT)
        if request.HasField("participant"):
            # Nicknames are the thread organization's; naming another organization is a mistake.
            named = self._organization(context, request, caller_info)
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
        await self._identities.refuse_agents(caller, [participant])
        async with self._db.transaction() as connection:
            row = await self._load(connection, thread_id, lock=True)
            if row.status == ARCHIVED:
                raise failed_precondition("thread is archived", "THREAD_ARCHIVED")
            inserted = await connection.execute(
                postgresql.insert(thread_participants)
                .values(thread_id=thread_id, participant_id=participant, passive=request.passive)
                .on_conflict_do_nothing()
                .returning(thread_participants.c.participant_id)
            )
            if inserted.first() is not None:  # an existing participant is left as it is
                await connection.execute(
                    threads.update().where(threads.c.id == thread_id).values(updated_at=sa.func.now())
                )
            thread = await self._thread(connection, thread_id)
        return pb.AddParticipantResponse(thread=thread)

    async def SendMessage(
        self, request: pb.SendMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.SendMessageResponse:
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        if not request.body and not request.file_ids:
            raise invalid_argument("body", "body or file_ids must be provided")
        if len(request.body.encode()) > MAX_BODY_BYTES:
            raise invalid_argument("body", f"must be at most {MAX_BODY_BYTES} bytes")
        if len(request.file_ids) > MAX_FILES:
            raise invalid_argument("file_ids", f"at most {MAX_FILES} files")
        file_ids = [parse_uuid(value.strip(), f"file_ids[{i}]") for i, value in enumerate(request.file_ids)]
        caller = current_caller().require_identity()
        if request.sender_id and parse_uuid(request.sender_id.strip(), "sender_id") != caller:
            raise permission_denied("sender_id must be the caller")
        async with self._db.transaction() as connection:
            row = await self._load(connection, thread_id, lock=True)
            await self._authorize(connection, caller, row, WRITE)
            if row.status == ARCHIVED:
                raise failed_precondition("thread is archived", "THREAD_ARCHIVED")
            if row.status == DEGRADED:
                raise failed_precondition("thread is degraded", "THREAD_DEGRADED")
            stored = (
                await connection.execute(
                    messages.insert()
                    .values(
                        id=uuid.uuid4(),
                        thread_id=thread_id,
                        sender_id=caller,
                        body=request.body,
                        file_ids=file_ids,
                    )
                    .returning(*messages.c)
                )
            ).one()
            recipients = (
                (
                    await connection.execute(
                        sa.select(thread_participants.c.participant_id)
                        .where(
                            thread_participants.c.thread_id == thread_id,
                            thread_participants.c.participant_id != caller,
                        )
                        .order_by(thread_participants.c.participant_id)
                    )
                )
                .scalars()
                .all()
            )
            if recipients:
                await connection.execute(
                    message_recipients.insert(),
                    [
                        {"message_id": stored.id, "thread_id": thread_id, "participant_id": p}
                        for p in recipients
                    ],
                )
                await self._announce(connection, stored, recipients)
            await connection.execute(
                threads.update()
                .where(threads.c.id == thread_id)
                .values(updated_at=sa.func.now(), message_count=threads.c.message_count + 1)
            )
        return pb.SendMessageResponse(message=message_message(stored))

    async def _announce(
        self, connection: AsyncConnection, message: Any, recipients: Sequence[uuid.UUID]
    ) -> None:
        """The `message.created` envelope, committed with the message (DESIGN §5)."""
        payload = struct_pb2.Struct()
        payload.update({"thread_id": str(message.thread_id), "message_id": str(message.id)})
        envelope = notifications_pb2.NotificationEnvelope(
            id=str(uuid.uuid4()),
            ts=timestamp(message.created_at),
            source="threads",
            event="message.created",
            rooms=[f"thread_participant:{recipient}" for recipient in recipients],
            payload=payload,
        )
        for copy in room_messages(envelope):
            await self._outbox.emit(connection, copy.subject, copy.body, message_id=copy.message_id)

    async def AckMessages(
        self, request: pb.AckMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.AckMessagesResponse:
        participant = self._self_only(context, request.participant_id)
        if not request.message_ids:
            raise invalid_argument("message_ids", "must not be empty")
        if len(request.message_ids) > MAX_ACKS:
            raise invalid_argument("message_ids", f"at most {MAX_ACKS} ids")
        ids = {parse_uuid(value.strip(), f"message_ids[{i}]") for i, value in enumerate(request.message_ids)}
        async with self._db.transaction() as connection:
            acked = await connection.execute(
                message_recipients.update()
                .where(
                    message_recipients.c.participant_id == participant,
                    message_recipients.c.message_id.in_(ids),
                    message_recipients.c.acked_at.is_(None),
                )
                .values(acked_at=sa.func.now())
                .returning(message_recipients.c.message_id)
            )
            count = len(acked.all())
        return pb.AckMessagesResponse(acked_count=count)

    # --- reads -------------------------------------------------------------------------

    async def GetThread(
        self, request: pb.GetThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadResponse:
        caller = current_caller().require_identity()
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        async with self._db.transaction() as connection:
            row = await self._load(connection, thread_id)
            await self._authorize(connection, caller, row, READ)
            thread = await self._thread(connection, thread_id)
        return pb.GetThreadResponse(thread=thread)

    async def GetThreads(
        self, request: pb.GetThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadsResponse:
        participant = self._self_only(context, request.participant_id)
        page_size = clamp_page_size(request.page_size)
        scope = f"participant:{participant}"
        cursor = decode_cursor(request.page_token, scope, 2)
        query = (
            sa.select(threads)
            .join(thread_participants, thread_participants.c.thread_id == threads.c.id)
            .where(thread_participants.c.participant_id == participant)
        )
        query = _newer_or_older(query, cursor, threads.c.updated_at, threads.c.id, descending=True)
        async with self._db.transaction() as connection:
            rows = (await connection.execute(query.limit(page_size + 1))).all()
            page, token = split_cursor_page(rows, page_size, scope, "updated_at")
            built = await self._threads(connection, page)
        return pb.GetThreadsResponse(threads=built, next_page_token=token)

    async def ListOrganizationThreads(
        self, request: pb.ListOrganizationThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOrganizationThreadsResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        statuses = sorted(set(request.filter.status_in))
        for index, value in enumerate(request.filter.status_in):
            if value not in STATUSES:
                raise invalid_argument(f"filter.status_in[{index}]", "invalid thread status")
        participants = sorted(
            {
                parse_uuid(value.strip(), f"filter.participant_id_in[{index}]")
                for index, value in enumerate(request.filter.participant_id_in)
            }
        )
        after = (
            request.filter.created_after.ToDatetime(tzinfo=UTC)
            if request.filter.HasField("created_after")
            else None
        )
        before = (
            request.filter.created_before.ToDatetime(tzinfo=UTC)
            if request.filter.HasField("created_before")
            else None
        )
        field = request.sort.field or pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED
        if field not in SORT_COLUMNS:
            raise invalid_argument("sort.field", "invalid sort field")
        direction = request.sort.direction or pb.SORT_DIRECTION_DESC
        if direction not in (pb.SORT_DIRECTION_ASC, pb.SORT_DIRECTION_DESC):
            raise invalid_argument("sort.direction", "invalid sort direction")
        await self._organizations.require(caller, "can_view_threads", organization_id)
        filters = [threads.c.organization_id == organization_id]
        if statuses:
            filters.append(threads.c.status.in_(statuses))
        if participants:
            filters.append(
                sa.exists().where(
                    thread_participants.c.thread_id == threads.c.id,
                    thread_participants.c.participant_id.in_(participants),
                )
            )
        if after is not None:
            filters.append(threads.c.created_at >= after)
        if before is not None:
            filters.append(threads.c.created_at < before)
        shape = f"{organization_id}|{statuses}|{participants}|{after}|{before}|{field}|{direction}"
        scope = "org:" + hashlib.sha256(shape.encode()).hexdigest()[:24]
        page, token = await self._organization_page(
            filters,
            SORT_COLUMNS[field],
            field in TIME_SORTS,
            direction == pb.SORT_DIRECTION_DESC,
            scope,
            request,
        )
        async with self._db.transaction() as connection:
            built = await self._threads(connection, page)
        names = await self._identities.nicknames(
            caller,
            organization_id,
            sorted({uuid.UUID(p.id) for thread in built for p in thread.participants}),
        )
        for thread in built:
            for participant in thread.participants:
                participant.nickname = names.get(participant.id, "")
        return pb.ListOrganizationThreadsResponse(threads=built, next_page_token=token)

    async def GetOrganizationThreads(
        self, request: pb.GetOrganizationThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOrganizationThreadsResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        if request.status and request.status not in STATUSES:
            raise invalid_argument("status", "invalid thread status")
        await self._organizations.require(caller, "can_view_threads", organization_id)
        filters = [threads.c.organization_id == organization_id]
        if request.status:
            filters.append(threads.c.status == request.status)
        scope = f"org-legacy:{organization_id}:{request.status}"
        page, token = await self._organization_page(filters, threads.c.created_at, True, True, scope, request)
        async with self._db.transaction() as connection:
            built = await self._threads(connection, page)
        return pb.GetOrganizationThreadsResponse(threads=built, next_page_token=token)

    async def _organization_page(
        self, filters: list[Any], key: Any, key_is_time: bool, descending: bool, scope: str, request: Any
    ) -> tuple[Sequence[Any], str]:
        """One page sorted by `key` (either way), ties broken by id ascending (sheet §8 #10)."""
        page_size = clamp_page_size(request.page_size)
        cursor = decode_cursor(request.page_token, scope, 2)
        query = sa.select(threads).where(*filters)
        if cursor is not None:
            try:
                last = _instant(cursor[0]) if key_is_time else int(cursor[0])
            except ValueError:
                raise invalid_argument("page_token", "invalid page_token") from None
            query = query.where(
                _after([key, threads.c.id], [last, _uuid_value(cursor[1])], [descending, False])
            )
        order = key.desc() if descending else key.asc()
        query = query.order_by(order, threads.c.id.asc()).limit(page_size + 1)
        async with self._db.transaction() as connection:
            rows = (await connection.execute(query)).all()
        return split_cursor_page(rows, page_size, scope, key.name)

    async def GetMessages(
        self, request: pb.GetMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMessagesResponse:
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        if request.order not in (0, pb.MESSAGE_ORDER_OLDEST_FIRST, pb.MESSAGE_ORDER_NEWEST_FIRST):
            raise invalid_argument("order", "invalid message order")
        newest_first = request.order == pb.MESSAGE_ORDER_NEWEST_FIRST
        scope = f"thread:{thread_id}:{'desc' if newest_first else 'asc'}"
        cursor = decode_cursor(request.page_token, scope, 2)
        page_size = clamp_page_size(request.page_size)
        caller = current_caller().require_identity()
        query = sa.select(messages).where(messages.c.thread_id == thread_id)
        query = _newer_or_older(query, cursor, messages.c.created_at, messages.c.id, descending=newest_first)
        async with self._db.transaction() as connection:
            row = (await connection.execute(sa.select(threads).where(threads.c.id == thread_id))).first()
            # An unknown thread is refused like a forbidden one: threads cannot be probed.
            if row is None or not await self._holds(connection, caller, row, READ):
                raise permission_denied("permission denied")
            rows = (await connection.execute(query.limit(page_size + 1))).all()
        page, token = split_cursor_page(rows, page_size, scope, "created_at")
        return pb.GetMessagesResponse(messages=[message_message(r) for r in page], next_page_token=token)

    async def GetUnackedMessages(
        self, request: pb.GetUnackedMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUnackedMessagesResponse:
        participant = self._self_only(context, request.participant_id)
        thread_id = (
            parse_uuid(request.thread_id.strip(), "thread_id") if request.HasField("thread_id") else None
        )
        scope = f"unacked:{participant}:{thread_id or ''}"
        cursor = decode_cursor(request.page_token, scope, 2)
        page_size = clamp_page_size(request.page_size)
        query = (
            sa.select(messages)
            .join(message_recipients, message_recipients.c.message_id == messages.c.id)
            .where(
                message_recipients.c.participant_id == participant, message_recipients.c.acked_at.is_(None)
            )
        )
        if thread_id is not None:
            query = query.where(message_recipients.c.thread_id == thread_id)
        query = _newer_or_older(query, cursor, messages.c.created_at, messages.c.id, descending=False)
        async with self._db.transaction() as connection:
            rows = (await connection.execute(query.limit(page_size + 1))).all()
        page, token = split_cursor_page(rows, page_size, scope, "created_at")
        return pb.GetUnackedMessagesResponse(
            messages=[message_message(r) for r in page], next_page_token=token
        )

    async def GetUnackedMessageCounts(
        self, request: pb.GetUnackedMessageCountsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUnackedMessageCountsResponse:
        participant = self._self_only(context, request.participant_id)
        async with self._db.transaction() as connection:
            rows = await connection.execute(
                sa.select(message_recipients.c.thread_id, sa.func.count())
                .where(
                    message_recipients.c.participant_id == participant,
                    message_recipients.c.acked_at.is_(None),
                )
                .group_by(message_recipients.c.thread_id)
            )
            counts = {str(thread_id): count for thread_id, count in rows}
        return pb.GetUnackedMessageCountsResponse(counts_by_thread_id=counts)

    # --- helpers -----------------------------------------------------------------------

    def _self_only(self, context: grpc.aio.ServicerContext, participant_id: str) -> uuid.UUID:
        """Read state is one's own: an empty participant_id means the caller (sheet §8 #4)."""
        caller = current_caller().require_identity()
        if participant_id and parse_uuid(participant_id.strip(), "participant_id") != caller:
            raise permission_denied("participant_id must be the caller")
        return caller

    @staticmethod
    def _organization(context: grpc.aio.ServicerContext, request: Any, caller: Caller) -> uuid.UUID | None:
        """The organization of the call: the request's, or the one the metadata pins (must agree)."""
        requested = (
            parse_uuid(request.organization_id.strip(), "organization_id")
            if request.HasField("organization_id")
            else None
        )
        pinned = [value for key, value in context.invocation_metadata() or () if key == ORGANIZATION_KEY]
        if pinned:
            fixed = parse_uuid(str(pinned[-1]).strip(), ORGANIZATION_KEY)
            if requested is not None and requested != fixed:
                raise invalid_argument(
                    "organization_id", "organization_id does not match identity organization"
                )
            return fixed
        return requested

    @staticmethod
    async def _load(connection: AsyncConnection, thread_id: uuid.UUID, *, lock: bool = False) -> Any:
        query = sa.select(threads).where(threads.c.id == thread_id)
        row = (await connection.execute(query.with_for_update() if lock else query)).first()
        if row is None or row.organization_id is None:
            raise not_found("thread not found")
        return row

    async def _holds(self, connection: AsyncConnection, caller: uuid.UUID, row: Any, relation: str) -> bool:
        """Participants hold every thread relation; others through the organization."""
        participant = await connection.execute(
            sa.select(sa.literal(1)).where(
                thread_participants.c.thread_id == row.id, thread_participants.c.participant_id == caller
            )
        )
        if participant.first() is not None:
            return True
        return row.organization_id is not None and await self._organizations.check(
            caller, relation, row.organization_id
        )

    async def _authorize(
        self, connection: AsyncConnection, caller: uuid.UUID, row: Any, relation: str
    ) -> None:
        if not await self._holds(connection, caller, row, relation):
            raise permission_denied("permission denied")

    async def _thread(self, connection: AsyncConnection, thread_id: uuid.UUID) -> pb.Thread:
        row = (await connection.execute(sa.select(threads).where(threads.c.id == thread_id))).one()
        (built,) = await self._threads(connection, [row])
        return built

    @staticmethod
    async def _threads(connection: AsyncConnection, rows: Sequence[Any]) -> list[pb.Thread]:
        """Threads with their participants (joined_at, then insertion order), in `rows` order."""
        by_thread: dict[uuid.UUID, list[pb.Participant]] = {row.id: [] for row in rows}
        if rows:
            participants = await connection.execute(
                sa.select(thread_participants)
                .where(thread_participants.c.thread_id.in_(list(by_thread)))
                .order_by(thread_participants.c.joined_at, thread_participants.c.seq)
            )
            for p in participants:
                by_thread[p.thread_id].append(
                    pb.Participant(
                        id=str(p.participant_id), joined_at=timestamp(p.joined_at), passive=p.passive
                    )
                )
        return [
            pb.Thread(
                id=str(row.id),
                participants=by_thread[row.id],
                status=row.status,
                created_at=timestamp(row.created_at),
                updated_at=timestamp(row.updated_at),
                organization_id=str(row.organization_id or ""),
                message_count=row.message_count,
            )
            for row in rows
        ]
