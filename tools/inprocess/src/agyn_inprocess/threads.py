"""Threads in-process next to Users and Organizations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.embedded import free_port
from agyn_common.server import RunningService, start_service
from agyn_testkit.calls import metadata
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agyn_threads.__main__ import DEFINITION as THREADS
from agyn_threads.settings import ThreadsSettings
from agynio.api.threads.v1 import access_pb2_grpc, threads_pb2, threads_pb2_grpc

from agyn_inprocess.organizations import Platform

pb = threads_pb2


@dataclass
class Threads:
    platform: Platform
    service: RunningService[Any]
    stub: threads_pb2_grpc.ThreadsServiceStub
    access: access_pb2_grpc.ThreadAccessServiceStub

    async def create(self, caller: uuid.UUID, org: str, *participants: uuid.UUID, **extra: str) -> pb.Thread:
        reply: pb.CreateThreadResponse = await self.stub.CreateThread(
            pb.CreateThreadRequest(
                organization_id=org,
                participants=[pb.ParticipantIdentifier(participant_id=str(p)) for p in participants],
            ),
            metadata=metadata(caller, **extra),
        )
        return reply.thread

    async def send(self, caller: uuid.UUID, thread_id: str, body: str = "hello") -> pb.Message:
        reply: pb.SendMessageResponse = await self.stub.SendMessage(
            pb.SendMessageRequest(thread_id=thread_id, body=body), metadata=metadata(caller)
        )
        return reply.message


@asynccontextmanager
async def in_process_threads(
    platform: Platform,
    database_factory: DatabaseFactory,
    nats_url: str,
    agents_address: str | None = None,
    files_address: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Threads]:
    """Threads; without `agents_address` Agents is away (agent participants are UNAVAILABLE),
    without `files_address` Files is (messages naming files are)."""
    running = await start_service(
        THREADS,
        in_process_settings(
            ThreadsSettings,
            database_factory("threads", THREADS.migrations),
            nats_url,
            organizations_address=platform.organizations_service.address,
            users_address=platform.users.running.address,
            agents_address=agents_address or f"127.0.0.1:{free_port()}",
            files_address=files_address or f"127.0.0.1:{free_port()}",
            **overrides,
        ),
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Threads(
            platform=platform,
            service=running,
            stub=threads_pb2_grpc.ThreadsServiceStub(channel),
            access=access_pb2_grpc.ThreadAccessServiceStub(channel),
        )
    finally:
        await channel.close()
        await running.stop(1)
