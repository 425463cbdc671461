"""The tracing deployable: TracingService, its internal TraceAccessService, and OTLP Export."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.access import AccessPolicy
from agyn_common.org_access import OrganizationAccess
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.tracing.v1 import access_pb2_grpc, tracing_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from agyn_tracing.access import ACCESS, OTLP_HTTP_TRACES, OTLP_TRACES, TRACE_ACCESS, TRACING
from agyn_tracing.attribution import ExporterResolver
from agyn_tracing.intake import Intake
from agyn_tracing.models import metadata
from agyn_tracing.otlp_http import traces_route
from agyn_tracing.retention import Retention
from agyn_tracing.run_events import RunEventHub
from agyn_tracing.servicer import OtlpTraceServicer, TraceAccessServicer, TracingServicer
from agyn_tracing.settings import TracingSettings
from agyn_tracing.threads import ThreadChecks

OTLP_HTTP = "otlp-http"  # the HTTP port's name (RunningService.http_ports)


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
    exporters.attach(runtime.bus)
    retention = Retention(runtime.db, runtime.metrics, days=settings.retention_days)
    runtime.run_periodically("retention sweep", settings.retention_sweep_interval, retention.once)
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
    intake = Intake(runtime.db, runtime.outbox, exporters, threads)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(OtlpTraceServicer(intake), server)
    if settings.otlp_http_port is not None:
        policy = AccessPolicy(ACCESS, settings.agyn_access_mode, settings.agyn_mesh_namespace)
        runtime.serve_http(
            OTLP_HTTP,
            settings.otlp_http_port,
            [traces_route(intake, policy)],
            max_body_bytes=settings.grpc_max_recv_bytes,
        )


DEFINITION = ServiceDefinition(
    name="tracing",
    settings_type=TracingSettings,
    access=ACCESS,
    grpc_services=(TRACING, TRACE_ACCESS, OTLP_TRACES),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    # Tracing's handling of an export is never recorded: exported to Tracing itself (as the
    # platform's services export theirs), each export would make another, for ever. Its
    # other spans (the queries) are recorded and exported like any service's.
    unrecorded_spans=(f"{OTLP_TRACES}/Export", f"POST {OTLP_HTTP_TRACES}"),
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
