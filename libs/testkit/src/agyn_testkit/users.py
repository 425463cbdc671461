"""Users clients and metadata: the callers every service suite speaks as."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from agyn_common.server import RunningService
from agyn_users.admins import set_cluster_admin
from agynio.api.identity.v1 import identity_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc


def metadata(
    identity: uuid.UUID | str | None = None,
    caller: str | None = "gateway",
    identity_type: str = "user",
    **extra: str,
) -> tuple[tuple[str, str], ...]:
    """Call metadata as the Gateway (or `caller`) would send it in local mode."""
    pairs: list[tuple[str, str]] = []
    if caller is not None:
        pairs.append(("x-agyn-caller", caller))
    if identity is not None:
        pairs.append(("x-identity-id", str(identity)))
        pairs.append(("x-identity-type", identity_type))
    pairs.extend((key.replace("_", "-"), value) for key, value in extra.items())
    return tuple(pairs)


@dataclass
class UsersClient:
    running: RunningService[Any]
    channel: grpc.aio.Channel
    users: users_pb2_grpc.UsersServiceStub
    identity: identity_pb2_grpc.IdentityServiceStub

    async def make_admin(self, identity_id: uuid.UUID | str) -> None:
        async with self.running.runtime.db.transaction() as connection:
            await set_cluster_admin(connection, uuid.UUID(str(identity_id)), True)


async def provision(client: UsersClient, subject: str | None = None, **fields: str) -> users_pb2.User:
    """A user as the Gateway's first-sign-in path creates it."""
    request = users_pb2.ResolveOrCreateUserRequest(oidc_subject=subject or f"sub-{uuid.uuid4()}", **fields)
    reply: users_pb2.ResolveOrCreateUserResponse = await client.users.ResolveOrCreateUser(
        request, metadata=metadata()
    )
    return reply.user


async def admin_user(client: UsersClient) -> uuid.UUID:
    user = await provision(client, name="Admin")
    await client.make_admin(user.meta.id)
    return uuid.UUID(user.meta.id)


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode, *fragments: str) -> grpc.aio.AioRpcError:
    """Await `call`, which must fail with `code` and a message containing every fragment."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() == code, failure.value.details()
    for fragment in fragments:
        assert fragment in (failure.value.details() or ""), failure.value.details()
    return failure.value


def sha256_hex(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()
