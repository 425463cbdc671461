"""StreamRunEvents (files-tracing B.9): replay, then every change once and in order; summaries,
kinds, heartbeats, the organization's scope, overflow, stop, a bus outage, the Gateway."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from agyn_inprocess.agents import Agents
from agyn_inprocess.gateway import frame, frames
from agyn_inprocess.tracing import attr, export, exporting_agent, span
from agyn_testkit.calls import metadata
from agynio.api.gateway.v1 import tracing_pb2_grpc as tracing_gateway
from agynio.api.tracing.v1 import tracing_pb2 as pb
from agynio.api.tracing.v1 import tracing_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

READ_WITHIN = 20.0
EXPORT_WITHIN = 30.0
REPLAYED, CREATED, UPDATED = (
    pb.RUN_EVENT_ACTION_REPLAYED,
    pb.RUN_EVENT_ACTION_CREATED,
    pb.RUN_EVENT_ACTION_UPDATED,
)


def bulky(trace_id: bytes, n: int, size: int = 20_000, **fields: Any) -> trace_pb2.Span:
    """A span with a large attribute: a run of them is more than the transport buffers."""
    return span(trace_id, n, attributes=[attr("agyn.tool.output", "x" * size)], **fields)


def span_number(event: pb.RunEvent) -> int:
    return int.from_bytes(event.resource_spans.scope_spans[0].spans[0].span_id, "big")


async def read(call: Any) -> pb.StreamRunEventsResponse:
    response = await asyncio.wait_for(call.read(), READ_WITHIN)
    assert response is not grpc.aio.EOF
    return response


async def read_events(call: Any, count: int) -> list[pb.RunEvent]:
    """The next `count` events, skipping summaries and heartbeats."""
    events: list[pb.RunEvent] = []
    async with asyncio.timeout(READ_WITHIN):
        while len(events) < count:
            response = await read(call)
            if response.HasField("event"):
                events.append(response.event)
    return events


async def read_to_the_end(call: Any) -> None:
    while True:
        await read(call)


@pytest.fixture
async def viewers() -> AsyncIterator[list[grpc.aio.Channel]]:
    """The channels streams are opened on: a viewer is not the exporter, and a stream the test
    leaves unread must not hold up the exports' connection."""
    channels: list[grpc.aio.Channel] = []
    yield channels
    for channel in channels:
        await channel.close()


def open_stream(tracing: Any, org: dict[str, Any], viewers: list[grpc.aio.Channel], **request: Any) -> Any:
    request.setdefault("organization_id", org["org"])
    viewers.append(grpc.aio.insecure_channel(tracing.address))
    stub = tracing_pb2_grpc.TracingServiceStub(viewers[-1])
    return stub.StreamRunEvents(pb.StreamRunEventsRequest(**request), metadata=metadata(org["owner"]))


async def test_a_client_joining_mid_run_gets_the_replay_then_every_change_once_in_order(
    tracing, org, viewers
):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(
        export([bulky(trace_id, n) for n in range(1, 301)]), metadata=org["bearer"], timeout=EXPORT_WITHIN
    )
    call = open_stream(tracing, org, viewers, workload_id=org["workload"], replay=True)
    first = await read(call)
    assert (first.event.action, span_number(first.event), first.event.revision) == (REPLAYED, 1, 1)
    # While the replay is still being sent (6 MB the client has not read): span 1 changes
    # after it was replayed, span 300 before it is, and span 301 is new.
    await tracing.otlp.Export(
        export([bulky(trace_id, 1, end=9_000), bulky(trace_id, 300, end=9_000), bulky(trace_id, 301)]),
        metadata=org["bearer"],
        timeout=EXPORT_WITHIN,
    )
    responses = [first]
    while not responses[-1].HasField("replay_complete"):
        responses.append(await read(call))
    replay = [response.event for response in responses[:-1]]
    assert [span_number(event) for event in replay] == list(range(1, len(replay) + 1))
    assert {event.action for event in replay} == {REPLAYED}
    assert len(replay) in (300, 301)  # 301 is replayed when its export beat the replay's end
    assert responses[-1].replay_complete.replayed_spans == len(replay)

    # Live: what the replay did not have, each span state once; then more changes, in order.
    live = []
    sent_of = {span_number(event): event.revision for event in replay}
    wanted = {1: 2, 300: 2, 301: 1}
    while any(sent_of.get(n, 0) < revision for n, revision in wanted.items()):
        (event,) = await read_events(call, 1)
        live.append(event)
        sent_of[span_number(event)] = event.revision
    # Three new spans in a row, in their exports' order; then one of them changes. (Two changes
    # of a span that both land before the stream reads its row are sent as one: the stream
    # sends the stored state.)
    for n in (302, 303, 304):
        await tracing.otlp.Export(export([span(trace_id, n)]), metadata=org["bearer"], timeout=EXPORT_WITHIN)
    live += await read_events(call, 3)
    await tracing.otlp.Export(
        export([span(trace_id, 302, end=9_000)]), metadata=org["bearer"], timeout=EXPORT_WITHIN
    )
    live += await read_events(call, 1)
    call.cancel()

    everything = replay + live
    sequences = [event.sequence for event in everything]
    assert sequences == list(range(1, len(everything) + 1))
    states = [(span_number(event), event.revision) for event in everything]
    assert len(states) == len(set(states)), "a span state was sent twice"
    assert (1, 2) in states and (300, 2) in states
    assert [(span_number(e), e.revision, e.action) for e in live[-4:]] == [
        (302, 1, CREATED),
        (303, 1, CREATED),
        (304, 1, CREATED),
        (302, 2, UPDATED),
    ]
    assert live[0].action == UPDATED and span_number(live[0]) in (1, 300)
    assert live[-1].status == pb.SPAN_STATUS_OK


