"""One request is one trace (DESIGN §6): calls made through `ServiceChannels` and messages
handled from the bus continue the trace they belong to."""

from __future__ import annotations

import uuid

import nats as nats_client
from agyn_common.access import AccessMode
from agyn_common.bus import EVENTS, Bus
from agyn_common.clients import ServiceChannels
from agyn_testkit.harness import wait_until
from agyn_testkit.probe import SERVICE
from google.protobuf import wrappers_pb2
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PUBLISHER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PUBLISHER_SPAN_ID}-01"


async def test_a_call_through_service_channels_is_a_client_span_the_server_continues(probe):
    channels = ServiceChannels("gateway", AccessMode.LOCAL, tracer_provider=probe.provider)
    echo = channels.channel(probe.running.address).unary_unary(
        f"/{SERVICE}/Echo",
        request_serializer=wrappers_pb2.StringValue.SerializeToString,
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    with probe.provider.get_tracer("test").start_as_current_span("handler") as handler:
        assert (await echo(wrappers_pb2.StringValue(value="hi"))).value == "hi"
    await channels.close()

    def spans(kind: SpanKind):
        return [
            span
            for span in probe.spans.get_finished_spans()
            if span.kind is kind and span.name.endswith(f"{SERVICE}/Echo")
        ]

    # The server ends its span after sending the status, so it may come last.
    await wait_until(lambda: spans(SpanKind.SERVER) and spans(SpanKind.CLIENT))
    (client,), (server,) = spans(SpanKind.CLIENT), spans(SpanKind.SERVER)
    assert client.context.trace_id == server.context.trace_id == handler.get_span_context().trace_id
    assert client.parent is not None and client.parent.span_id == handler.get_span_context().span_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert client.attributes["rpc.method"] == "Echo"


def recording() -> tuple[TracerProvider, InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider, spans


async def publish(nats_url: str, subject: str, *, jetstream: bool, traceparent: str = TRACEPARENT) -> None:
    connection = await nats_client.connect(nats_url)
    headers = {"traceparent": traceparent}
    if jetstream:
        await connection.jetstream().publish(subject, b"{}", headers=headers)
    else:
        await connection.publish(subject, b"{}", headers=headers)
        await connection.flush()
    await connection.close()


async def test_bus_handlers_run_in_a_consumer_span_continuing_the_publishers_trace(nats):
    provider, spans = recording()
    live = f"agyn.events.test{uuid.uuid4().hex}.cache.dropped"
    durable = f"agyn.events.test{uuid.uuid4().hex}.thing.happened"
    seen: dict[str, str] = {}  # subject -> the trace id current in its handler

    async def record(message) -> None:
        seen[message.subject] = format(trace.get_current_span().get_span_context().trace_id, "032x")

    bus = Bus(nats.url, name="trace-test", streams=(EVENTS,), tracer_provider=provider)
    bus.subscribe(live, record)
    bus.consume(f"test-{uuid.uuid4().hex}", durable, record)
    bus.start()
    await bus.wait_ready(10)
    try:
        await publish(nats.url, live, jetstream=False)
        await publish(nats.url, durable, jetstream=True)
        await wait_until(lambda: len(spans.get_finished_spans()) == 2)
    finally:
        await bus.close()

    assert seen == {live: TRACE_ID, durable: TRACE_ID}
    for span in spans.get_finished_spans():
        assert span.kind is SpanKind.CONSUMER
        assert span.parent is not None and format(span.parent.span_id, "016x") == PUBLISHER_SPAN_ID
        assert span.attributes["messaging.system"] == "nats"
    assert {span.name for span in spans.get_finished_spans()} == {f"process {live}", f"process {durable}"}


async def test_a_message_of_an_unsampled_trace_gets_no_span_and_is_handled_in_that_trace(nats):
    provider, spans = recording()
    subject = f"agyn.events.test{uuid.uuid4().hex}.cache.dropped"
    seen: list[str] = []

    async def record(message) -> None:
        seen.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))

    bus = Bus(nats.url, name="trace-test", streams=(EVENTS,), tracer_provider=provider)
    bus.subscribe(subject, record)
    bus.start()
    await bus.wait_ready(10)
    try:
        unsampled = TRACEPARENT.rsplit("-", 1)[0] + "-00"
        await publish(nats.url, subject, jetstream=False, traceparent=unsampled)
        await wait_until(lambda: bool(seen))
    finally:
        await bus.close()
    assert seen == [TRACE_ID]
    assert spans.get_finished_spans() == ()
