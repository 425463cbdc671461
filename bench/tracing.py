"""Tracing: OTLP ingest next to a raw PostgreSQL COPY, and Export -> StreamRunEvents.

    make bench        (or: .venv/bin/python bench/tracing.py)

On one local platform (every service its own process, as in `make up`), an agent's workloads,
each with its own credential (issued as the agents orchestrator gets one), export from
EXPORTERS concurrent exporters requests of 512 spans: a BatchSpanProcessor's batch, recorded
by the OpenTelemetry SDK and encoded by its OTLP encoder. In turns with that, the same rows
(the columns and JSON values Tracing stores) are COPYed into a scratch table shaped like
`spans` in the tracing database, as many at a time. Ingest counts until Tracing's outbox has
relayed every span event too; the Tracing process's CPU gives spans per CPU-second. Then a
client follows a run through the Gateway with StreamRunEvents while an exporter sends one span
at a time, paced: the delay from just before each Export to the receipt of its RunEvent.
A benchmark, not a test: it prints its table.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import psycopg
from agyn_inprocess.agents import agent_request
from agyn_local.platform import LocalPlatform
from agyn_local.workloads import agent_credential
from agyn_tracing.attribution import Exporter
from agyn_tracing.ingest import attribute_resources
from agyn_tracing.ingest import rows as stored_columns
from agynio.api.agents.v1 import agents_pb2_grpc
from agynio.api.gateway.v1 import tracing_pb2_grpc as tracing_gateway
from agynio.api.tracing.v1 import tracing_pb2 as pb
from figures import CpuClock, Figures, on_a_local_platform, run_for
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from workload_logs import organization

EXPORTERS = 4
BATCH = 512  # the BatchSpanProcessor's default max_export_batch_size
SECONDS = 12.0  # of exporting, and of COPY, each in ROUNDS turns
ROUNDS = 3
FOLLOWED = 300  # spans exported one at a time while a client follows their run
PACE = 20.0  # of those, exports a second
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
SENT_AT = "bench.sent_at"  # a followed span's send time, this process's perf_counter()
TEXT = "The quick brown fox jumps over the lazy dog; " * 40  # words for the attribute values


def recorded_run(count: int) -> list[ReadableSpan]:
    """`count` spans of an agent's run as the SDK records them: turns of an invocation.message,
    four llm.calls and three tool.executions, ~10 attributes each (files-tracing B.3.7)."""
    tracer = TracerProvider(resource=Resource.create({"service.name": "agent"})).get_tracer("agn", "1.4.0")
    spans: list[trace.Span] = []
    while len(spans) < count:
        message = tracer.start_span(
            "invocation.message",
            attributes={
                "agyn.message.role": "user",
                "agyn.message.kind": "source",
                "agyn.message.text": TEXT[:300],
                "agyn.thread.message.id": str(uuid.uuid4()),
            },
        )
        spans.append(message)
        turn = trace.set_span_in_context(message)
        for call in range(4):
            llm = tracer.start_span(
                "llm.call",
                context=turn,
                attributes={
                    "gen_ai.system": "openai",
                    "gen_ai.request.model": "gpt-4.1",
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.request.top_p": 1.0,
                    "gen_ai.response.finish_reason": "tool_calls" if call < 3 else "stop",
                    "gen_ai.usage.input_tokens": 12_000 + 800 * call,
                    "gen_ai.usage.output_tokens": 180,
                    "gen_ai.usage.cache_read.input_tokens": 11_000,
                    "agyn.usage.reasoning_tokens": 64,
                    "agyn.llm.response_text": TEXT[:600],
                    "agyn.llm.tool_calls": f'[{{"call_id": "call_{call}", "name": "shell", '
                    f'"arguments": "{{\\"command\\": \\"ls -la src\\"}}"}}]',
                },
            )
            llm.end()
            spans.append(llm)
            if call < 3:
                tool = tracer.start_span(
                    "tool.execution",
                    context=turn,
                    attributes={
                        "agyn.tool.name": "shell",
                        "agyn.tool.call_id": f"call_{call}",
                        "agyn.tool.input": '{"command": "ls -la src"}',
                        "agyn.tool.output": TEXT[:1500],
                        "agyn.tool.exit_code": 0,
                    },
                )
                tool.end()
                spans.append(tool)
        message.end()
    readable = [span for span in spans[:count] if isinstance(span, ReadableSpan)]
    assert len(readable) == count
    return readable


def in_trace(request: trace_service_pb2.ExportTraceServiceRequest, trace_id: bytes) -> bytes:
    """The request, serialized, with every span moved to the trace `trace_id` (new rows)."""
    for resource in request.resource_spans:
        for scope in resource.scope_spans:
            for span in scope.spans:
                span.trace_id = trace_id
    return request.SerializeToString()


@dataclass
class TracingFigures:
    ingest: Figures  # per Export of BATCH spans; its seconds include the outbox's catching up
    copy: Figures  # per COPY of BATCH rows
    cpu_seconds: float  # the Tracing process's, while ingesting
    catching_up: float  # seconds the outbox took after the exports to relay their events
    followed: Figures  # Export -> StreamRunEvents receipt

    @property
    def ingest_spans_per_second(self) -> float:
        return self.ingest.throughput * BATCH

    @property
    def copy_rows_per_second(self) -> float:
        return self.copy.throughput * BATCH

    @property
    def spans_per_cpu_second(self) -> float:
        return self.ingest.count * BATCH / self.cpu_seconds


class Workloads:
    """Workloads of one agent in an organization of the local admin, each with its credential."""

    def __init__(self, platform: LocalPlatform) -> None:
        self.endpoints = platform.addresses
        admin = platform.admin_identity_path.read_text().strip()
        self.organization = organization(platform, admin)
        with grpc.insecure_channel(self.endpoints["agents"]) as channel:
            created = agents_pb2_grpc.AgentsServiceStub(channel).CreateAgent(
                agent_request(self.organization, name="Bench agent"),
                metadata=(("x-agyn-caller", "gateway"), ("x-identity-id", admin)),
                timeout=30,
            )
        self.agent = str(created.agent.meta.id)

    def new(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """A new workload's id, and the metadata its exporter sends."""
        issued = agent_credential(self.endpoints, self.agent)
        return issued["workload_id"], (("authorization", f"Bearer {issued['credential']}"),)

    def stored(
        self, request: trace_service_pb2.ExportTraceServiceRequest, workload: str
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The columns Tracing stores of `request` from `workload`, and the rows (trace_id first)."""
        attributed = trace_service_pb2.ExportTraceServiceRequest()
        attributed.CopyFrom(request)
        agent = uuid.UUID(self.agent)  # an agent's identity id is its id
        attribute_resources(attributed, Exporter(agent, self.agent, self.organization, workload))
        columns, _ = stored_columns(attributed)
        return list(columns), list(zip(*columns.values(), strict=True))


async def outbox_drained(tracing_db: psycopg.AsyncConnection) -> None:
    """Until Tracing's relay has published every span event it queued."""
    while True:
        queued = await (await tracing_db.execute("SELECT count(*) FROM outbox")).fetchone()
        if queued == (0,):
            return
        await asyncio.sleep(0.05)


async def ingest_and_copy(
    platform: LocalPlatform, workloads: Workloads, request: trace_service_pb2.ExportTraceServiceRequest
) -> tuple[Figures, Figures, float, float]:
    exporters = [workloads.new() for _ in range(EXPORTERS)]
    columns, rows = workloads.stored(request, exporters[0][0])
    statement = f"COPY copied_spans ({', '.join(columns)}) FROM STDIN"
    tracing_url = platform.database_url("tracing")
    tracing_db = await psycopg.AsyncConnection.connect(tracing_url, autocommit=True)
    await tracing_db.execute("CREATE TABLE copied_spans (LIKE spans INCLUDING ALL)")
    copiers = [await psycopg.AsyncConnection.connect(tracing_url, autocommit=True) for _ in range(EXPORTERS)]
    channels = [grpc.aio.insecure_channel(platform.addresses["tracing"]) for _ in range(EXPORTERS)]
    exports = [
        channel.unary_unary(
            EXPORT, response_deserializer=trace_service_pb2.ExportTraceServiceResponse.FromString
        )
        for channel in channels
    ]

    async def export(worker: int) -> float:
        started = time.perf_counter()
        reply = await exports[worker](in_trace(request, uuid.uuid4().bytes), metadata=exporters[worker][1])
        assert not reply.HasField("partial_success"), reply
        return time.perf_counter() - started

    async def copy(worker: int) -> float:
        trace_id = uuid.uuid4().bytes
        started = time.perf_counter()
        async with copiers[worker].cursor() as cursor, cursor.copy(statement) as writer:
            for row in rows:
                await writer.write_row((trace_id, *row[1:]))
        return time.perf_counter() - started

    await export(0)  # warm: channels, the credentials' resolution
    await outbox_drained(tracing_db)
    clock = CpuClock(platform.pid("tracing"))
    ingest, copied, cpu_seconds, catching_up = Figures(0, 0.0, []), Figures(0, 0.0, []), 0.0, 0.0
    for _ in range(ROUNDS):  # in turns, so that the machine's other load weighs on both
        cpu_before = clock.seconds()
        exported = await run_for(EXPORTERS, SECONDS / ROUNDS, export)
        exports_ended = time.perf_counter()
        await outbox_drained(tracing_db)
        cpu_seconds += clock.seconds() - cpu_before
        catching_up += time.perf_counter() - exports_ended
        ingest = merged(ingest, exported, time.perf_counter() - exports_ended)
        copied = merged(copied, await run_for(EXPORTERS, SECONDS / ROUNDS, copy))
    for channel in channels:
        await channel.close()
    for connection in (tracing_db, *copiers):
        await connection.close()
    return ingest, copied, cpu_seconds, catching_up


def merged(total: Figures, more: Figures, extra_seconds: float = 0.0) -> Figures:
    return Figures(
        total.count + more.count,
        total.seconds + more.seconds + extra_seconds,
        total.latencies + more.latencies,
    )


def sent_at(event: pb.RunEvent) -> float:
    (span,) = event.resource_spans.scope_spans[0].spans
    return next(kv.value.double_value for kv in span.attributes if kv.key == SENT_AT)


async def follow(
    platform: LocalPlatform, workloads: Workloads, template: trace_service_pb2.ExportTraceServiceRequest
) -> Figures:
    """Spans exported one at a time, paced, and their RunEvents on a stream through the Gateway."""
    workload, bearer = workloads.new()
    (resource,) = template.resource_spans
    (scope,) = resource.scope_spans
    one = trace_service_pb2.ExportTraceServiceRequest()
    followed = one.resource_spans.add(resource=resource.resource).scope_spans.add(scope=scope.scope)
    span = followed.spans.add()
    span.CopyFrom(next(s for s in scope.spans if s.name == "llm.call"))
    span.trace_id = uuid.uuid4().bytes
    span.attributes.append(common_pb2.KeyValue(key=SENT_AT))
    sent = span.attributes[-1].value
    token = platform.admin_token_path.read_text().strip()
    delays: list[float] = []
    async with (
        grpc.aio.insecure_channel(platform.addresses["gateway"]) as gateway_channel,
        grpc.aio.insecure_channel(platform.addresses["tracing"]) as tracing_channel,
    ):
        stream = tracing_gateway.TracingGatewayStub(gateway_channel).StreamRunEvents(
            pb.StreamRunEventsRequest(
                organization_id=workloads.organization, workload_id=workload, replay=True
            ),
            metadata=(("authorization", f"Bearer {token}"),),
        )
        while not (await stream.read()).HasField("replay_complete"):
            pass
        export = tracing_channel.unary_unary(
            EXPORT, response_deserializer=trace_service_pb2.ExportTraceServiceResponse.FromString
        )

        async def receive() -> None:
            while len(delays) < FOLLOWED:
                response = await stream.read()
                if response.HasField("event"):
                    delays.append(time.perf_counter() - sent_at(response.event))

        async def send(n: int) -> None:
            span.span_id = n.to_bytes(8, "big")
            sent.double_value = time.perf_counter()
            await export(one.SerializeToString(), metadata=bearer)

        receiving = asyncio.create_task(receive())
        started = time.perf_counter()
        sending = []
        for n in range(1, FOLLOWED + 1):
            await asyncio.sleep(max(0.0, started + n / PACE - time.perf_counter()))
            sending.append(asyncio.create_task(send(n)))
        await asyncio.gather(*sending)
        try:
            await asyncio.wait_for(receiving, 10)
        except TimeoutError:
            print(f"(only {len(delays)} of {FOLLOWED} run events arrived within 10 s)")
        stream.cancel()
    return Figures(len(delays), time.perf_counter() - started, delays)


def latencies(figures: Figures) -> str:
    return f"{figures.percentile(0.5):>10.1f}{figures.percentile(0.99):>10.1f}"


async def measure(platform: LocalPlatform) -> TracingFigures:
    workloads = Workloads(platform)
    request = encode_spans(recorded_run(BATCH))  # one Export, as the SDK's OTLP exporter encodes it
    size = len(request.SerializeToString()) / BATCH
    ingest, copied, cpu_seconds, catching_up = await ingest_and_copy(platform, workloads, request)
    followed = await follow(platform, workloads, request)
    figures = TracingFigures(ingest, copied, cpu_seconds, catching_up, followed)
    print(
        f"{f'{EXPORTERS} exporters, {BATCH}-span Exports ({size / 1024:.1f} KiB a span)':<44}"
        f"{'spans/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'spans/CPU-s':>13}"
    )
    print(
        f"{'OTLP Export (and its events relayed)':<44}{figures.ingest_spans_per_second:>10.0f}"
        f"{latencies(ingest)}{figures.spans_per_cpu_second:>13.0f}"
    )
    copy_rate = figures.copy_rows_per_second
    print(f"{'raw PostgreSQL COPY of the same rows':<44}{copy_rate:>10.0f}{latencies(copied)}")
    print(
        f"{'ratio Export / COPY':<44}{figures.ingest_spans_per_second / figures.copy_rows_per_second:>9.2f}x"
    )
    print(
        f"{'':<44}({catching_up:.1f} s of the {ingest.seconds:.1f} s: the outbox relaying after the exports)"
    )
    print(f"\n{f'{FOLLOWED} spans one at a time, {PACE:.0f}/s':<44}{'count':>10}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'Export -> StreamRunEvents via the Gateway':<44}{followed.count:>10}{latencies(followed)}")
    return figures


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
