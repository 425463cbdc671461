"""OTLP Export (files-tracing B.3.2, B.3.3): attribution, checks, and the upsert of a batch
in one statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common.errors import invalid_argument
from agyn_common.query import Query
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_tracing import otlp_json
from agyn_tracing.attribution import INJECTED, ORGANIZATION_ID, WORKLOAD_ID, Exporter

THREAD_ID = "agyn.thread.id"
MESSAGE_ID = "agyn.thread.message.id"
INT64_MAX = 2**63 - 1
TOKEN_ATTRIBUTES = {
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "cache_read_input_tokens": "gen_ai.usage.cache_read.input_tokens",
    "reasoning_tokens": "agyn.usage.reasoning_tokens",
}
_TOKEN_COLUMNS = {key: column for column, key in TOKEN_ATTRIBUTES.items()}

# (column, the SQL array type of its values); JSON travels as text and is cast per row.
_COLUMNS = (
    ("trace_id", "bytea"),
    ("span_id", "bytea"),
    ("trace_state", "text"),
    ("parent_span_id", "bytea"),
    ("flags", "bigint"),
    ("name", "text"),
    ("kind", "smallint"),
    ("start_time_unix_nano", "bigint"),
    ("end_time_unix_nano", "bigint"),
    ("attributes", "jsonb"),
    ("dropped_attributes_count", "bigint"),
    ("events", "jsonb"),
    ("dropped_events_count", "bigint"),
    ("links", "jsonb"),
    ("dropped_links_count", "bigint"),
    ("status_code", "smallint"),
    ("status_message", "text"),
    ("resource", "jsonb"),
    ("instrumentation_scope", "jsonb"),
    ("organization_id", "text"),
    ("message_id", "text"),
    ("workload_id", "text"),
    ("thread_id", "text"),
    ("input_tokens", "bigint"),
    ("output_tokens", "bigint"),
    ("cache_read_input_tokens", "bigint"),
    ("reasoning_tokens", "bigint"),
)
_KEY = ("trace_id", "span_id")


def _upsert_sql() -> str:
    names = [name for name, _ in _COLUMNS]
    arrays = ", ".join(f"CAST(:{name} AS {'text' if kind == 'jsonb' else kind}[])" for name, kind in _COLUMNS)
    values = ", ".join(
        f"CAST(u.{name} AS jsonb)" if kind == "jsonb" else f"u.{name}" for name, kind in _COLUMNS
    )
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name not in _KEY)
    return (
        f"INSERT INTO spans ({', '.join(names)}) SELECT {values} "
        f"FROM unnest({arrays}) AS u({', '.join(names)}) "
        f"ON CONFLICT (trace_id, span_id) DO UPDATE SET {updates}, "
        "revision = spans.revision + 1, updated_at = now() "
        "RETURNING trace_id, span_id, revision, (xmax = 0) AS created, "
        "organization_id, workload_id, name, end_time_unix_nano, status_code"
    )


# Every span of an Export in one statement: one array per column, whatever the batch's size.
# In binary: quoting 512 JSON documents into text arrays was most of an Export's CPU.
UPSERT = Query(
    sa.text(_upsert_sql()).columns(
        sa.column("trace_id", sa.LargeBinary),
        sa.column("span_id", sa.LargeBinary),
        sa.column("revision", sa.BigInteger),
        sa.column("created", sa.Boolean),
        sa.column("organization_id", sa.Text),
        sa.column("workload_id", sa.Text),
        sa.column("name", sa.Text),
        sa.column("end_time_unix_nano", sa.BigInteger),
        sa.column("status_code", sa.SmallInteger),
    ),
    "Upserted",
    binary=True,
)


def _string_attribute(attributes: Sequence[common_pb2.KeyValue], key: str) -> str | None:
    for attribute in attributes:
        if attribute.key == key and attribute.value.WhichOneof("value") == "string_value":
            return str(attribute.value.string_value)
    return None


def _asserted(resource: Any, key: str, field: str) -> str | None:
    """An identifying attribute a producer asserts: a non-blank string when present (step 3)."""
    present = [attribute for attribute in resource.attributes if attribute.key == key]
    if not present:
        return None
    value = present[0].value
    if value.WhichOneof("value") != "string_value" or not value.string_value.strip():
        raise invalid_argument(field, f"{key} must be a non-empty string")
    return str(value.string_value.strip())


def _derived(written: list[dict[str, Any]], message_id: str | None) -> dict[str, Any]:
    """The columns a span's attributes give (B.6), from their protojson: the first integer of
    each token key, and the message id unless the resource named one."""
    derived: dict[str, Any] = dict.fromkeys(TOKEN_ATTRIBUTES)
    for pair in written:
        key, value = pair.get("key", ""), pair.get("value", {})
        column = _TOKEN_COLUMNS.get(key)
        if column is not None and derived[column] is None and "intValue" in value:
            derived[column] = int(value["intValue"])
        elif key == MESSAGE_ID and message_id is None and "stringValue" in value:
            message_id = value["stringValue"]
    derived["message_id"] = message_id
    return derived


def attribute(key: str, value: str) -> common_pb2.KeyValue:
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def attribute_resources(
    request: trace_service_pb2.ExportTraceServiceRequest, exporter: Exporter | None
) -> None:
    """Step 2: an agent's attribution replaces whatever it asserted; a platform producer's
    (exporter None) stays as it is (B.8-3)."""
    if exporter is None:
        return
    injected = exporter.attributes()
    replaced = {key for key, _ in injected} | set(INJECTED)
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource  # mutating it makes it present: an empty one when absent
        kept = [kv for kv in resource.attributes if kv.key not in replaced]
        del resource.attributes[:]
        resource.attributes.extend(kept)
        resource.attributes.extend(attribute(key, value) for key, value in injected)


@dataclass(frozen=True)
class AssertedThread:
    thread_id: str
    message_id: str | None
    field: str  # where it was asserted, for the error that names it


def asserted_threads(request: trace_service_pb2.ExportTraceServiceRequest) -> list[AssertedThread]:
    """Step 3: the distinct (thread, message) pairs the resources assert, well-formed."""
    asserted: dict[tuple[str, str | None], AssertedThread] = {}
    for index, resource_spans in enumerate(request.resource_spans):
        field = f"resource_spans[{index}].resource.attributes"
        thread = _asserted(resource_spans.resource, THREAD_ID, field)
        message = _asserted(resource_spans.resource, MESSAGE_ID, field)
        if message is not None and thread is None:
            raise invalid_argument(field, f"{MESSAGE_ID} needs {THREAD_ID}")
        if thread is not None:
            asserted.setdefault((thread, message), AssertedThread(thread, message, field))
    return list(asserted.values())


def rows(request: trace_service_pb2.ExportTraceServiceRequest) -> tuple[dict[str, list[Any]], int]:
    """The spans as one list per column, the last export of a repeated key winning, and how
    many spans were rejected (step 6)."""
    by_key: dict[tuple[bytes, bytes], dict[str, Any]] = {}
    rejected = 0
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource
        resource_json = json.dumps(MessageToDict(resource), sort_keys=True)
        organization = _string_attribute(resource.attributes, ORGANIZATION_ID)
        thread = _string_attribute(resource.attributes, THREAD_ID)
        workload = _string_attribute(resource.attributes, WORKLOAD_ID)
        resource_message = _string_attribute(resource.attributes, MESSAGE_ID)
        for scope_spans in resource_spans.scope_spans:
            scope_json = json.dumps(MessageToDict(scope_spans.scope), sort_keys=True)
            for span in scope_spans.spans:
                if (
                    len(span.trace_id) != 16
                    or len(span.span_id) != 8
                    or (span.parent_span_id and len(span.parent_span_id) != 8)
                    or span.start_time_unix_nano > INT64_MAX
                    or span.end_time_unix_nano > INT64_MAX
                ):
                    rejected += 1
                    continue
                attributes = otlp_json.attributes(span.attributes)
                row = {
                    "trace_id": span.trace_id,
                    "span_id": span.span_id,
                    "trace_state": span.trace_state,
                    "parent_span_id": span.parent_span_id,
                    "flags": span.flags,
                    "name": span.name,
                    "kind": span.kind,
                    "start_time_unix_nano": span.start_time_unix_nano,
                    "end_time_unix_nano": span.end_time_unix_nano,
                    "attributes": json.dumps(attributes),
                    "dropped_attributes_count": span.dropped_attributes_count,
                    "events": json.dumps([otlp_json.event(event) for event in span.events]),
                    "dropped_events_count": span.dropped_events_count,
                    "links": json.dumps([MessageToDict(link) for link in span.links]),
                    "dropped_links_count": span.dropped_links_count,
                    "status_code": span.status.code,
                    "status_message": span.status.message,
                    "resource": resource_json,
                    "instrumentation_scope": scope_json,
                    "organization_id": organization,
                    "workload_id": workload,
                    "thread_id": thread,
                    **_derived(attributes, resource_message or None),
                }
                by_key[(span.trace_id, span.span_id)] = row
    columns: dict[str, list[Any]] = {name: [] for name, _ in _COLUMNS}
    for row in by_key.values():
        for name, values in columns.items():
            values.append(row[name])
    return columns, rejected


async def upsert(connection: AsyncConnection, columns: dict[str, list[Any]]) -> Sequence[Any]:
    """The rows as stored, `created` telling an insert from a replacement."""
    if not columns["trace_id"]:
        return []
    return await UPSERT.all(connection, **columns)
