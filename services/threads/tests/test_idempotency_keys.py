"""`idempotency-key` on the create-style RPCs that ignored it before the method tables
(CreateThread, SendMessage, CreateMembership): one parametrized contract."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from agyn_inprocess.threads import pb
from agyn_testkit.calls import metadata
from agynio.api.organizations.v1 import organizations_pb2


class Scene:
    """An organization with a thread, and one more member per request variant."""

    def __init__(self, threads: Any, owner: uuid.UUID, org: str, thread_id: str) -> None:
        self.threads, self.owner, self.org, self.thread_id = threads, owner, org, thread_id
        self._people: dict[int, uuid.UUID] = {}

    async def person(self, variant: int, *, member: bool) -> uuid.UUID:
        if variant not in self._people:
            self._people[variant] = await self.threads.platform.user(f"person{variant}")
            if member:
                await self.threads.platform.join(self.owner, self.org, self._people[variant])
        return self._people[variant]


# call(scene, variant, key) -> the id of what the call made
Call = Callable[[Scene, int, str | None], Awaitable[str]]


async def create_thread(scene: Scene, variant: int, key: str | None) -> str:
    threads, owner, org = scene.threads, scene.owner, scene.org
    participant = await scene.person(variant, member=True)
    extra = {"idempotency_key": key} if key else {}
    thread = await threads.create(owner, org, participant, **extra)
    return str(thread.id)


async def send_message(scene: Scene, variant: int, key: str | None) -> str:
    extra = {"idempotency_key": key} if key else {}
    reply = await scene.threads.stub.SendMessage(
        pb.SendMessageRequest(thread_id=scene.thread_id, body=f"hello {variant}"),
        metadata=metadata(scene.owner, **extra),
    )
    return str(reply.message.id)


async def create_membership(scene: Scene, variant: int, key: str | None) -> str:
    invited = await scene.person(variant, member=False)
    extra = {"idempotency_key": key} if key else {}
    reply = await scene.threads.platform.organizations.CreateMembership(
        organizations_pb2.CreateMembershipRequest(
            organization_id=scene.org, identity_id=str(invited), role=organizations_pb2.MEMBERSHIP_ROLE_MEMBER
        ),
        metadata=metadata(scene.owner, **extra),
    )
    return str(reply.membership.id)


@pytest.mark.parametrize("call", [create_thread, send_message, create_membership], ids=lambda c: c.__name__)
async def test_create_style_rpcs_honour_idempotency_keys(threads, call: Call):
    owner = await threads.platform.user("olga")
    org = await threads.platform.create_org(owner)
    fred = await threads.platform.user("fred")
    await threads.platform.join(owner, org, fred)
    scene = Scene(threads, owner, org, (await threads.create(owner, org, fred)).id)

    # The same request under the same key: the first response again, nothing new made.
    first = await call(scene, 1, "key-1")
    assert await call(scene, 1, "key-1") == first
    # Another key, or none, makes something new.
    assert await call(scene, 2, "key-2") not in (first, "")
    assert await call(scene, 3, None) not in (first, "")
    # The same key with a different request is refused.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(scene, 4, "key-1")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
