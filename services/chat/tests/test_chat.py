"""Chat through the RPC pipeline, as the Gateway calls it."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_testkit.calls import metadata
from agyn_testkit.harness import wait_for_health
from agynio.api.chat.v1 import chat_pb2 as pb
from grpc_health.v1 import health_pb2


async def test_serving_and_answering_the_gateway_for_a_user(chat_service):
    await wait_for_health(chat_service.channel, health_pb2.HealthCheckResponse.SERVING)
    reply = await chat_service.stub.GetChatStatus(
        pb.GetChatStatusRequest(), metadata=metadata(uuid.uuid4()), timeout=10
    )
    assert (reply.service, reply.schema_revision) == ("chat", "0001")


@pytest.mark.parametrize(
    ("call_metadata", "code"),
    [
        (metadata(None), grpc.StatusCode.UNAUTHENTICATED),  # the gateway, without an identity
        (metadata(uuid.uuid4(), caller=None), grpc.StatusCode.PERMISSION_DENIED),  # no workload
        (metadata(uuid.uuid4(), caller="stranger"), grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_the_method_table_decides_who_may_call(chat_service, call_metadata, code):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await chat_service.stub.GetChatStatus(pb.GetChatStatusRequest(), metadata=call_metadata, timeout=10)
    assert refused.value.code() == code
