"""Stored span rows -> OTLP messages, grouped as files-tracing B.3.4 says."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agynio.api.tracing.v1 import tracing_pb2 as pb
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.trace.v1 import trace_pb2

RUNNING, OK, ERROR = pb.SPAN_STATUS_RUNNING, pb.SPAN_STATUS_OK, pb.SPAN_STATUS_ERROR
STATUS_ERROR = trace_pb2.Status.STATUS_CODE_ERROR


def span_status(end_time_unix_nano: int, status_code: int) -> pb.SpanStatus:
    """B.3.1: ERROR wins; else RUNNING until the span ends."""
    if status_code == STATUS_ERROR:
        return ERROR
    return RUNNING if end_time_unix_nano == 0 else OK


def _span(row: Any) -> trace_pb2.Span:
    span = trace_pb2.Span(
        trace_id=row.trace_id,
        span_id=row.span_id,
        trace_state=row.trace_state,
        parent_span_id=row.parent_span_id,
        flags=row.flags,
        name=row.name,
        kind=row.kind,
        start_time_unix_nano=row.start_time_unix_nano,
        end_time_unix_nano=row.end_time_unix_nano,
        dropped_attributes_count=row.dropped_attributes_count,
        dropped_events_count=row.dropped_events_count,
        dropped_links_count=row.dropped_links_count,
        status=trace_pb2.Status(code=row.status_code, message=row.status_message),
    )
    ParseDict({"attributes": row.attributes, "events": row.events, "links": row.links}, span)
    return span


def resource_spans(rows: Iterable[Any]) -> list[trace_pb2.ResourceSpans]:
    """Spans under their resource, then scope, groups in order of first appearance."""
    groups: dict[str, tuple[trace_pb2.ResourceSpans, dict[str, trace_pb2.ScopeSpans]]] = {}
    for row in rows:
        resource_key = json.dumps(row.resource, sort_keys=True)
        if resource_key not in groups:
            resource = trace_pb2.ResourceSpans()
            if row.resource is not None:
                ParseDict(row.resource, resource.resource)
            groups[resource_key] = (resource, {})
        resource, scopes = groups[resource_key]
        scope_key = json.dumps(row.instrumentation_scope, sort_keys=True)
        if scope_key not in scopes:
            scope = resource.scope_spans.add()
            if row.instrumentation_scope is not None:
                ParseDict(row.instrumentation_scope, scope.scope)
            scopes[scope_key] = scope
        scopes[scope_key].spans.append(_span(row))
    return [resource for resource, _ in groups.values()]
