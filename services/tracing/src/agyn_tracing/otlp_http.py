"""OTLP over HTTP: `POST /v1/traces` on the HTTP port (OTLP_HTTP_PORT), for collectors and SDKs
that export over HTTP rather than gRPC.

Binary protobuf (`application/x-protobuf`) or OTLP/JSON (`application/json`: protojson, except
that trace and span ids are hex strings), gzip or not; answered in the request's encoding. The
export itself is the gRPC Export's (`agyn_tracing.intake`): the caller is a workload credential
(`Authorization: Bearer agynw_...`) or a platform producer named as the gRPC access check names
one. Failures follow the OTLP/HTTP specification: a google.rpc.Status in the request's encoding,
its HTTP status mapped from the gRPC code (`agyn_common.http_serving`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import grpc
from agyn_common.access import AccessPolicy
from agyn_common.errors import invalid_argument
from agyn_common.http_serving import HttpRefusal, Request, Response, Route
from agyn_common.request_checks import check_request
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from agyn_tracing.access import OTLP_HTTP_TRACES
from agyn_tracing.intake import Intake

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# Bodies larger than this are decoded in a thread: the event loop keeps serving meanwhile.
DECODE_INLINE_BYTES = 256 * 2**10
# The id fields of spans and links, under protojson's two spellings of each.
_ID_FIELDS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def traces_route(intake: Intake, policy: AccessPolicy) -> Route:
    async def export(request: Request) -> Response:
        encoding = _encoding(request)
        if encoding is None:
            given = request.header("content-type") or "none"
            raise HttpRefusal(
                415,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Content-Type must be {PROTOBUF} or {JSON}, not {given}",
            )
        body = await request.body.read()
        if len(body) <= DECODE_INLINE_BYTES:
            message = _decode(encoding, body)
        else:
            message = await asyncio.to_thread(_decode, encoding, body)
        check_request(message)  # as the gRPC pipeline checks every request
        workload = policy.calling_workload(request.metadata, request.peer)
        reply = await intake.export(message, request.metadata, workload)
        return Response(200, encoding, _encode(encoding, reply))

    return Route(OTLP_HTTP_TRACES, "POST", export, _status_body)


def _encoding(request: Request) -> str | None:
    media_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    return media_type if media_type in (PROTOBUF, JSON) else None


def _encode(encoding: str, message: Any) -> bytes:
    if encoding == JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    data: bytes = message.SerializeToString()
    return data


def _status_body(request: Request, status: status_pb2.Status) -> tuple[str, bytes]:
    """A refusal in the request's encoding; binary when it has none we speak (the default one)."""
    encoding = _encoding(request) or PROTOBUF
    return encoding, _encode(encoding, status)


def _decode(encoding: str, body: bytes) -> trace_service_pb2.ExportTraceServiceRequest:
    if encoding == PROTOBUF:
        try:
            return trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        except DecodeError:
            raise invalid_argument("body", "not an ExportTraceServiceRequest in protobuf") from None
    try:
        document = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        raise invalid_argument("body", "not JSON") from None
    if not isinstance(document, dict):
        raise invalid_argument("body", "must be a JSON object, an ExportTraceServiceRequest")
    for where, span in _spans(document):
        _check_enum(span, "kind", trace_pb2.Span.SpanKind.keys(), where)
        if isinstance(span.get("status"), dict):
            _check_enum(span["status"], "code", trace_pb2.Status.StatusCode.keys(), f"{where}.status")
        _ids_to_base64(span, where)
        for m, link in enumerate(_items(span, "links")):
            _ids_to_base64(link, f"{where}.links[{m}]")
    message = trace_service_pb2.ExportTraceServiceRequest()
    try:
        # OTLP/JSON receivers ignore fields they do not know (newer senders).
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise invalid_argument("body", str(error)) from None
    return message


def _spans(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every span of the document, with where it is (for the error naming it)."""
    for i, resource_spans in enumerate(_items(document, "resourceSpans", "resource_spans")):
        for j, scope_spans in enumerate(_items(resource_spans, "scopeSpans", "scope_spans")):
            for k, span in enumerate(_items(scope_spans, "spans")):
                yield f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]", span


def _ids_to_base64(holder: dict[str, Any], where: str) -> None:
    """OTLP/JSON's hex ids as protojson's base64 bytes."""
    for key in _ID_FIELDS:
        value = holder.get(key)
        if isinstance(value, str):
            if not _HEX.fullmatch(value):
                raise invalid_argument(f"{where}.{key}", "must be a hex string")
            holder[key] = base64.b64encode(bytes.fromhex(value)).decode()


def _check_enum(holder: dict[str, Any], key: str, names: list[str], where: str) -> None:
    """An enum given by name must be one: the parser, ignoring what it does not know, would
    take an unknown name for the default value."""
    value = holder.get(key)
    if isinstance(value, str) and value not in names:
        raise invalid_argument(f"{where}.{key}", f"unknown value {value}")


def _items(holder: dict[str, Any], *keys: str) -> Iterator[dict[str, Any]]:
    """The objects of the list under the first of `keys` present (anything else is left to
    the protojson parser to refuse)."""
    for key in keys:
        if key in holder:
            values = holder[key]
            if isinstance(values, list):
                yield from (value for value in values if isinstance(value, dict))
            return
