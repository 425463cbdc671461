"""The metrics every service has without code of its own, on the probe service started with a
metrics port: each call's outcome under its method and code, whatever way the call ended."""

from __future__ import annotations

import grpc
import httpx
from agyn_common.embedded import free_port
from agyn_common.server import start_service
from agyn_common.settings import ServiceSettings
from agyn_testkit.harness import in_process_settings, wait_for_health
from agyn_testkit.probe import DEFINITION, SERVICE
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2
from prometheus_client.parser import text_string_to_metric_families

GATEWAY = (("x-agyn-caller", "gateway"),)


async def test_each_outcome_is_counted_under_its_method_and_code(probe_database, nats):
    settings = in_process_settings(ServiceSettings, probe_database, nats.url, metrics_port=free_port())
    running = await start_service(DEFINITION, settings)
    channel = grpc.aio.insecure_channel(running.address)
    echo = channel.unary_unary(
        f"/{SERVICE}/Echo",
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    outcomes = {
        "ok": (GATEWAY, grpc.StatusCode.OK),
        "": (GATEWAY, grpc.StatusCode.INVALID_ARGUMENT),
        "crash": (GATEWAY, grpc.StatusCode.INTERNAL),
        "unknown caller": ((("x-agyn-caller", "stranger"),), grpc.StatusCode.PERMISSION_DENIED),
    }
    try:
        await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING)
        for value, (metadata, expected) in outcomes.items():
            try:
                await echo(wrappers_pb2.StringValue(value=value), metadata=metadata, timeout=10)
                code = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as error:
                code = error.code()
            assert code is expected
        assert running.metrics_port is not None
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"http://127.0.0.1:{running.metrics_port}/metrics")).text
    finally:
        await channel.close()
        await running.stop(1)
    counts = {
        sample.labels["rpc_grpc_status_code"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "rpc_server_duration_milliseconds_count" and sample.labels["rpc_method"] == "Echo"
    }
    assert counts == {str(code.value[0]): 1.0 for _, code in outcomes.values()}
