"""A chat's messages: read, send, mark read (chat sheet §3.5 to §3.7), all Threads' as the caller."""

from __future__ import annotations

import grpc
from agyn_common.db import Database
from agyn_common.errors import ServiceError, invalid_argument, not_found
from agyn_common.validation import parse_uuid_list
from agynio.api.chat.v1 import chat_pb2 as pb

from agyn_chat import convert, store
from agyn_chat.rpc.chats import callers_chat
from agyn_chat.threads import Threads

MAX_ACKS = 1000  # message ids one MarkAsRead names: Threads' AckMessages takes as many
MAX_ROUNDS = 100  # pages of unread messages one MarkAsRead reads (100 each)
# What Threads answers for a thread the caller may not read, or that is not there.
_UNREADABLE = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)


class MessageHandlers:
    def __init__(self, database: Database, threads: Threads) -> None:
        self._db = database
        self._threads = threads

    async def get_messages(self, request: pb.GetMessagesRequest) -> pb.GetMessagesResponse:
        caller, chat_id = callers_chat(request.chat_id)
        row = await store.find(self._db, chat_id)
        # A deleted chat is gone; a thread without a chat is served as upstream does (§8 #8).
        if row is not None and row.deleted_at is not None:
            raise not_found("chat not found")
        try:
            page = await self._threads.messages(caller, chat_id, request.page_size, request.page_token)
        except ServiceError as error:
            # One answer for gone, unknown and forbidden: the one the app recovers from (§8 #7).
            if error.code in _UNREADABLE:
                raise not_found("chat not found") from None
            raise
        unread = await self._threads.unread_counts(caller)
        return pb.GetMessagesResponse(
            messages=[convert.chat_message(message) for message in page.messages],
            next_page_token=page.next_page_token,
            unread_count=unread.get(str(chat_id), 0),
        )

    async def send(self, request: pb.SendMessageRequest, key: str | None) -> pb.SendMessageResponse:
        caller, chat_id = callers_chat(request.chat_id)
        if not request.body and not request.file_ids:
            raise invalid_argument("body", "body or file_ids must be provided")
        message = await self._threads.send(caller, chat_id, request.body, request.file_ids, key)
        return pb.SendMessageResponse(message=convert.chat_message(message))

    async def mark_read(self, request: pb.MarkAsReadRequest) -> pb.MarkAsReadResponse:
        """Every unread message of the chat, or those of `message_ids` that are (§8 #5)."""
        caller, chat_id = callers_chat(request.chat_id)
        named = {
            str(value) for value in parse_uuid_list(request.message_ids, "message_ids", max_items=MAX_ACKS)
        }
        read = 0
        if not named:
            # The first page again each round: what was acknowledged has left it.
            for _ in range(MAX_ROUNDS):
                unread = [message.id for message in (await self._threads.unacked(caller, chat_id)).messages]
                acked = await self._threads.ack(caller, unread) if unread else 0
                read += acked
                if not acked:
                    break
            return pb.MarkAsReadResponse(read_count=read)
        chosen: list[str] = []
        token = ""
        for _ in range(MAX_ROUNDS):
            page = await self._threads.unacked(caller, chat_id, token)
            chosen.extend(message.id for message in page.messages if message.id in named)
            token = page.next_page_token
            if not token or len(chosen) == len(named):
                break
        if chosen:
            read = await self._threads.ack(caller, chosen)
        return pb.MarkAsReadResponse(read_count=read)
