"""Queries of the threads database: threads, their participants, messages and read state."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from agyn_common.db import one_or_not_found
from agyn_common.errors import not_found
from agyn_common.outbox import QUEUE_ROWS
from agyn_common.pagination import KeysetPage
from agyn_common.query import Query
from agynio.api.threads.v1 import threads_pb2 as pb
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_threads.models import UUID, message_recipients, messages, thread_participants, threads

# threads.status holds the ThreadStatus numbers.
ACTIVE, ARCHIVED, DEGRADED = pb.THREAD_STATUS_ACTIVE, pb.THREAD_STATUS_ARCHIVED, pb.THREAD_STATUS_DEGRADED
STATUSES = frozenset({ACTIVE, ARCHIVED, DEGRADED})

# --- threads and participants -------------------------------------------------------------


async def load_thread(
    connection: AsyncConnection, thread_id: uuid.UUID, *, lock: bool = False
) -> sa.Row[Any]:
    """The thread; NOT_FOUND for an unknown one and for imported legacy rows, which have no
    organization to decide who may see them."""
    query = sa.select(threads).where(threads.c.id == thread_id, threads.c.organization_id.is_not(None))
    row: sa.Row[Any] = await one_or_not_found(
        connection, query.with_for_update() if lock else query, "thread"
    )
    return row


async def find_thread(connection: AsyncConnection, thread_id: uuid.UUID) -> sa.Row[Any] | None:
    """The thread, legacy rows included; None for an unknown one."""
    return (await connection.execute(sa.select(threads).where(threads.c.id == thread_id))).first()


async def is_participant(connection: AsyncConnection, thread_id: uuid.UUID, identity: uuid.UUID) -> bool:
    found = await connection.execute(
        sa.select(sa.literal(1)).where(
            thread_participants.c.thread_id == thread_id, thread_participants.c.participant_id == identity
        )
    )
    return found.first() is not None


async def participants_of(
    connection: AsyncConnection, thread_rows: Sequence[sa.Row[Any]]
) -> dict[uuid.UUID, list[sa.Row[Any]]]:
    """Each thread's participants in the order they joined (joined_at, then insertion order)."""
    by_thread: dict[uuid.UUID, list[sa.Row[Any]]] = {row.id: [] for row in thread_rows}
    if by_thread:
        rows = await connection.execute(
            sa.select(thread_participants)
            .where(thread_participants.c.thread_id.in_(list(by_thread)))
            .order_by(thread_participants.c.joined_at, thread_participants.c.seq)
        )
        for row in rows:
            by_thread[row.thread_id].append(row)
    return by_thread


async def create_thread(
    connection: AsyncConnection,
    thread_id: uuid.UUID,
    organization_id: uuid.UUID,
    initiator: uuid.UUID,
    *,
    initiator_passive: bool,
    listed: Sequence[uuid.UUID],
) -> None:
    await connection.execute(
        threads.insert().values(id=thread_id, organization_id=organization_id, status=ACTIVE)
    )
    # One statement: the initiator first, then the listed ones, in the order given.
    await connection.execute(
        thread_participants.insert(),
        [{"thread_id": thread_id, "participant_id": initiator, "passive": initiator_passive}]
        + [{"thread_id": thread_id, "participant_id": p, "passive": False} for p in listed],
    )


async def archive_thread(connection: AsyncConnection, thread_id: uuid.UUID) -> None:
    await connection.execute(
        threads.update()
        .where(threads.c.id == thread_id)
        .values(
            status=ARCHIVED,
            updated_at=sa.func.now(),
            archived_at=sa.func.coalesce(threads.c.archived_at, sa.func.now()),
        )
    )


async def degrade_thread(connection: AsyncConnection, thread_id: uuid.UUID, reason: str | None) -> None:
    await connection.execute(
        threads.update()
        .where(threads.c.id == thread_id)
        .values(status=DEGRADED, updated_at=sa.func.now(), degraded_at=sa.func.now(), degraded_reason=reason)
    )


