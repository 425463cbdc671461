"""The server bootstrap in-process: the RPC pipeline, health, reflection and spans."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_common.server import LIVENESS_SERVICE
from agyn_testkit.harness import wait_for_health, wait_until
from agyn_testkit.probe import SERVICE
from google.protobuf import wrappers_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from opentelemetry.trace import SpanKind
from sqlalchemy.engine import make_url

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def status_details(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    raise AssertionError("no grpc-status-details-bin trailer")


async def test_success(probe):
    assert await probe.echo("hello") == "hello"


async def test_invalid_argument_names_the_field_in_message_and_details(probe):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await probe.echo("")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "value: must not be empty"
    status = status_details(caught.value)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("value", "must not be empty")
    ]


async def test_failed_precondition_carries_error_info(probe):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await probe.echo("needs-dependency")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_details_pb2.ErrorInfo()
    assert status_details(caught.value).details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "DEPENDENCY_UNAVAILABLE",
        "agyn.io",
        {"dependency": "orgs"},
    )


async def test_unexpected_error_is_internal_without_its_detail(probe, caplog):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await probe.echo("crash")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error"
    assert "secret" not in str(caught.value.trailing_metadata())
    assert any(
        "secret stack detail" in str(record.exc_info[1]) for record in caplog.records if record.exc_info
    )
    # The server keeps serving after it.
    assert await probe.echo("still here") == "still here"


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ((), grpc.StatusCode.PERMISSION_DENIED),  # no calling workload
        ((("x-agyn-caller", "files"),), grpc.StatusCode.PERMISSION_DENIED),  # not declared
        ((("x-agyn-caller", ""),), grpc.StatusCode.PERMISSION_DENIED),
        ((("x-agyn-caller", "gateway"), ("x-agyn-caller", "gateway")), grpc.StatusCode.PERMISSION_DENIED),
        ((("x-agyn-caller", "gateway"), ("x-identity-id", "not-a-uuid")), grpc.StatusCode.UNAUTHENTICATED),
    ],
)
async def test_access_is_enforced_before_the_handler(probe, metadata, code):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await probe.echo("x", metadata=metadata)
    assert caught.value.code() == code


async def test_undeclared_method_is_denied_to_everyone(probe):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await probe.method("Undeclared")(
            wrappers_pb2.StringValue(value="x"), metadata=(("x-agyn-caller", "gateway"),)
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_identity_required_method(probe):
    whoami = probe.method("WhoAmI")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await whoami(wrappers_pb2.StringValue(), metadata=(("x-agyn-caller", "gateway"),))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    identity = uuid.uuid4()
    reply = await whoami(
        wrappers_pb2.StringValue(),
        metadata=(
            ("x-agyn-caller", "gateway"),
            ("x-identity-id", str(identity)),
            ("x-identity-type", "user"),
        ),
    )
    assert reply.value == str(identity)


async def test_health_and_reflection_are_open_to_anyone(probe):
    # No x-agyn-caller at all: probes and tooling need no declaration.
    await wait_for_health(probe.channel, SERVING, service=SERVICE, timeout=5)
    stub = reflection_pb2_grpc.ServerReflectionStub(probe.channel)
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = set()
    async for reply in replies:
        names = {service.name for service in reply.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_health_follows_nats_while_liveness_stays_serving(probe, nats):
    nats.stop()
    await wait_for_health(probe.channel, NOT_SERVING, timeout=15)
    # Kubernetes takes the pod out of the Service but does not restart it.
    await wait_for_health(probe.channel, SERVING, service=LIVENESS_SERVICE, timeout=1)
    nats.start()
    await wait_for_health(probe.channel, SERVING, timeout=30)


async def test_health_follows_the_database(probe, probe_database, postgres):
    with postgres.refusing_connections(make_url(probe_database).database):
        await wait_for_health(probe.channel, NOT_SERVING, timeout=15)
    await wait_for_health(probe.channel, SERVING, timeout=15)


async def test_a_span_per_rpc_continuing_the_callers_trace(probe):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
    await probe.echo("traced", metadata=(("x-agyn-caller", "gateway"), ("traceparent", traceparent)))
    with pytest.raises(grpc.aio.AioRpcError):
        await probe.echo("")

    def echo_spans():
        return [span for span in probe.spans.get_finished_spans() if span.name == f"{SERVICE}/Echo"]

    # The server ends a span after it has sent the status, so the client can be first.
    await wait_until(lambda: len(echo_spans()) >= 2, timeout=5)
    spans = echo_spans()
    assert len(spans) == 2
    traced, failed = spans
    assert traced.kind is SpanKind.SERVER
    assert format(traced.context.trace_id, "032x") == trace_id
    assert traced.attributes["rpc.service"] == SERVICE
    assert traced.attributes["rpc.method"] == "Echo"
    assert traced.attributes["rpc.grpc.status_code"] == 0
    assert failed.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
