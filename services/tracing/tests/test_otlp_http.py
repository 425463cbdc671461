"""OTLP over HTTP (`POST /v1/traces`): the same export as the gRPC one, in protobuf or JSON,
gzip or not, with the OTLP/HTTP specification's answers to what it refuses."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid

import httpx
import pytest
from agyn_common.embedded import free_port
from agyn_common.server import start_service
from agyn_inprocess.tracing import attr, export, span, spans_of
from agyn_testkit.calls import metadata
from agyn_tracing.__main__ import DEFINITION as TRACING
from agynio.api.tracing.v1 import access_pb2
from agynio.api.tracing.v1 import tracing_pb2 as pb
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PROTOBUF = {"content-type": "application/x-protobuf"}
JSON = {"content-type": "application/json"}
PLATFORM = {"x-agyn-caller": "egress-gateway"}


async def post(tracing, body: bytes, headers: dict[str, str], path: str = "/v1/traces") -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{tracing.otlp_http}{path}", content=body, headers=headers)


def bearer(org) -> dict[str, str]:
    ((_, value),) = org["bearer"]
    return {"authorization": value}


def status_of(reply: httpx.Response) -> status_pb2.Status:
    if reply.headers["content-type"] == "application/json":
        return json_format.Parse(reply.content, status_pb2.Status())
    assert reply.headers["content-type"] == "application/x-protobuf"
    return status_pb2.Status.FromString(reply.content)


def json_export(trace_id: bytes, *, resource: list[dict] | None = None, **span_fields) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": resource or []},
                "scopeSpans": [
                    {
                        "scope": {"name": "test"},
                        "spans": [
                            {
                                "traceId": trace_id.hex(),
                                "spanId": "00000000000000aa",
                                "name": "tool.execution",
                                "kind": 3,
                                "startTimeUnixNano": "1000",
                                **span_fields,
                            }
                        ],
                    }
                ],
            }
        ]
    }


async def test_the_sdk_http_exporter_sends_with_a_workload_credential(tracing, org):
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(
        endpoint=f"{tracing.otlp_http}/v1/traces", headers=bearer(org), compression=Compression.Gzip
    )
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("llm.call") as current:
        trace_id = current.get_span_context().trace_id.to_bytes(16, "big")
    await asyncio.to_thread(provider.shutdown)
    listed = await tracing.stub.ListSpans(
        pb.ListSpansRequest(organization_id=org["org"], filter=pb.SpanFilter(trace_id=trace_id)),
        metadata=metadata(org["owner"]),
    )
    assert [s.name for s in spans_of(listed)] == ["llm.call"]
    attributes = {kv.key: kv.value.string_value for kv in listed.resource_spans[0].resource.attributes}
    assert (attributes["agyn.agent.id"], attributes["agyn.workload.id"]) == (org["agent"], org["workload"])


async def test_json_with_hex_ids_is_answered_in_json(tracing, org):
    trace_id = uuid.uuid4().bytes
    linked = uuid.uuid4().bytes
    body = json_export(
        trace_id,
        parentSpanId="00000000000000BB",  # hex is case-insensitive
        links=[{"traceId": linked.hex(), "span_id": "00000000000000cc"}],  # both spellings
        status={"code": "STATUS_CODE_ERROR", "message": "boom"},  # an enum by name
        unknownField=True,  # newer senders' fields are ignored
    )
    reply = await post(tracing, json.dumps(body).encode(), {**JSON, **bearer(org)})
    assert (reply.status_code, reply.headers["content-type"], reply.json()) == (200, "application/json", {})
    got = await tracing.stub.GetSpan(
        pb.GetSpanRequest(trace_id=trace_id, span_id=bytes.fromhex("00000000000000aa")),
        metadata=metadata(org["owner"]),
    )
    (stored,) = spans_of(got)
    assert stored.parent_span_id == bytes.fromhex("00000000000000bb")
    assert (stored.links[0].trace_id, stored.links[0].span_id) == (linked, bytes.fromhex("00000000000000cc"))
    assert (stored.kind, stored.status.code, stored.status.message) == (3, 2, "boom")


async def test_gzip_protobuf_is_accepted_and_partial_success_reported(tracing, org):
    trace_id = uuid.uuid4().bytes
    request = export([span(trace_id, 1), span(b"short", 2)])
    reply = await post(
        tracing,
        gzip.compress(request.SerializeToString()),
        {**PROTOBUF, **bearer(org), "content-encoding": "gzip"},
    )
    assert (reply.status_code, reply.headers["content-type"]) == (200, "application/x-protobuf")
    answer = trace_service_pb2.ExportTraceServiceResponse.FromString(reply.content)
    assert (answer.partial_success.rejected_spans, answer.partial_success.error_message) == (
        1,
        "rejected 1 spans",
    )


async def test_a_platform_producer_keeps_its_attribution(tracing, org):
    trace_id = uuid.uuid4().bytes
    organization = [{"key": "agyn.organization.id", "value": {"stringValue": org["org"]}}]
    reply = await post(
        tracing, json.dumps(json_export(trace_id, resource=organization)).encode(), {**JSON, **PLATFORM}
    )
    assert reply.status_code == 200, reply.text
    owner = await tracing.access.GetTraceOrganization(
        access_pb2.GetTraceOrganizationRequest(trace_id=trace_id), metadata=metadata(caller="notifications")
    )
    assert owner.organization_id == org["org"]


LIMIT = 32 * 2**20


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"\xff\xff", {**PROTOBUF, **PLATFORM}, 400, "body: not an ExportTraceServiceRequest"),
        (b"[1]", {**JSON, **PLATFORM}, 400, "body: must be a JSON object"),
        (b"{", {**JSON, **PLATFORM}, 400, "body: not JSON"),
        (
            json.dumps(json_export(b"\x01" * 16, spanId="xyz")).encode(),
            {**JSON, **PLATFORM},
            400,
            "resourceSpans[0].scopeSpans[0].spans[0].spanId: must be a hex string",
        ),
        (
            json.dumps(json_export(b"\x01" * 16, kind="SPAN_KIND_NONE")).encode(),
            {**JSON, **PLATFORM},
            400,
            "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown value SPAN_KIND_NONE",
        ),
        (b"\x1f\x8b garbage", {**PROTOBUF, **PLATFORM, "content-encoding": "gzip"}, 400, "not valid gzip"),
        (
            export([span(b"\x01" * 16, 1)], attr("agyn.thread.message.id", "m")).SerializeToString(),
            {**PROTOBUF, **PLATFORM},
            400,
            "resource_spans[0].resource.attributes: agyn.thread.message.id needs agyn.thread.id",
        ),
        (b"", PROTOBUF, 401, "a workload credential is required"),
        (b"", {**PROTOBUF, "authorization": "Bearer agynw_" + "x" * 44}, 401, "invalid workload credential"),
        (b"", {**PROTOBUF, "authorization": "Basic abc"}, 401, "expected a bearer credential"),
        (b"{}", {"content-type": "text/plain", **PLATFORM}, 415, "Content-Type must be"),
        (
            b"",
            {**PROTOBUF, **PLATFORM, "content-encoding": "br"},
            415,
            "Content-Encoding br is not supported",
        ),
        (b"\0" * (LIMIT + 1), {**PROTOBUF, **PLATFORM}, 413, f"larger than {LIMIT} bytes"),
        (
            gzip.compress(b"\0" * (LIMIT + 1)),
            {**PROTOBUF, **PLATFORM, "content-encoding": "gzip"},
            413,
            "once inflated",
        ),
    ],
)
async def test_refusals_carry_a_status_in_the_request_encoding(tracing, body, headers, status, message):
    reply = await post(tracing, body, headers)
    assert reply.status_code == status, reply.text
    assert message in status_of(reply).message
    if headers["content-type"] == JSON["content-type"]:
        assert reply.headers["content-type"] == "application/json"


async def test_an_unreadable_thread_is_forbidden(tracing, org):
    request = export([span(uuid.uuid4().bytes, 1)], attr("agyn.thread.id", str(uuid.uuid4())))
    reply = await post(tracing, request.SerializeToString(), {**PROTOBUF, **bearer(org)})
    assert reply.status_code == 403
    assert "may not read thread" in status_of(reply).message


async def test_other_methods_and_paths(tracing):
    async with httpx.AsyncClient(timeout=10) as http:
        got = await http.get(f"{tracing.otlp_http}/v1/traces")
    assert (got.status_code, got.headers["allow"]) == (405, "POST")
    assert (await post(tracing, b"", {**PROTOBUF, **PLATFORM}, path="/v1/metrics")).status_code == 404


async def test_spans_metrics_retry_and_the_stop(tracing, org):
    """A second Tracing whose Users is away: a credential cannot be resolved (503, retry after);
    its requests continue the caller's trace and are counted; a request in flight when it stops
    is answered, and the port is closed."""
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    settings = tracing.service.runtime.settings.model_copy(
        update={"users_address": f"127.0.0.1:{free_port()}", "metrics_port": free_port(), "otlp_http_port": 0}
    )
    running = await start_service(TRACING, settings, tracer_provider=provider)
    url = f"http://127.0.0.1:{running.http_ports['otlp-http']}/v1/traces"
    body = export([span(uuid.uuid4().bytes, 1)]).SerializeToString()
    stopped = False
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            away = await http.post(url, content=body, headers={**PROTOBUF, **bearer(org)})
            assert (away.status_code, away.headers["retry-after"]) == (503, "1")
            assert status_of(away).message == "users is unavailable: UNAVAILABLE"
            traceparent = f"00-{'ab' * 16}-{'cd' * 8}-01"
            traced = await http.post(
                url, content=body, headers={**PROTOBUF, **PLATFORM, "traceparent": traceparent}
            )
            assert traced.status_code == 200
            (served,) = [s for s in spans.get_finished_spans() if s.name == "POST /v1/traces" and s.parent]
            assert (served.context.trace_id, served.parent.span_id) == (int("ab" * 16, 16), int("cd" * 8, 16))
            assert served.attributes["http.response.status_code"] == 200
            scraped = await http.get(f"http://127.0.0.1:{running.metrics_port}/metrics")
            for code in ("200", "503"):
                labels = (
                    f'http_request_method="POST",http_response_status_code="{code}",http_route="/v1/traces"'
                )
                assert f"http_server_request_duration_seconds_count{{{labels}}} 1.0" in scraped.text

            async def slowly():
                yield body[:10]
                await asyncio.sleep(0.5)  # the stop begins meanwhile
                yield body[10:]

            in_flight = asyncio.create_task(
                http.post(
                    url, content=slowly(), headers={**PROTOBUF, **PLATFORM, "content-length": str(len(body))}
                )
            )
            await asyncio.sleep(0.2)
            await running.stop()
            stopped = True
            assert (await in_flight).status_code == 200
            with pytest.raises(httpx.ConnectError):
                await http.post(url, content=body, headers={**PROTOBUF, **PLATFORM})
    finally:
        if not stopped:
            await running.stop()
