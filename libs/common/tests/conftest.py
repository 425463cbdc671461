"""Fixtures: the probe service in-process, with its spans kept in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from agyn_common.server import RunningService, start_service
from agyn_common.settings import ServiceSettings
from agyn_testkit.harness import in_process_settings, wait_for_health
from agyn_testkit.probe import DEFINITION, MIGRATIONS, SERVICE
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

GATEWAY = (("x-agyn-caller", "gateway"),)


@dataclass
class Probe:
    running: RunningService[ServiceSettings]
    channel: grpc.aio.Channel
    provider: TracerProvider  # the service's; a test's own calls may record into it too
    spans: InMemorySpanExporter

    def method(
        self, name: str, request_type: Any = wrappers_pb2.StringValue
    ) -> grpc.aio.UnaryUnaryMultiCallable:
        return self.channel.unary_unary(
            f"/{SERVICE}/{name}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=request_type.FromString,
        )

    async def echo(self, value: str, metadata: Any = GATEWAY) -> str:
        reply = await self.method("Echo")(
            wrappers_pb2.StringValue(value=value), metadata=metadata, timeout=10
        )
        return str(reply.value)


@pytest.fixture
def probe_database(database_factory) -> str:
    return database_factory("probe", MIGRATIONS)


@pytest.fixture
async def probe(probe_database, nats) -> AsyncIterator[Probe]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    running = await start_service(
        DEFINITION, in_process_settings(ServiceSettings, probe_database, nats.url), tracer_provider=provider
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING)
        yield Probe(running=running, channel=channel, provider=provider, spans=spans)
    finally:
        await channel.close()
        await running.stop(1)
