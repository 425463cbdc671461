"""Fixtures: chat in-process on the session's PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from agyn_chat.__main__ import DEFINITION
from agyn_chat.settings import ChatSettings
from agyn_common.embedded import EmbeddedNats
from agyn_common.server import RunningService, start_service
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.chat.v1 import chat_pb2_grpc


@dataclass
class Chat:
    running: RunningService[ChatSettings]
    channel: grpc.aio.Channel
    stub: chat_pb2_grpc.ChatServiceStub


@pytest.fixture
async def chat_service(database_factory: DatabaseFactory, nats: EmbeddedNats) -> AsyncIterator[Chat]:
    database_url = database_factory("chat", DEFINITION.migrations)
    running = await start_service(DEFINITION, in_process_settings(ChatSettings, database_url, nats.url))
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Chat(running, channel, chat_pb2_grpc.ChatServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
