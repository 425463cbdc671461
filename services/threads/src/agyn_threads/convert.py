"""Rows of the threads database → Thread and Message messages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from agyn_common.timestamps import timestamp
from agynio.api.threads.v1 import threads_pb2 as pb


def message_message(row: sa.Row[Any]) -> pb.Message:
    return pb.Message(
        id=str(row.id),
        thread_id=str(row.thread_id),
        sender_id=str(row.sender_id),
        body=row.body,
        file_ids=[str(file_id) for file_id in row.file_ids],
        created_at=timestamp(row.created_at),
    )


def thread_messages(
    rows: Sequence[sa.Row[Any]], participants: Mapping[uuid.UUID, Sequence[sa.Row[Any]]]
) -> list[pb.Thread]:
    """Threads in `rows` order, each with its participants as `participants` lists them."""
    return [
        pb.Thread(
            id=str(row.id),
            participants=[
                pb.Participant(id=str(p.participant_id), joined_at=timestamp(p.joined_at), passive=p.passive)
                for p in participants.get(row.id, ())
            ],
            status=row.status,
            created_at=timestamp(row.created_at),
            updated_at=timestamp(row.updated_at),
            organization_id=str(row.organization_id or ""),
            message_count=row.message_count,
        )
        for row in rows
    ]
