"""Threads' threads and messages, and Chat's rows, as the chat contract's messages."""

from __future__ import annotations

from typing import Any

from agyn_common.errors import invalid_argument
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.threads.v1 import threads_pb2

from agyn_chat.activity import NOT_TRACKED, Activity

STATUSES = frozenset({pb.CHAT_STATUS_OPEN, pb.CHAT_STATUS_CLOSED})


def status(value: int, field: str = "status") -> int:
    """A ChatStatus a request names: 0 (none) or a known one; INVALID_ARGUMENT otherwise (§8 #9)."""
    if value and value not in STATUSES:
        raise invalid_argument(field, f"unknown chat status {value}")
    return value


def chat(thread: threads_pb2.Thread, row: Any) -> pb.Chat:
    """The chat of a thread, as CreateChat and UpdateChat answer it (no unread count, no activity)."""
    message = pb.Chat()
    fill_chat(message, thread, row)
    return message


def fill_chat(
    message: pb.Chat,
    thread: threads_pb2.Thread,
    row: Any,
    *,
    unread: int = 0,
    activity: Activity = NOT_TRACKED,
) -> None:
    """`message` (empty) as the chat of a thread (participants, times) and its row (organization,
    status, summary); filled in place, where a listing adds it."""
    message.id = thread.id
    add = message.participants.add
    for participant in thread.participants:
        add(id=participant.id, joined_at=participant.joined_at)
    message.created_at.CopyFrom(thread.created_at)
    message.updated_at.CopyFrom(thread.updated_at)
    message.organization_id = str(row.organization_id)
    message.status = row.status
    if row.summary is not None:
        message.summary = row.summary
    message.activity_status = activity.status
    message.unread_count = unread
    message.active_workload_ids.extend(activity.workload_ids)


def chat_message(message: threads_pb2.Message) -> pb.ChatMessage:
    return pb.ChatMessage(
        id=message.id,
        chat_id=message.thread_id,
        sender_id=message.sender_id,
        body=message.body,
        file_ids=message.file_ids,
        created_at=message.created_at,
    )