async def test_kinds_filter_and_summaries_follow_the_changes(tracing, org, viewers):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(
        export(
            [
                span(trace_id, 1, name="invocation.message"),
                span(trace_id, 2, name="llm.call", attributes=[attr("gen_ai.usage.input_tokens", 5)]),
                span(trace_id, 3, name="tool.execution"),
            ]
        ),
        metadata=org["bearer"],
        timeout=EXPORT_WITHIN,
    )
    call = open_stream(
        tracing,
        org,
        viewers,
        trace_id=trace_id,
        kinds=[pb.RUN_EVENT_KIND_TOOL_EXECUTION, pb.RUN_EVENT_KIND_OTHER],
        replay=True,
        include_summary=True,
    )
    replayed = await read(call)
    assert (replayed.event.kind, span_number(replayed.event)) == (pb.RUN_EVENT_KIND_TOOL_EXECUTION, 3)
    assert (await read(call)).replay_complete.replayed_spans == 1
    summary = (await read(call)).summary
    assert (summary.total_spans, summary.status, summary.token_usage.input_tokens) == (
        3,
        pb.TRACE_STATUS_RUNNING,
        5,
    )
    assert list(summary.trace_ids) == [trace_id]
    assert dict(summary.counts_by_status) == {
        "SPAN_STATUS_RUNNING": 3,
        "SPAN_STATUS_OK": 0,
        "SPAN_STATUS_ERROR": 0,
    }

    # A filtered-out kind changes nothing the client sees but the summary; another kind is sent.
    await tracing.otlp.Export(
        export([span(trace_id, 2, end=9_000, name="llm.call")]), metadata=org["bearer"], timeout=EXPORT_WITHIN
    )
    await tracing.otlp.Export(
        export([span(trace_id, 4, name="egress.request")]), metadata=org["bearer"], timeout=EXPORT_WITHIN
    )
    responses = [await read(call)]
    while not (responses[-1].HasField("summary") and responses[-1].summary.total_spans == 4):
        responses.append(await read(call))
    call.cancel()
    events = [response.event for response in responses if response.HasField("event")]
    assert [(e.kind, span_number(e), e.action) for e in events] == [(pb.RUN_EVENT_KIND_OTHER, 4, CREATED)]
    last = responses[-1].summary
    assert dict(last.counts_by_name) == {
        "invocation.message": 1,
        "llm.call": 1,
        "tool.execution": 1,
        "egress.request": 1,
    }
    assert last.counts_by_status["SPAN_STATUS_OK"] == 1
    # Changes a second apart or less share a summary: never more summaries than changes.
    assert sum(response.HasField("summary") for response in responses) <= 2


async def test_only_the_requested_organizations_spans_are_sent(tracing, org, agents: Agents, viewers):
    other = await exporting_agent(agents)
    trace_id = uuid.uuid4().bytes
    call = open_stream(tracing, org, viewers, trace_id=trace_id, replay=True)
    assert (await read(call)).replay_complete.replayed_spans == 0
    # The other organization's span of the same trace id comes first and is never sent.
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=other["bearer"], timeout=EXPORT_WITHIN)
    await tracing.otlp.Export(export([span(trace_id, 2)]), metadata=org["bearer"], timeout=EXPORT_WITHIN)
    (event,) = await read_events(call, 1)
    call.cancel()
    assert span_number(event) == 2


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"organization_id": "", "trace_id": bytes(16)}, "organization_id"),
        ({"organization_id": "nope", "trace_id": bytes(16)}, "organization_id"),
        ({}, "run"),
        ({"trace_id": b"abc"}, "trace_id"),
        ({"workload_id": "nope"}, "workload_id"),
        ({"trace_id": bytes(16), "kinds": [0]}, "kinds[0]"),
        ({"trace_id": bytes(16), "kinds": [1, 99]}, "kinds[1]"),
    ],
)
async def test_bad_requests_name_their_field(tracing, org, request_, field):
    request = {"organization_id": org["org"], **request_}
    call = tracing.stub.StreamRunEvents(pb.StreamRunEventsRequest(**request), metadata=metadata(org["owner"]))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await read(call)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in refused.value.details()


async def test_outsiders_are_denied(tracing, org):
    request = pb.StreamRunEventsRequest(organization_id=org["org"], workload_id=org["workload"])
    call = tracing.stub.StreamRunEvents(request, metadata=metadata(org["outsider"]))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await read(call)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_quiet_run_gets_heartbeats(tracing_with, org, viewers):
    async with tracing_with(run_events_heartbeat_seconds=0.2) as tracing:
        call = open_stream(tracing, org, viewers, workload_id=org["workload"])
        beat = await read(call)
        call.cancel()
    assert beat.HasField("heartbeat") and beat.heartbeat.server_time.seconds > 0


