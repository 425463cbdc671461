"""Tracing: OTLP Export from an agent's workload credential, and the queries as the Gateway
calls them (files-tracing B.3, B.4)."""

from __future__ import annotations

import base64
import uuid

import grpc
import pytest
from agyn_inprocess.tracing import attr, export, span, spans_of
from agyn_testkit.calls import metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.tracing.v1 import access_pb2
from agynio.api.tracing.v1 import tracing_pb2 as pb
from opentelemetry.proto.trace.v1 import trace_pb2


def resource_of(reply) -> dict[str, str]:
    return {kv.key: kv.value.string_value for kv in reply.resource_spans[0].resource.attributes}


async def test_an_agent_exports_and_its_attribution_is_injected(tracing, org):
    trace_id = uuid.uuid4().bytes
    forged = str(uuid.uuid4())
    request = export(
        [span(trace_id, 1, attributes=[attr("gen_ai.usage.input_tokens", 7)])],
        attr("agyn.organization.id", forged),
        attr("agyn.agent.id", forged),
        attr("service.name", "agent"),
    )
    reply = await tracing.otlp.Export(request, metadata=org["bearer"], timeout=10)
    assert not reply.HasField("partial_success")
    got = await tracing.stub.GetTrace(pb.GetTraceRequest(trace_id=trace_id), metadata=metadata(org["owner"]))
    resource = resource_of(got)
    assert resource["agyn.organization.id"] == org["org"]
    assert resource["agyn.agent.id"] == org["agent"]
    assert resource["agyn.workload.id"] == org["workload"]
    assert resource["service.name"] == "agent"
    assert forged not in resource.values()


async def test_the_opentelemetry_sdk_exporter_is_accepted(tracing, org):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(endpoint=tracing.address, headers=org["bearer"], insecure=True)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("tool.execution") as current:
        trace_id = current.get_span_context().trace_id.to_bytes(16, "big")
    import asyncio

    await asyncio.to_thread(provider.shutdown)
    got = await tracing.stub.GetTrace(pb.GetTraceRequest(trace_id=trace_id), metadata=metadata(org["owner"]))
    assert [s.name for s in spans_of(got)] == ["tool.execution"]


async def test_a_re_export_replaces_the_span(tracing, org):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=org["bearer"])
    summary = await tracing.stub.GetTraceSummary(
        pb.GetTraceSummaryRequest(trace_id=trace_id), metadata=metadata(org["owner"])
    )
    assert summary.status == pb.TRACE_STATUS_RUNNING
    await tracing.otlp.Export(export([span(trace_id, 1, end=5_000, name="done")]), metadata=org["bearer"])
    async with tracing.service.runtime.db.read() as connection:
        import sqlalchemy as sa

        revision = (
            await connection.execute(
                sa.text("SELECT revision FROM spans WHERE trace_id = :t"), {"t": trace_id}
            )
        ).scalar_one()
    assert revision == 2
    summary = await tracing.stub.GetTraceSummary(
        pb.GetTraceSummaryRequest(trace_id=trace_id), metadata=metadata(org["owner"])
    )
    assert (summary.status, dict(summary.counts_by_name), summary.last_span_end_time) == (
        pb.TRACE_STATUS_COMPLETED,
        {"done": 1},
        5_000,
    )
    assert dict(summary.counts_by_status) == {
        "SPAN_STATUS_RUNNING": 0,
        "SPAN_STATUS_OK": 1,
        "SPAN_STATUS_ERROR": 0,
    }


