"""OTLP messages as the protojson the span store keeps (files-tracing B.6).

`MessageToDict` is general and was most of an Export's CPU; attributes and events of plain
values, which is what spans carry, are written here directly. Anything else (bytes, special
doubles, fields newer than these) still goes through `MessageToDict`, which the output must
always equal: tests/test_otlp_json.py compares the two on generated messages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


def any_value(value: common_pb2.AnyValue) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}  # int64 is a string in protojson
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "double_value" and math.isfinite(value.double_value):
        return {"doubleValue": value.double_value}
    if kind == "array_value":
        items = value.array_value.values
        return {"arrayValue": {"values": [any_value(item) for item in items]} if items else {}}
    if kind == "kvlist_value":
        pairs = value.kvlist_value.values
        return {"kvlistValue": {"values": attributes(pairs)} if pairs else {}}
    return MessageToDict(value)


def key_value(pair: common_pb2.KeyValue) -> dict[str, Any]:
    if pair.key and pair.HasField("value") and not pair.key_strindex:
        return {"key": pair.key, "value": any_value(pair.value)}
    return MessageToDict(pair)


def attributes(pairs: Iterable[common_pb2.KeyValue]) -> list[dict[str, Any]]:
    return [key_value(pair) for pair in pairs]


def event(span_event: trace_pb2.Span.Event) -> dict[str, Any]:
    """Every field of Event; protojson leaves out the ones at their default."""
    written: dict[str, Any] = {}
    if span_event.time_unix_nano:
        written["timeUnixNano"] = str(span_event.time_unix_nano)
    if span_event.name:
        written["name"] = span_event.name
    if span_event.attributes:
        written["attributes"] = attributes(span_event.attributes)
    if span_event.dropped_attributes_count:
        written["droppedAttributesCount"] = span_event.dropped_attributes_count
    return written
