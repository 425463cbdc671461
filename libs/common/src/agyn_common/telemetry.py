"""OpenTelemetry set up from the standard OTEL_* variables.

Spans are created for every RPC (see `agyn_common.pipeline`) and every bus message handled,
and exported over OTLP/gRPC when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific variable)
is set. When nothing receives them they are not recorded: recording was about a tenth of a
call's CPU. The trace context still flows through every call and message, so the logs keep
their trace ids and one request stays one trace.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def export_configured() -> bool:
    return any(os.environ.get(name) for name in _ENDPOINT_VARIABLES)


def configure_tracing(service: str, extra_processor: SpanProcessor | None = None) -> TracerProvider:
    """Install a tracer provider for this process and return it (shut it down on exit)."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    exporting = export_configured() or extra_processor is not None
    provider = TracerProvider(resource=resource, sampler=None if exporting else ALWAYS_OFF)
    if export_configured():
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    return provider
