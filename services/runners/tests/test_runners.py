"""Runners through the RPC pipeline, as the Gateway calls it."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_testkit.calls import metadata
from agyn_testkit.harness import wait_for_health
from agynio.api.runners.v1 import runners_pb2 as pb
from grpc_health.v1 import health_pb2


async def test_serving_and_answering_the_gateway_for_a_user(runners_service):
    await wait_for_health(runners_service.channel, health_pb2.HealthCheckResponse.SERVING)
    reply = await runners_service.stub.GetRunnersStatus(
        pb.GetRunnersStatusRequest(), metadata=metadata(uuid.uuid4()), timeout=10
    )
    assert (reply.service, reply.schema_revision) == ("runners", "0001")


@pytest.mark.parametrize(
    ("call_metadata", "code"),
    [
        (metadata(None), grpc.StatusCode.UNAUTHENTICATED),  # the gateway, without an identity
        (metadata(uuid.uuid4(), caller=None), grpc.StatusCode.PERMISSION_DENIED),  # no workload
        (metadata(uuid.uuid4(), caller="stranger"), grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_the_method_table_decides_who_may_call(runners_service, call_metadata, code):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await runners_service.stub.GetRunnersStatus(
            pb.GetRunnersStatusRequest(), metadata=call_metadata, timeout=10
        )
    assert refused.value.code() == code