async def test_every_upsert_is_announced_on_the_trace_room_and_the_bus(tracing, org, nats):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=org["bearer"])
    await tracing.otlp.Export(export([span(trace_id, 1, end=5_000)]), metadata=org["bearer"])
    envelopes = await read_events(
        nats.url,
        f"agyn.rooms.trace.{trace_id.hex()}",
        lambda got: len(got) >= 2,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert [envelope.event for envelope in envelopes] == ["span.created", "span.updated"]
    assert dict(envelopes[0].payload) == {
        "trace_id": trace_id.hex(),
        "span_id": (1).to_bytes(8, "big").hex(),
        "organization_id": org["org"],
    }
    events = await read_events(
        nats.url,
        "agyn.events.tracing.span.*",
        lambda got: sum(e["data"]["trace_id"] == trace_id.hex() for e in got) >= 2,
    )
    mine = [e for e in events if e["data"]["trace_id"] == trace_id.hex()]
    assert [(e["type"], e["data"]["revision"], e["data"]["status"]) for e in mine] == [
        ("tracing.span.created", 1, "SPAN_STATUS_RUNNING"),
        ("tracing.span.updated", 2, "SPAN_STATUS_OK"),
    ]
    assert mine[0]["data"]["workload_id"] == org["workload"]


async def test_malformed_spans_are_rejected_and_the_rest_stored(tracing, org):
    trace_id = uuid.uuid4().bytes
    bad = trace_pb2.Span(trace_id=b"short", span_id=b"12345678")
    reply = await tracing.otlp.Export(export([span(trace_id, 1), bad]), metadata=org["bearer"])
    assert (reply.partial_success.rejected_spans, reply.partial_success.error_message) == (
        1,
        "rejected 1 spans",
    )


@pytest.mark.parametrize(
    ("call_metadata", "code"),
    [
        ((), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Bearer agynw_" + "x" * 44),), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Basic abc"),), grpc.StatusCode.UNAUTHENTICATED),
    ],
)
async def test_export_needs_a_workload_credential(tracing, call_metadata, code):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await tracing.otlp.Export(export([span(uuid.uuid4().bytes, 1)]), metadata=call_metadata, timeout=10)
    assert refused.value.code() == code


async def test_a_platform_producer_keeps_its_attribution(tracing, org):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(
        export([span(trace_id, 1)], attr("agyn.organization.id", org["org"])),
        metadata=(("x-agyn-caller", "egress-gateway"),),
    )
    reply = await tracing.access.GetTraceOrganization(
        access_pb2.GetTraceOrganizationRequest(trace_id=trace_id), metadata=metadata(caller="notifications")
    )
    assert reply.organization_id == org["org"]


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ((attr("agyn.thread.message.id", "m"),), "resource_spans[0].resource.attributes"),
        ((attr("agyn.thread.id", "  "),), "resource_spans[0].resource.attributes"),
    ],
)
async def test_asserted_threads_are_checked(tracing, org, attributes, field):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await tracing.otlp.Export(export([span(uuid.uuid4().bytes, 1)], *attributes), metadata=org["bearer"])
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in refused.value.details()


async def test_list_spans_pages_in_both_orders_and_filters(tracing, org):
    trace_id = uuid.uuid4().bytes
    spans = [span(trace_id, n, end=0 if n % 2 else 9_000, name=f"s{n % 3}") for n in range(1, 8)]
    await tracing.otlp.Export(export(spans), metadata=org["bearer"])
    for order, expected in (
        (pb.LIST_SPANS_ORDER_BY_START_TIME_ASC, list(range(1, 8))),
        (pb.LIST_SPANS_ORDER_BY_UNSPECIFIED, list(range(7, 0, -1))),
    ):
        seen, token = [], ""
        while True:
            reply = await tracing.stub.ListSpans(
                pb.ListSpansRequest(
                    organization_id=org["org"],
                    filter=pb.SpanFilter(trace_id=trace_id),
                    page_size=3,
                    page_token=token,
                    order_by=order,
                ),
                metadata=metadata(org["owner"]),
            )
            seen += [int.from_bytes(s.span_id, "big") for s in spans_of(reply)]
            token = reply.next_page_token
            if not token:
                break
        assert seen == expected
    running = await tracing.stub.ListSpans(
        pb.ListSpansRequest(
            organization_id=org["org"],
            filter=pb.SpanFilter(trace_id=trace_id, statuses=[pb.SPAN_STATUS_RUNNING], names=["s1", "s0"]),
        ),
        metadata=metadata(org["owner"]),
    )
    assert sorted(int.from_bytes(s.span_id, "big") for s in spans_of(running)) == [1, 3, 7]


