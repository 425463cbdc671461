"""The tracing deployable: TracingService, its internal TraceAccessService, and OTLP Export."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.org_access import OrganizationAccess
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.tracing.v1 import access_pb2_grpc, tracing_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from agyn_tracing.access import ACCESS, OTLP_TRACES, TRACE_ACCESS, TRACING
from agyn_tracing.attribution import ExporterResolver
from agyn_tracing.models import metadata
from agyn_tracing.run_events import RunEventHub
from agyn_tracing.servicer import OtlpTraceServicer, TraceAccessServicer, TracingServicer
from agyn_tracing.settings import TracingSettings
from agyn_tracing.threads import ThreadChecks


def register(server: grpc.aio.Server, runtime: Runtime[TracingSettings]) -> None:
    settings = runtime.settings
    organizations = OrganizationAccess(
        runtime.channels.channel(settings.organizations_address), ttl=settings.access_cache_seconds
    )
    organizations.attach(runtime.bus)
    exporters = ExporterResolver(
        runtime.channels.channel(settings.users_address),
        runtime.channels.channel(settings.agents_address),
        ttl=settings.identity_resolution_cache_seconds,
        max_entries=settings.identity_resolution_cache_size,
    )
    threads = ThreadChecks(
        runtime.channels.channel(settings.threads_address),
        ttl=settings.thread_auth_cache_seconds,
        max_entries=settings.thread_auth_cache_size,
    )
    runs = RunEventHub(runtime.bus, runtime.metrics, settings.run_events_buffer_size)
    runtime.on_stopping(lambda: runs.close("the server is stopping; reconnect with replay"))
    tracing_pb2_grpc.add_TracingServiceServicer_to_server(
        TracingServicer(runtime.db, organizations, runs, settings.run_events_heartbeat_seconds), server
    )
    access_pb2_grpc.add_TraceAccessServiceServicer_to_server(TraceAccessServicer(runtime.db), server)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        OtlpTraceServicer(runtime.db, runtime.outbox, exporters, threads), server
    )


DEFINITION = ServiceDefinition(
    name="tracing",
    settings_type=TracingSettings,
    access=ACCESS,
    grpc_services=(TRACING, TRACE_ACCESS, OTLP_TRACES),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
