"""The service itself: its schema is its models', and only the Gateway, for an identity, may
call it (chat sheet §4)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_chat.models import metadata as chat_metadata
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import schema_differences, wait_for_health
from agynio.api.chat.v1 import chat_pb2 as pb
from grpc_health.v1 import health_pb2


async def test_the_migrations_build_what_the_models_describe(chat):
    assert await schema_differences(chat.service.runtime.settings.database_url, chat_metadata) == []


async def test_serving(chat):
    async with grpc.aio.insecure_channel(chat.address) as channel:
        await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING)


@pytest.mark.parametrize(
    ("call_metadata", "code"),
    [
        (metadata(None), grpc.StatusCode.UNAUTHENTICATED),  # the Gateway, without an identity
        (metadata(uuid.uuid4(), caller=None), grpc.StatusCode.PERMISSION_DENIED),  # no workload
        (metadata(uuid.uuid4(), caller="threads"), grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_only_the_gateway_may_call_for_an_identity(chat, call_metadata, code):
    request = pb.GetChatsRequest(organization_id=str(uuid.uuid4()))
    await expect_error(chat.stub.GetChats(request, metadata=call_metadata), code)