async def test_a_client_that_falls_behind_is_ended_resource_exhausted(tracing_with, org, viewers):
    async with tracing_with(run_events_buffer_size=3) as tracing:
        trace_id = uuid.uuid4().bytes
        call = open_stream(tracing, org, viewers, trace_id=trace_id, replay=True)
        assert (await read(call)).HasField("replay_complete")
        # Live, to a client that reads no more: the stream stalls on 6 MB of events.
        await tracing.otlp.Export(
            export([bulky(trace_id, n) for n in range(1, 301)]), metadata=org["bearer"], timeout=EXPORT_WITHIN
        )
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await read_to_the_end(call)
        assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_changes_during_a_long_replay_are_not_counted_against_the_client(tracing_with, org, viewers):
    """The replay goes at the client's pace; more changes than the buffer holds meanwhile are
    read again after it, not an overflow."""
    async with tracing_with(run_events_buffer_size=3) as tracing:
        trace_id = uuid.uuid4().bytes
        await tracing.otlp.Export(
            export([bulky(trace_id, n) for n in range(1, 301)]), metadata=org["bearer"], timeout=EXPORT_WITHIN
        )
        call = open_stream(tracing, org, viewers, trace_id=trace_id, replay=True)
        await read(call)
        await tracing.otlp.Export(
            export([span(trace_id, n) for n in range(1, 11)]), metadata=org["bearer"], timeout=EXPORT_WITHIN
        )
        revisions: dict[int, int] = {}
        while any(revisions.get(n) != 2 for n in range(1, 11)):
            response = await read(call)
            if response.HasField("event"):
                assert revisions.get(span_number(response.event), 0) < response.event.revision
                revisions[span_number(response.event)] = response.event.revision
        call.cancel()
        assert len(revisions) == 300


async def test_a_stopping_server_ends_its_streams_unavailable(tracing_with, org, viewers):
    async with tracing_with() as tracing:
        call = open_stream(tracing, org, viewers, workload_id=org["workload"], replay=True)
        assert (await read(call)).HasField("replay_complete")
        await tracing.service.stop(5)
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await read(call)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_changes_made_while_the_bus_is_away_still_arrive(tracing, org, nats, viewers):
    trace_id = uuid.uuid4().bytes
    call = open_stream(tracing, org, viewers, trace_id=trace_id, replay=True)
    assert (await read(call)).HasField("replay_complete")
    nats.stop()
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=org["bearer"], timeout=EXPORT_WITHIN)
    nats.start()
    (event,) = await read_events(call, 1)
    call.cancel()
    assert (span_number(event), event.revision, event.action) == (1, 1, CREATED)


@pytest.mark.parametrize("protocol", ["grpc", "connect"])
async def test_the_gateway_relays_the_stream(tracing, gateway_with, org, protocol):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=org["bearer"], timeout=EXPORT_WITHIN)
    async with gateway_with(tracing_address=tracing.address) as gateway:
        token = await gateway.token_for(org["owner"])
        if protocol == "grpc":
            async with grpc.aio.insecure_channel(gateway.address) as channel:
                call = tracing_gateway.TracingGatewayStub(channel).StreamRunEvents(
                    pb.StreamRunEventsRequest(organization_id=org["org"], trace_id=trace_id, replay=True),
                    metadata=(("authorization", f"Bearer {token}"),),
                )
                assert span_number((await read(call)).event) == 1
                assert (await read(call)).HasField("replay_complete")
                await tracing.otlp.Export(
                    export([span(trace_id, 2)]), metadata=org["bearer"], timeout=EXPORT_WITHIN
                )
                (event,) = await read_events(call, 1)
                call.cancel()
            assert (span_number(event), event.action) == (2, CREATED)
            return
        body = {"organizationId": org["org"], "traceId": base64.b64encode(trace_id).decode(), "replay": True}
        url = f"{gateway.url}/agynio.api.gateway.v1.TracingGateway/StreamRunEvents"
        headers = {"authorization": f"Bearer {token}", "content-type": "application/connect+json"}
        async with gateway.http.stream(
            "POST", url, content=frame(json.dumps(body).encode()), headers=headers
        ) as response:
            assert response.status_code == 200
            received = b""
            chunks = response.aiter_raw()
            async with asyncio.timeout(READ_WITHIN):
                while not complete(received) or len(frames(received)) < 2:
                    received += await anext(chunks)
                messages = [json.loads(data) for _, data in frames(received)]
                assert messages[0]["event"]["action"] == "RUN_EVENT_ACTION_REPLAYED"
                assert messages[1] == {"replayComplete": {"replayedSpans": "1"}}


def complete(data: bytes) -> bool:
    """Whether `data` ends at a frame boundary."""
    at = 0
    while at + 5 <= len(data):
        at += 5 + int.from_bytes(data[at + 1 : at + 5], "big")
    return at == len(data)