async def test_span_totals_sum_token_usage(tracing, org):
    trace_id = uuid.uuid4().bytes
    usage = [attr("gen_ai.usage.input_tokens", 10), attr("gen_ai.usage.output_tokens", 3)]
    await tracing.otlp.Export(
        export([span(trace_id, 1, attributes=usage), span(trace_id, 2, attributes=usage, name="other")]),
        metadata=org["bearer"],
    )
    reply = await tracing.stub.GetTraceSpanTotals(
        pb.GetTraceSpanTotalsRequest(trace_id=trace_id, names=["llm.call"]), metadata=metadata(org["owner"])
    )
    assert (reply.span_count, reply.token_usage.input_tokens, reply.token_usage.total_tokens) == (1, 10, 13)
    unknown = await tracing.stub.GetTraceSpanTotals(
        pb.GetTraceSpanTotalsRequest(trace_id=uuid.uuid4().bytes), metadata=metadata(org["owner"])
    )
    assert unknown.span_count == 0


TRACE = uuid.UUID(int=1).bytes


@pytest.mark.parametrize(
    ("method", "request_", "code", "field"),
    [
        ("ListSpans", pb.ListSpansRequest(), grpc.StatusCode.INVALID_ARGUMENT, "organization_id"),
        (
            "ListSpans",
            pb.ListSpansRequest(organization_id="x"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "organization_id",
        ),
        ("ListSpans", "bad-filter", grpc.StatusCode.INVALID_ARGUMENT, "filter.trace_id"),
        ("ListSpans", "bad-status", grpc.StatusCode.INVALID_ARGUMENT, "filter.statuses[0]"),
        ("ListSpans", "bad-token", grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
        ("ListSpans", "bad-order", grpc.StatusCode.INVALID_ARGUMENT, "order_by"),
        ("GetSpan", pb.GetSpanRequest(trace_id=TRACE), grpc.StatusCode.INVALID_ARGUMENT, "span_id"),
        ("GetSpan", pb.GetSpanRequest(trace_id=TRACE, span_id=b"12345678"), grpc.StatusCode.NOT_FOUND, ""),
        ("GetTrace", pb.GetTraceRequest(trace_id=b"x"), grpc.StatusCode.INVALID_ARGUMENT, "trace_id"),
        ("GetTrace", pb.GetTraceRequest(trace_id=TRACE), grpc.StatusCode.NOT_FOUND, ""),
        ("GetTraceSummary", pb.GetTraceSummaryRequest(trace_id=TRACE), grpc.StatusCode.NOT_FOUND, ""),
        (
            "GetTraceSpanTotals",
            pb.GetTraceSpanTotalsRequest(trace_id=TRACE, statuses=[0]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "statuses[0]",
        ),
    ],
)
async def test_bad_requests(tracing, org, method, request_, code, field):
    special = {
        "bad-filter": pb.ListSpansRequest(organization_id=org["org"], filter=pb.SpanFilter(trace_id=b"x")),
        "bad-status": pb.ListSpansRequest(organization_id=org["org"], filter=pb.SpanFilter(statuses=[0])),
        "bad-token": pb.ListSpansRequest(organization_id=org["org"], page_token="!!"),
        "bad-order": pb.ListSpansRequest(organization_id=org["org"], order_by=9),
    }
    request = special.get(request_, request_) if isinstance(request_, str) else request_
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await getattr(tracing.stub, method)(request, metadata=metadata(org["owner"]), timeout=10)
    assert refused.value.code() == code
    assert field in refused.value.details()


@pytest.mark.parametrize(
    "method", ["ListSpans", "GetSpan", "GetTrace", "GetTraceSummary", "GetTraceSpanTotals"]
)
async def test_outsiders_are_denied(tracing, org, method):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=org["bearer"])
    requests = {
        "ListSpans": pb.ListSpansRequest(organization_id=org["org"]),
        "GetSpan": pb.GetSpanRequest(trace_id=trace_id, span_id=(1).to_bytes(8, "big")),
        "GetTrace": pb.GetTraceRequest(trace_id=trace_id),
        "GetTraceSummary": pb.GetTraceSummaryRequest(trace_id=trace_id),
        "GetTraceSpanTotals": pb.GetTraceSpanTotalsRequest(trace_id=trace_id),
    }
    await getattr(tracing.stub, method)(requests[method], metadata=metadata(org["owner"]), timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await getattr(tracing.stub, method)(requests[method], metadata=metadata(org["outsider"]), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_threads_and_messages_are_checked_as_the_agent(tracing, threads, org):
    thread = await threads.create(org["owner"], org["org"], uuid.UUID(org["agent"]))
    message = await threads.send(org["owner"], thread.id)
    elsewhere = await threads.create(org["owner"], org["org"])
    trace_id = uuid.uuid4().bytes
    asserted = (attr("agyn.thread.id", thread.id), attr("agyn.thread.message.id", message.id))
    await tracing.otlp.Export(export([span(trace_id, 1)], *asserted), metadata=org["bearer"])
    listed = await tracing.stub.ListSpans(
        pb.ListSpansRequest(organization_id=org["org"], filter=pb.SpanFilter(message_id=message.id)),
        metadata=metadata(org["owner"]),
    )
    assert [s.trace_id for s in spans_of(listed)] == [trace_id]

    other_message = (attr("agyn.thread.id", thread.id), attr("agyn.thread.message.id", str(uuid.uuid4())))
    for attributes, code in (
        ((attr("agyn.thread.id", elsewhere.id),), grpc.StatusCode.PERMISSION_DENIED),
        ((attr("agyn.thread.id", str(uuid.uuid4())),), grpc.StatusCode.PERMISSION_DENIED),
        (other_message, grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await tracing.otlp.Export(export([span(trace_id, 2)], *attributes), metadata=org["bearer"])
        assert refused.value.code() == code


@pytest.mark.parametrize(
    "service", ["agynio.api.gateway.v1.TracingGateway", "agynio.api.tracing.v1.TracingGateway"]
)
async def test_the_gateway_serves_the_queries(tracing, gateway_with, org, service):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=org["bearer"])
    async with gateway_with(tracing_address=tracing.address) as gateway:
        body = {"traceId": base64.b64encode(trace_id).decode()}
        reply = await gateway.connect(
            "GetTraceSummary", body, await gateway.token_for(org["owner"]), service=service
        )
        assert (reply.status_code, reply.json()["totalSpans"]) == (200, "1")
        refused = await gateway.connect(
            "GetTraceSummary", body, await gateway.token_for(org["outsider"]), service=service
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")


async def test_a_large_batch_with_a_repeated_span_is_stored_at_once(tracing, org):
    """Over gRPC's default 4 MiB; a span exported twice in one batch keeps its last version."""
    trace_id = uuid.uuid4().bytes
    context = attr("agyn.llm.response_text", "x" * 2_500)
    spans = [span(trace_id, n, attributes=[context]) for n in range(1, 2_001)]
    spans.append(span(trace_id, 1, end=7_000))
    reply = await tracing.otlp.Export(export(spans), metadata=org["bearer"], timeout=30)
    assert export(spans).ByteSize() > 4 * 2**20 and not reply.HasField("partial_success")
    summary = await tracing.stub.GetTraceSummary(
        pb.GetTraceSummaryRequest(trace_id=trace_id), metadata=metadata(org["owner"])
    )
    assert (summary.total_spans, summary.counts_by_status["SPAN_STATUS_OK"]) == (2_000, 1)