async def add_participant(
    connection: AsyncConnection, thread_id: uuid.UUID, participant: uuid.UUID, *, passive: bool
) -> None:
    """Adds the participant; an existing one is left as it is (and the thread untouched)."""
    inserted = await connection.execute(
        postgresql.insert(thread_participants)
        .values(thread_id=thread_id, participant_id=participant, passive=passive)
        .on_conflict_do_nothing()
        .returning(thread_participants.c.participant_id)
    )
    if inserted.first() is not None:
        await connection.execute(
            threads.update().where(threads.c.id == thread_id).values(updated_at=sa.func.now())
        )


def _threads_of(participant: uuid.UUID) -> sa.Select[Any]:
    return (
        sa.select(threads)
        .join(thread_participants, thread_participants.c.thread_id == threads.c.id)
        .where(thread_participants.c.participant_id == participant)
    )


async def participant_threads(
    connection: AsyncConnection, participant: uuid.UUID, page: KeysetPage
) -> Sequence[sa.Row[Any]]:
    return (await connection.execute(page.query(_threads_of(participant)))).all()


async def participant_threads_among(
    connection: AsyncConnection, participant: uuid.UUID, thread_ids: Collection[uuid.UUID]
) -> Sequence[sa.Row[Any]]:
    """Those of `thread_ids` the participant is in, in no particular order."""
    query = _threads_of(participant).where(thread_participants.c.thread_id.in_(thread_ids))
    return (await connection.execute(query)).all()


