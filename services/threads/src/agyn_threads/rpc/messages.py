"""Messages: sending (stored with the envelope that announces it), reading, read state.

SendMessage stores the message, one unread row per recipient and the `message.created`
envelope for the recipients' rooms in one transaction; the outbox relay puts the envelope on
the bus, so a bus outage never fails, loses or duplicates a stored message (DESIGN §5).
"""

from __future__ import annotations

import uuid

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import failed_precondition, invalid_argument, permission_denied
from agyn_common.metrics import Metrics
from agyn_common.outbox import Outbox
from agyn_common.pagination import KeysetPage
from agyn_common.validation import parse_uuid
from agynio.api.threads.v1 import threads_pb2 as pb

from agyn_threads import convert, store
from agyn_threads.attachments import Attachments
from agyn_threads.models import messages
from agyn_threads.rpc.permissions import READ, WRITE, ThreadPermissions, own_participant
from agyn_threads.rpc.threads import refuse_archived

# Limits the contract leaves open (sheet §8 #12).
MAX_BODY_BYTES = 256 * 1024
MAX_FILES = 32
MAX_ACKS = 1000


class MessageHandlers:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        permissions: ThreadPermissions,
        attachments: Attachments,
        metrics: Metrics,
    ) -> None:
        self._db = database
        self._outbox = outbox
        self._permissions = permissions
        self._attachments = attachments
        self._sent = metrics.counter("agyn_threads_messages_sent_total", "Messages stored (SendMessage).")

    async def send(self, request: pb.SendMessageRequest) -> pb.SendMessageResponse:
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
        if file_ids:
            # Before the thread is locked: no transaction waits on another service.
            await self._attachments.require_existing(file_ids)
        async with self._db.transaction() as connection:
            row = await store.thread_for_message(connection, thread_id, caller)
            if not row.sender_participates and not await self._permissions.through_organization(
                caller, row, WRITE
            ):
                raise permission_denied("permission denied")
            refuse_archived(row)
            if row.status == store.DEGRADED:
                raise failed_precondition("thread is degraded", "THREAD_DEGRADED")
            message_id = uuid.uuid4()
            announcement = self._outbox.rooms_rows(
                connection,
                source="threads",
                event="message.created",
                rooms=[f"thread_participant:{recipient}" for recipient in row.recipients or ()],
                payload={"thread_id": str(thread_id), "message_id": str(message_id)},
                at=row.now,
            )
            stored = await store.add_message(
                connection, message_id, row, caller, request.body, file_ids, announcement
            )
        self._sent.inc()
        return pb.SendMessageResponse(message=convert.message_message(stored))

    async def of_thread(self, request: pb.GetMessagesRequest) -> pb.GetMessagesResponse:
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        if request.order not in (0, pb.MESSAGE_ORDER_OLDEST_FIRST, pb.MESSAGE_ORDER_NEWEST_FIRST):
            raise invalid_argument("order", "invalid message order")
        newest_first = request.order == pb.MESSAGE_ORDER_NEWEST_FIRST
        page = _by_creation(
            request, scope=f"thread:{thread_id}:{'desc' if newest_first else 'asc'}", descending=newest_first
        )
        caller = current_caller().require_identity()
        async with self._db.transaction() as connection:
            row = await store.find_thread(connection, thread_id)
            # An unknown thread is refused like a forbidden one: threads cannot be probed.
            if row is None or not await self._permissions.holds(connection, caller, row, READ):
                raise permission_denied("permission denied")
            rows, token = page.split(await store.thread_messages(connection, thread_id, page))
        return pb.GetMessagesResponse(
            messages=[convert.message_message(r) for r in rows], next_page_token=token
        )

    async def unacked(self, request: pb.GetUnackedMessagesRequest) -> pb.GetUnackedMessagesResponse:
        """The caller's unacknowledged messages, oldest first, of one thread when given."""
        participant = own_participant(request.participant_id)
        thread_id = (
            parse_uuid(request.thread_id.strip(), "thread_id") if request.HasField("thread_id") else None
        )
        page = _by_creation(request, scope=f"unacked:{participant}:{thread_id or ''}", descending=False)
        async with self._db.transaction() as connection:
            rows, token = page.split(await store.unacked_messages(connection, participant, thread_id, page))
        return pb.GetUnackedMessagesResponse(
            messages=[convert.message_message(r) for r in rows], next_page_token=token
        )

    async def unacked_counts(
        self, request: pb.GetUnackedMessageCountsRequest
    ) -> pb.GetUnackedMessageCountsResponse:
        participant = own_participant(request.participant_id)
        async with self._db.transaction() as connection:
            counts = await store.unacked_counts(connection, participant)
        return pb.GetUnackedMessageCountsResponse(counts_by_thread_id=counts)

    async def ack(self, request: pb.AckMessagesRequest) -> pb.AckMessagesResponse:
        participant = own_participant(request.participant_id)
        if not request.message_ids:
            raise invalid_argument("message_ids", "must not be empty")
        if len(request.message_ids) > MAX_ACKS:
            raise invalid_argument("message_ids", f"at most {MAX_ACKS} ids")
        ids = {parse_uuid(value.strip(), f"message_ids[{i}]") for i, value in enumerate(request.message_ids)}
        async with self._db.transaction() as connection:
            count = await store.ack_messages(connection, participant, ids)
        return pb.AckMessagesResponse(acked_count=count)


def _by_creation(
    request: pb.GetMessagesRequest | pb.GetUnackedMessagesRequest, *, scope: str, descending: bool
) -> KeysetPage:
    """A page of messages in the order they were sent (or the reverse)."""
    return KeysetPage(
        request.page_token,
        request.page_size,
        scope=scope,
        sort=messages.c.created_at,
        key=messages.c.id,
        descending=descending,
    )
