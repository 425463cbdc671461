"""ChatService: one thin method per RPC (DESIGN §6)."""

from __future__ import annotations

import grpc
from agyn_common.db import Database
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.chat.v1 import chat_pb2_grpc

from agyn_chat import store
from agyn_chat.convert import status_message


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def GetChatStatus(
        self, request: pb.GetChatStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetChatStatusResponse:
        return status_message("chat", await store.schema_revision(self._db))
