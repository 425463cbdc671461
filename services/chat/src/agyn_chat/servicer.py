"""ChatService: one thin method per RPC (DESIGN §6), handed to the chats' or the messages' handlers."""

from __future__ import annotations

import grpc
from agyn_common.idempotency import idempotency_key
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.chat.v1 import chat_pb2_grpc

from agyn_chat.rpc.chats import ChatHandlers
from agyn_chat.rpc.messages import MessageHandlers


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, chats: ChatHandlers, messages: MessageHandlers) -> None:
        self._chats = chats
        self._messages = messages

    async def CreateChat(
        self, request: pb.CreateChatRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateChatResponse:
        # The client's key, for the one Chat derives for Threads (the pipeline replays by it).
        return await self._chats.create(request, idempotency_key(context.invocation_metadata()))

    async def GetChats(
        self, request: pb.GetChatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetChatsResponse:
        return await self._chats.get_chats(request)

    async def UpdateChat(
        self, request: pb.UpdateChatRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateChatResponse:
        return await self._chats.update(request)

    async def DeleteChat(
        self, request: pb.DeleteChatRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteChatResponse:
        return await self._chats.delete(request)

    async def GetMessages(
        self, request: pb.GetMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMessagesResponse:
        return await self._messages.get_messages(request)

    async def SendMessage(
        self, request: pb.SendMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.SendMessageResponse:
        return await self._messages.send(request, idempotency_key(context.invocation_metadata()))

    async def MarkAsRead(
        self, request: pb.MarkAsReadRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkAsReadResponse:
        return await self._messages.mark_read(request)
