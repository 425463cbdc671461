"""One request is one trace (DESIGN §6), seen from outside: the platform's processes export
their spans over OTLP to a receiver in this test, and a call made through the Gateway, with
everything it causes behind it, shares one trace id.

The receiver has to be reachable from every service, which only the local platform allows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from agyn_common.embedded import free_port
from agyn_testkit.harness import wait_until
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

pytestmark = pytest.mark.local_platform

SERVER = trace_pb2.Span.SPAN_KIND_SERVER
CONSUMER = trace_pb2.Span.SPAN_KIND_CONSUMER
SPANS_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    span: trace_pb2.Span

    @property
    def attributes(self) -> dict[str, str]:
        return {attribute.key: attribute.value.string_value for attribute in self.span.attributes}


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace endpoint that keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            service = next(
                attribute.value.string_value
                for attribute in resource_spans.resource.attributes
                if attribute.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(ReceivedSpan(service, span) for span in scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [received for received in self.spans if received.span.trace_id.hex() == trace_id]


@pytest.fixture
async def receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    # The services' environment is this process's: set before they are started.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # milliseconds
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)  # each service names itself
    try:
        yield receiver
    finally:
        await server.stop(None)


@dataclass
class Traced:
    receiver: Receiver
    platform: Any  # the local platform (conftest's LocalPlatform)
    addresses: dict[str, str]

    async def call(
        self, token: str, service: str, method: str, body: dict, traceparent: str | None = None
    ) -> dict:
        """A Connect JSON call through the Gateway, in the caller's trace when one is given."""
        headers = {"Authorization": f"Bearer {token}"}
        if traceparent is not None:
            headers["traceparent"] = traceparent
        async with httpx.AsyncClient(base_url=f"http://{self.platform.gateway}/api", timeout=10) as http:
            reply = await http.post(
                f"/agynio.api.{service}.v1.{service.capitalize()}Gateway/{method}", json=body, headers=headers
            )
        assert reply.status_code == 200, reply.text
        return reply.json()


@pytest.fixture
def traced(receiver: Receiver, request: pytest.FixtureRequest) -> Traced:
    # Asked for only now, so that the processes start with the receiver in their environment.
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in os.environ
    processes = request.getfixturevalue("processes")
    return Traced(receiver, request.getfixturevalue("platform"), processes.addresses)


def connected(spans: list[ReceivedSpan]) -> bool:
    """One tree under the test's own span: each span's parent is in it, or is the test's."""
    ids = {received.span.span_id for received in spans}
    roots = [received for received in spans if received.span.parent_span_id not in ids]
    return len(roots) == 1 and roots[0].service == "gateway"


def new_traceparent() -> tuple[str, str, str]:
    """(traceparent, trace id, span id) of a sampled span of the test's own."""
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


async def owner_and_member(traced: Traced) -> tuple[str, str, str]:
    """An organization, made through the Gateway, of two users: (owner's token, member, org)."""
    (_, owner_token), (member, member_token) = [await traced.platform.user(name) for name in ("olga", "fred")]
    org = (await traced.call(owner_token, "organizations", "CreateOrganization", {"name": "Acme"}))[
        "organization"
    ]["id"]
    invitation = await traced.call(
        owner_token,
        "organizations",
        "CreateMembership",
        {"organizationId": org, "identityId": member, "role": "MEMBERSHIP_ROLE_MEMBER"},
    )
    await traced.call(
        member_token, "organizations", "AcceptMembership", {"membershipId": invitation["membership"]["id"]}
    )
    return owner_token, member, org


async def test_a_create_thread_through_the_gateway_is_one_trace_across_the_services(traced):
    owner_token, friend, org = await owner_and_member(traced)

    traceparent, trace_id, client_span_id = new_traceparent()
    await traced.call(
        owner_token,
        "threads",
        "CreateThread",
        {"organizationId": org, "participants": [{"participantId": friend}]},
        traceparent,
    )

    def complete() -> bool:
        spans = traced.receiver.trace(trace_id)
        return {"gateway", "threads", "organizations"} <= {r.service for r in spans} and connected(spans)

    # Each process exports on its own schedule: wait until the whole tree is in.
    await wait_until(complete, timeout=SPANS_TIMEOUT_SECONDS)
    spans = traced.receiver.trace(trace_id)
    (gateway,) = [r.span for r in spans if r.service == "gateway" and r.span.kind == SERVER]
    assert gateway.parent_span_id.hex() == client_span_id  # the Gateway continued the client's trace
    served = {(r.service, r.span.name) for r in spans if r.span.kind == SERVER}
    assert ("threads", "agynio.api.threads.v1.ThreadsService/CreateThread") in served
    assert any(service == "organizations" for service, _ in served)


async def test_the_delivery_of_a_messages_envelope_is_in_the_trace_of_its_send_message(traced):
    owner_token, friend, org = await owner_and_member(traced)
    thread_id = (
        await traced.call(
            owner_token,
            "threads",
            "CreateThread",
            {"organizationId": org, "participants": [{"participantId": friend}]},
        )
    )["thread"]["id"]

    async with grpc.aio.insecure_channel(traced.addresses["notifications"]) as channel:
        # The friend's stream, straight on Notifications: its headers say it is live.
        stream = notifications_pb2_grpc.NotificationsServiceStub(channel).Subscribe(
            notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"]),
            metadata=(("x-agyn-caller", "gateway"), ("x-identity-id", friend), ("x-identity-type", "user")),
        )
        await stream.initial_metadata()
        traceparent, trace_id, _ = new_traceparent()
        await traced.call(
            owner_token, "threads", "SendMessage", {"threadId": thread_id, "body": "hi"}, traceparent
        )
        async with asyncio.timeout(10):
            envelope = (await stream.read()).envelope
        stream.cancel()

    def delivery() -> list[ReceivedSpan]:
        spans = traced.receiver.trace(trace_id)
        if not connected(spans):  # the spans under SendMessage are not all in yet
            return []
        return [
            received
            for received in spans
            if received.service == "notifications"
            and received.span.kind == CONSUMER
            and received.attributes.get("messaging.message.id") == envelope.id
        ]

    await wait_until(lambda: bool(delivery()), timeout=SPANS_TIMEOUT_SECONDS)
    (delivered,) = delivery()
    assert len(delivered.span.links) == 1  # linked to the Subscribe it went to
