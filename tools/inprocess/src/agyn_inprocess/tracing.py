"""Tracing in-process next to Users, Organizations, Agents and Threads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.server import RunningService, start_service
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agyn_tracing.__main__ import DEFINITION as TRACING
from agyn_tracing.settings import TracingSettings
from agynio.api.tracing.v1 import access_pb2_grpc, tracing_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from agyn_inprocess.agents import Agents
from agyn_inprocess.threads import Threads


@dataclass
class Tracing:
    service: RunningService[Any]
    stub: tracing_pb2_grpc.TracingServiceStub
    access: access_pb2_grpc.TraceAccessServiceStub
    otlp: trace_service_pb2_grpc.TraceServiceStub

    @property
    def address(self) -> str:
        return self.service.address


@asynccontextmanager
async def in_process_tracing(
    agents: Agents, threads: Threads, database_factory: DatabaseFactory, nats_url: str
) -> AsyncIterator[Tracing]:
    platform = agents.platform
    running = await start_service(
        TRACING,
        in_process_settings(
            TracingSettings,
            database_factory("tracing", TRACING.migrations),
            nats_url,
            users_address=platform.users.running.address,
            agents_address=agents.service.address,
            organizations_address=platform.organizations_service.address,
            threads_address=threads.service.address,
        ),
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Tracing(
            running,
            tracing_pb2_grpc.TracingServiceStub(channel),
            access_pb2_grpc.TraceAccessServiceStub(channel),
            trace_service_pb2_grpc.TraceServiceStub(channel),
        )
    finally:
        await channel.close()
        await running.stop(1)
