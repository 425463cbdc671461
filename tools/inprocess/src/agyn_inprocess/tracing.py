"""Tracing in-process next to Users, Organizations, Agents and Threads, and what its tests
export: OTLP spans, and an agent with a workload credential to export them with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.server import RunningService, start_service
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agyn_tracing.__main__ import DEFINITION as TRACING
from agyn_tracing.settings import TracingSettings
from agynio.api.tracing.v1 import access_pb2_grpc, tracing_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from agyn_inprocess.agents import Agents
from agyn_inprocess.threads import Threads
from agyn_inprocess.users import agent_credential


@dataclass
class Tracing:
    service: RunningService[Any]
    stub: tracing_pb2_grpc.TracingServiceStub
    access: access_pb2_grpc.TraceAccessServiceStub
    otlp: trace_service_pb2_grpc.TraceServiceStub

    @property
    def address(self) -> str:
        return self.service.address

    @property
    def otlp_http(self) -> str:
        """The base URL of OTLP/HTTP (traces at /v1/traces)."""
        return f"http://127.0.0.1:{self.service.http_ports['otlp-http']}"


@asynccontextmanager
async def in_process_tracing(
    agents: Agents, threads: Threads, database_factory: DatabaseFactory, nats_url: str, **overrides: Any
) -> AsyncIterator[Tracing]:
    platform = agents.platform
    running = await start_service(
        TRACING,
        in_process_settings(
            TracingSettings,
            database_factory("tracing", TRACING.migrations),
            nats_url,
            users_address=platform.users.running.address,
            agents_address=agents.service.address,
            organizations_address=platform.organizations_service.address,
            threads_address=threads.service.address,
            otlp_http_port=0,
            **overrides,
        ),
    )
    await running.runtime.bus.wait_ready(15)  # exporter resolutions are kept only while it follows the bus
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Tracing(
            running,
            tracing_pb2_grpc.TracingServiceStub(channel),
            access_pb2_grpc.TraceAccessServiceStub(channel),
            trace_service_pb2_grpc.TraceServiceStub(channel),
        )
    finally:
        await channel.close()
        await running.stop(1)


def attr(key: str, value: str | int) -> common_pb2.KeyValue:
    if isinstance(value, int):
        return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(int_value=value))
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def span(trace_id: bytes, n: int, *, end: int = 0, **fields: Any) -> trace_pb2.Span:
    """Span `n` of the trace (its id is n), started at 1000 + n, running unless it has an `end`."""
    return trace_pb2.Span(
        trace_id=trace_id,
        span_id=n.to_bytes(8, "big"),
        name=fields.pop("name", "llm.call"),
        start_time_unix_nano=1_000 + n,
        end_time_unix_nano=end,
        **fields,
    )


def export(
    spans: Sequence[trace_pb2.Span], *resource_attributes: common_pb2.KeyValue
) -> trace_service_pb2.ExportTraceServiceRequest:
    """The spans under one resource with these attributes, in one scope."""
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource_pb2.Resource(attributes=list(resource_attributes)),
                scope_spans=[trace_pb2.ScopeSpans(spans=spans)],
            )
        ]
    )


def spans_of(reply: Any) -> list[trace_pb2.Span]:
    """The spans of a reply holding `resource_spans`, in order."""
    return [s for rs in reply.resource_spans for ss in rs.scope_spans for s in ss.spans]


async def exporting_agent(agents: Agents) -> dict[str, Any]:
    """An organization with its owner, an outsider, and an agent whose workload exports with
    its credential (`bearer`, gRPC metadata)."""
    platform = agents.platform
    owner = await platform.user("owner")
    org = await platform.create_org(owner)
    agent = await agents.create(owner, org)
    workload = uuid.uuid4()
    credential = await agent_credential(platform.users, uuid.UUID(agent.meta.id), workload)
    return {
        "org": org,
        "owner": owner,
        "outsider": await platform.user("outsider"),
        "agent": agent.meta.id,
        "workload": str(workload),
        "bearer": (("authorization", f"Bearer {credential.enrollment_jwt}"),),
    }
