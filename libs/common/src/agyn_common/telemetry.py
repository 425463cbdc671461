"""OpenTelemetry set up from the standard OTEL_* variables.

Spans are created for every RPC (see `agyn_common.pipeline`) and every bus message handled,
and exported over OTLP/gRPC when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific variable)
is set. When nothing receives them they are not recorded: recording was about a tenth of a
call's CPU. The trace context still flows through every call and message, so the logs keep
their trace ids and one request stays one trace.

A service names the spans it must never record (`unrecorded`): Tracing's own handling of an
export, which sent to Tracing would make an export of its own, and that one another, for ever.
Whatever such a span starts (calls, events) is not recorded either: a parent-based sampler (the
default) follows its decision.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def export_configured() -> bool:
    return any(os.environ.get(name) for name in _ENDPOINT_VARIABLES)


class Unrecorded(Sampler):
    """Drops the spans named `names`, whatever their parent decided; asks `then` for others."""

    def __init__(self, names: Collection[str], then: Sampler) -> None:
        self._names = frozenset(names)
        self._then = then

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if name in self._names:
            return ALWAYS_OFF.should_sample(parent_context, trace_id, name, kind, attributes, links)
        return self._then.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"Unrecorded({sorted(self._names)}, {self._then.get_description()})"


def configure_tracing(
    service: str, extra_processor: SpanProcessor | None = None, unrecorded: Collection[str] = ()
) -> TracerProvider:
    """Install a tracer provider for this process and return it (shut it down on exit); the
    spans named in `unrecorded`, and those under them, are never recorded."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    exporting = export_configured() or extra_processor is not None
    provider = TracerProvider(resource=resource, sampler=None if exporting else ALWAYS_OFF)
    if exporting and unrecorded:
        provider.sampler = Unrecorded(unrecorded, provider.sampler)  # the OTEL_TRACES_SAMPLER one
    if export_configured():
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    return provider
