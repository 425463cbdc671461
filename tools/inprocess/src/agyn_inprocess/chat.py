"""Chat in-process next to Threads (and Users, for identity types), with Runners when given."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_chat.__main__ import DEFINITION as CHAT
from agyn_chat.settings import ChatSettings
from agyn_common.server import RunningService, start_service
from agyn_testkit.calls import metadata
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.chat.v1 import chat_pb2, chat_pb2_grpc

from agyn_inprocess.threads import Threads

pb = chat_pb2


@dataclass
class Chat:
    service: RunningService[Any]
    stub: chat_pb2_grpc.ChatServiceStub

    @property
    def address(self) -> str:
        return self.service.address

    async def create(self, caller: uuid.UUID, org: str, *others: uuid.UUID | str, **extra: str) -> pb.Chat:
        """A chat of `caller` with `others`, as the Gateway asks for it."""
        reply: pb.CreateChatResponse = await self.stub.CreateChat(
            pb.CreateChatRequest(organization_id=org, participant_ids=[str(other) for other in others]),
            metadata=metadata(caller, **extra),
        )
        return reply.chat


@asynccontextmanager
async def in_process_chat(
    threads: Threads,
    database_factory: DatabaseFactory,
    nats_url: str,
    runners_address: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Chat]:
    """Chat; without `runners_address` activity is not tracked (RUNNERS_ADDRESS unset). An
    override may put another server behind an address (`threads_address=...`)."""
    addresses = {
        "threads_address": threads.service.address,
        "users_address": threads.platform.users.running.address,
        "runners_address": runners_address,
    }
    running = await start_service(
        CHAT,
        in_process_settings(
            ChatSettings, database_factory("chat", CHAT.migrations), nats_url, **{**addresses, **overrides}
        ),
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Chat(running, chat_pb2_grpc.ChatServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
