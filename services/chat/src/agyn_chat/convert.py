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


def chat(
    thread: threads_pb2.Thread, row: Any, *, unread: int = 0, activity: Activity = NOT_TRACKED
) -> pb.Chat:
    """The chat of a thread (participants, times) and its row (organization, status, summary)."""
    message = pb.Chat(
        id=thread.id,
        participants=[pb.ChatParticipant(id=p.id, joined_at=p.joined_at) for p in thread.participants],
        created_at=thread.created_at,
        updated_at=thread.updated_at,
        organization_id=str(row.organization_id),
        status=row.status,
        activity_status=activity.status,
        unread_count=unread,
        active_workload_ids=activity.workload_ids,
    )
    if row.summary is not None:
        message.summary = row.summary
    return message


def chat_message(message: threads_pb2.Message) -> pb.ChatMessage:
    return pb.ChatMessage(
        id=message.id,
        chat_id=message.thread_id,
        sender_id=message.sender_id,
        body=message.body,
        file_ids=message.file_ids,
        created_at=message.created_at,
    )
