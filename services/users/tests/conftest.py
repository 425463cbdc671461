"""Fixtures: the users deployable running in-process against the session's PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from agyn_common.embedded import free_port
from agyn_common.server import start_service
from agyn_inprocess.users import UsersClient
from agyn_testkit.harness import in_process_settings
from agyn_users.__main__ import DEFINITION
from agyn_users.settings import UsersSettings
from agynio.api.identity.v1 import identity_pb2_grpc
from agynio.api.users.v1 import users_pb2_grpc


@pytest.fixture
async def users_service(database_factory, nats) -> AsyncIterator[UsersClient]:
    """Users alone: Organizations is down (nothing listens at its address)."""
    settings = in_process_settings(
        UsersSettings,
        database_factory("users", DEFINITION.migrations),
        nats.url,
        organizations_address=f"127.0.0.1:{free_port()}",
    )
    running = await start_service(DEFINITION, settings)
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield UsersClient(
            running=running,
            channel=channel,
            users=users_pb2_grpc.UsersServiceStub(channel),
            identity=identity_pb2_grpc.IdentityServiceStub(channel),
        )
    finally:
        await channel.close()
        await running.stop(1)
