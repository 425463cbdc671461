"""Notifications in-process next to Users and Organizations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.embedded import free_port
from agyn_common.server import RunningService, start_service
from agyn_notifications.__main__ import DEFINITION as NOTIFICATIONS
from agyn_notifications.settings import NotificationsSettings
from agyn_testkit.calls import metadata
from agyn_testkit.harness import in_process_settings
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from google.protobuf import struct_pb2

from agyn_inprocess.organizations import Platform

pb = notifications_pb2
READ_TIMEOUT = 5.0


def payload(**values: Any) -> struct_pb2.Struct:
    holder = struct_pb2.Struct()
    holder.update(values)
    return holder


def participant(identity: uuid.UUID | str) -> str:
    return f"thread_participant:{identity}"


@dataclass
class Notifications:
    platform: Platform
    service: RunningService[Any]
    stub: notifications_pb2_grpc.NotificationsServiceStub

    async def publish(
        self, rooms: Iterable[str], event: str = "message.created", caller: str = "threads", **values: Any
    ) -> pb.PublishResponse:
        reply: pb.PublishResponse = await self.stub.Publish(
            pb.PublishRequest(event=event, rooms=list(rooms), payload=payload(**values), source=caller),
            metadata=metadata(caller=caller),
        )
        return reply

    def subscribe(
        self,
        identity: uuid.UUID | None,
        rooms: Iterable[str],
        resume_after: str = "",
        caller: str = "gateway",
    ) -> Any:
        """The call, not yet confirmed live (see `open`)."""
        return self.stub.Subscribe(
            pb.SubscribeRequest(rooms=list(rooms), resume_after=resume_after),
            metadata=metadata(identity, caller=caller),
        )

    async def open(self, identity: uuid.UUID, rooms: Iterable[str], resume_after: str = "") -> Any:
        """A stream whose consumer is live: its headers have arrived."""
        call = self.subscribe(identity, rooms, resume_after)
        async with asyncio.timeout(READ_TIMEOUT):
            await call.initial_metadata()
        return call


async def read(call: Any, count: int = 1, timeout: float = READ_TIMEOUT) -> list[pb.SubscribeResponse]:
    responses = []
    async with asyncio.timeout(timeout):
        for _ in range(count):
            response = await call.read()
            assert response is not grpc.aio.EOF, "stream ended"
            responses.append(response)
    return responses


async def read_none(call: Any, within: float = 0.5) -> None:
    """Nothing arrives on `call` for `within` seconds."""
    try:
        async with asyncio.timeout(within):
            response = await call.read()
    except TimeoutError:
        return
    raise AssertionError(f"unexpected response {response}")


@asynccontextmanager
async def in_process_notifications(
    platform: Platform, nats_url: str, agents_address: str | None = None, **overrides: Any
) -> AsyncIterator[Notifications]:
    """Notifications; without `agents_address` Agents is away (agent rooms are UNAVAILABLE)."""
    running = await start_service(
        NOTIFICATIONS,
        in_process_settings(
            NotificationsSettings,
            "",
            nats_url,
            organizations_address=platform.organizations_service.address,
            agents_address=agents_address or f"127.0.0.1:{free_port()}",
            **overrides,
        ),
    )
    await running.runtime.bus.wait_ready(15)
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Notifications(platform, running, notifications_pb2_grpc.NotificationsServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