async def organization_threads(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    page: KeysetPage,
    *,
    statuses: Collection[int] = (),
    participants: Collection[uuid.UUID] = (),
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Sequence[sa.Row[Any]]:
    """The organization's threads; each filter given narrows them (any of the statuses, any of
    the participants, created in [created_after, created_before))."""
    query = sa.select(threads).where(threads.c.organization_id == organization_id)
    if statuses:
        query = query.where(threads.c.status.in_(statuses))
    if participants:
        query = query.where(
            sa.exists().where(
                thread_participants.c.thread_id == threads.c.id,
                thread_participants.c.participant_id.in_(participants),
            )
        )
    if created_after is not None:
        query = query.where(threads.c.created_at >= created_after)
    if created_before is not None:
        query = query.where(threads.c.created_at < created_before)
    return (await connection.execute(page.query(query))).all()


# --- messages and read state ----------------------------------------------------------------


_THREAD = sa.bindparam("thread_id", type_=UUID)
_SENDER = sa.bindparam("sender", type_=UUID)
_MESSAGE = sa.bindparam("message_id", type_=UUID)
_sender_participates = sa.exists().where(
    thread_participants.c.thread_id == _THREAD, thread_participants.c.participant_id == _SENDER
)
_other_participants = (
    sa.select(
        sa.func.array_agg(
            aggregate_order_by(thread_participants.c.participant_id, thread_participants.c.participant_id)
        )
    )
    .where(thread_participants.c.thread_id == _THREAD, thread_participants.c.participant_id != _SENDER)
    .scalar_subquery()
)
# SendMessage's first round trip: the thread, locked (a thread's messages are stored one at a
# time, and participants join under the same lock, so the recipients read here stay right),
# whether the sender participates, and the other participants.
_THREAD_FOR_MESSAGE = Query(
    sa.select(
        threads,
        _sender_participates.label("sender_participates"),
        _other_participants.label("recipients"),
        sa.func.now().label("now"),  # the transaction's time: the new message's created_at
    )
    .where(threads.c.id == _THREAD, threads.c.organization_id.is_not(None))
    .with_for_update(of=threads),
    name="ThreadForMessage",
)
_stored_message = (
    messages.insert()
    .values(
        id=_MESSAGE,
        thread_id=_THREAD,
        sender_id=_SENDER,
        body=sa.bindparam("body", type_=sa.Text),
        file_ids=sa.bindparam("file_ids", type_=messages.c.file_ids.type),
    )
    .returning(*messages.c)
    .cte("stored_message")
)
_unread = message_recipients.insert().from_select(
    ["message_id", "thread_id", "participant_id"],
    sa.select(_MESSAGE, _THREAD, sa.func.unnest(sa.bindparam("recipients", type_=messages.c.file_ids.type))),
)
_counted = (
    threads.update()
    .where(threads.c.id == _THREAD)
    .values(updated_at=sa.func.now(), message_count=threads.c.message_count + 1)
)
# The second: the message, unread for each recipient, the thread's counter and the envelope
# that announces it (`Outbox.rooms_rows`), together.
_ADD_MESSAGE = Query(
    sa.select(_stored_message).add_cte(
        _unread.cte("unread"), _counted.cte("counted"), QUEUE_ROWS.cte("announced")
    ),
    name="Message",
)


async def thread_for_message(connection: AsyncConnection, thread_id: uuid.UUID, sender: uuid.UUID) -> Any:
    """The thread, locked for a new message, with `sender_participates` and `recipients` (the
    other participants, ordered); NOT_FOUND as `load_thread` says."""
    row = await _THREAD_FOR_MESSAGE.first(connection, thread_id=thread_id, sender=sender)
    if row is None:
        raise not_found("thread not found")
    return row


async def add_message(
    connection: AsyncConnection,
    message_id: uuid.UUID,
    thread: Any,
    sender: uuid.UUID,
    body: str,
    file_ids: Sequence[uuid.UUID],
    announcement: dict[str, Any],
) -> Any:
    """Stores the message, unread for the thread's recipients (`thread` from
    `thread_for_message`), with the outbox rows of `announcement`; returns it."""
    return await _ADD_MESSAGE.first(
        connection,
        message_id=message_id,
        thread_id=thread.id,
        sender=sender,
        body=body,
        file_ids=list(file_ids),
        recipients=thread.recipients or [],
        **announcement,
    )


async def thread_messages(
    connection: AsyncConnection, thread_id: uuid.UUID, page: KeysetPage
) -> Sequence[sa.Row[Any]]:
    query = sa.select(messages).where(messages.c.thread_id == thread_id)
    return (await connection.execute(page.query(query))).all()


async def unacked_messages(
    connection: AsyncConnection, participant: uuid.UUID, thread_id: uuid.UUID | None, page: KeysetPage
) -> Sequence[sa.Row[Any]]:
    """The participant's unacknowledged messages, of one thread when `thread_id` is given."""
    query = (
        sa.select(messages)
        .join(message_recipients, message_recipients.c.message_id == messages.c.id)
        .where(message_recipients.c.participant_id == participant, message_recipients.c.acked_at.is_(None))
    )
    if thread_id is not None:
        query = query.where(message_recipients.c.thread_id == thread_id)
    return (await connection.execute(page.query(query))).all()


async def unacked_counts(connection: AsyncConnection, participant: uuid.UUID) -> dict[str, int]:
    """Unacknowledged messages per thread (threads without any left out)."""
    rows = await connection.execute(
        sa.select(message_recipients.c.thread_id, sa.func.count())
        .where(message_recipients.c.participant_id == participant, message_recipients.c.acked_at.is_(None))
        .group_by(message_recipients.c.thread_id)
    )
    return {str(thread_id): count for thread_id, count in rows}


async def ack_messages(
    connection: AsyncConnection, participant: uuid.UUID, message_ids: Collection[uuid.UUID]
) -> int:
    """Marks the participant's unacknowledged ones among `message_ids` read; how many were."""
    acked = await connection.execute(
        message_recipients.update()
        .where(
            message_recipients.c.participant_id == participant,
            message_recipients.c.message_id.in_(message_ids),
            message_recipients.c.acked_at.is_(None),
        )
        .values(acked_at=sa.func.now())
        .returning(message_recipients.c.message_id)
    )
    return len(acked.all())
