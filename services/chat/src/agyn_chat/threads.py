"""Threads, asked as the caller (chat sheet §3.1): the caller's identity goes with every call,
so Threads applies the caller's rights; its decisions come back unchanged (the chat app
matches `thread is degraded` verbatim), and Threads away is UNAVAILABLE naming it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from agyn_common.caller import Caller
from agyn_common.errors import passed_on
from agyn_common.idempotency import IDEMPOTENCY_KEY
from agynio.api.threads.v1 import access_pb2, access_pb2_grpc, threads_pb2, threads_pb2_grpc
from google.protobuf.message import Message

DEPENDENCY = "threads"
UNACKED_PAGE = 100  # Threads' largest page


def forwarded_key(key: str | None) -> tuple[tuple[str, str], ...]:
    """The idempotency key Chat sends Threads for a keyed call: its own, derived from the
    client's (the SHA-256 fits whatever length the client's key had), so that a retry reaches
    the same thread or message (chat sheet §8 #4)."""
    if key is None:
        return ()
    return ((IDEMPOTENCY_KEY, "chat:" + hashlib.sha256(key.encode()).hexdigest()),)


class Threads:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._threads = threads_pb2_grpc.ThreadsServiceStub(channel)
        self._access = access_pb2_grpc.ThreadAccessServiceStub(channel)

    async def _ask(
        self, method: Callable[..., Awaitable[Any]], request: Message, caller: Caller, *extra: tuple[str, str]
    ) -> Any:
        """One call for the caller; Threads' refusals pass on, its failures are UNAVAILABLE."""
        try:
            return await method(request, metadata=(*caller.outgoing_metadata(), *extra))
        except grpc.aio.AioRpcError as error:
            raise passed_on(DEPENDENCY, error) from None

    async def create(
        self, caller: Caller, organization_id: uuid.UUID, others: Sequence[uuid.UUID], key: str | None
    ) -> threads_pb2.Thread:
        request = threads_pb2.CreateThreadRequest(
            organization_id=str(organization_id),
            participants=[threads_pb2.ParticipantIdentifier(participant_id=str(other)) for other in others],
        )
        reply: threads_pb2.CreateThreadResponse = await self._ask(
            self._threads.CreateThread, request, caller, *forwarded_key(key)
        )
        return reply.thread

    async def participant_threads(
        self, caller: Caller, thread_ids: Sequence[str]
    ) -> list[threads_pb2.Thread]:
        """Of these threads (at most 100), those the caller takes part in, in the same order."""
        if not thread_ids:
            return []
        request = access_pb2.GetParticipantThreadsRequest(thread_ids=thread_ids)
        reply: access_pb2.GetParticipantThreadsResponse = await self._ask(
            self._access.GetParticipantThreads, request, caller
        )
        return list(reply.threads)

    async def participant_thread(self, caller: Caller, thread_id: uuid.UUID) -> threads_pb2.Thread | None:
        """The thread when the caller takes part in it; None when it does not, or there is none."""
        found = await self.participant_threads(caller, [str(thread_id)])
        return found[0] if found else None

    async def archive(self, caller: Caller, thread_id: uuid.UUID) -> None:
        await self._ask(
            self._threads.ArchiveThread, threads_pb2.ArchiveThreadRequest(thread_id=str(thread_id)), caller
        )

    async def messages(
        self, caller: Caller, thread_id: uuid.UUID, page_size: int, page_token: str
    ) -> threads_pb2.GetMessagesResponse:
        request = threads_pb2.GetMessagesRequest(
            thread_id=str(thread_id), page_size=page_size, page_token=page_token
        )
        reply: threads_pb2.GetMessagesResponse = await self._ask(self._threads.GetMessages, request, caller)
        return reply

    async def send(
        self, caller: Caller, thread_id: uuid.UUID, body: str, file_ids: Sequence[str], key: str | None
    ) -> threads_pb2.Message:
        request = threads_pb2.SendMessageRequest(
            thread_id=str(thread_id), sender_id=str(caller.require_identity()), body=body, file_ids=file_ids
        )
        reply: threads_pb2.SendMessageResponse = await self._ask(
            self._threads.SendMessage, request, caller, *forwarded_key(key)
        )
        return reply.message

    async def unread_counts(self, caller: Caller) -> dict[str, int]:
        """The caller's unacknowledged messages by thread id (threads without any left out)."""
        request = threads_pb2.GetUnackedMessageCountsRequest(participant_id=str(caller.require_identity()))
        reply: threads_pb2.GetUnackedMessageCountsResponse = await self._ask(
            self._threads.GetUnackedMessageCounts, request, caller
        )
        return dict(reply.counts_by_thread_id)

    async def unacked(
        self, caller: Caller, thread_id: uuid.UUID, page_token: str = ""
    ) -> threads_pb2.GetUnackedMessagesResponse:
        """A page of the caller's unacknowledged messages of the thread, oldest first."""
        request = threads_pb2.GetUnackedMessagesRequest(
            participant_id=str(caller.require_identity()),
            thread_id=str(thread_id),
            page_size=UNACKED_PAGE,
            page_token=page_token,
        )
        reply: threads_pb2.GetUnackedMessagesResponse = await self._ask(
            self._threads.GetUnackedMessages, request, caller
        )
        return reply

    async def ack(self, caller: Caller, message_ids: Sequence[str]) -> int:
        """Acknowledge the caller's messages; the number newly acknowledged."""
        request = threads_pb2.AckMessagesRequest(
            participant_id=str(caller.require_identity()), message_ids=message_ids
        )
        reply: threads_pb2.AckMessagesResponse = await self._ask(self._threads.AckMessages, request, caller)
        return reply.acked_count
