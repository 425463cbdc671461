"""The organization access client: what it caches, and what makes it forget.

Organizations is played by a small gRPC server that answers from a table the test sets and
counts the calls; the bus is the session's real NATS.
"""

from __future__ import annotations

import json
import uuid

import grpc
import nats as nats_client
import pytest
from agyn_common.bus import Bus
from agyn_common.cache import TtlCache
from agyn_common.embedded import free_port
from agyn_common.errors import ServiceError
from agyn_common.org_access import OrganizationAccess
from agyn_testkit.harness import wait_until
from agynio.api.organizations.v1 import access_pb2, access_pb2_grpc


class Answers(access_pb2_grpc.OrganizationAccessServiceServicer):
    """Allows exactly the (identity, organization, relation) triples in `allowed`."""

    def __init__(self) -> None:
        self.allowed: set[tuple[str, str, str]] = set()
        self.calls: list[str] = []

    async def CheckOrganizationRelation(self, request, context):
        self.calls.append("check")
        key = (request.identity_id, request.organization_id, request.relation)
        return access_pb2.CheckOrganizationRelationResponse(allowed=key in self.allowed)

    async def BatchCheckOrganizationRelations(self, request, context):
        self.calls.append("batch")
        reply = access_pb2.BatchCheckOrganizationRelationsResponse()
        for check in request.checks:
            key = (check.identity_id, check.organization_id, check.relation)
            reply.results[check.correlation_id].allowed = key in self.allowed
        return reply

    async def ListOrganizationsForRelation(self, request, context):
        self.calls.append("list")
        found = sorted(
            {
                org
                for identity, org, relation in self.allowed
                if (identity, relation) == (request.identity_id, request.relation)
            }
        )
        return access_pb2.ListOrganizationsForRelationResponse(organization_ids=found)


@pytest.fixture
async def answers():
    servicer = Answers()
    server = grpc.aio.server()
    access_pb2_grpc.add_OrganizationAccessServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    servicer.address = f"127.0.0.1:{port}"
    yield servicer
    await server.stop(0)


@pytest.fixture
async def client(answers, nats):
    channel = grpc.aio.insecure_channel(answers.address)
    access = OrganizationAccess(channel, ttl=300)
    bus = Bus(nats.url, name="org-access-test")
    access.attach(bus)
    bus.start()
    await bus.wait_ready(10)
    yield access
    await bus.close()
    await channel.close()


async def publish(nats_url: str, subject: str, data: dict) -> None:
    """An event as the outbox relay sends it (the session's stream keeps it: keep it well formed)."""
    event_type = subject.removeprefix("agyn.events.")
    envelope = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": "2026-01-01T00:00:00Z",
        "data": data,
    }
    connection = await nats_client.connect(nats_url)
    await connection.publish(subject, json.dumps(envelope).encode())
    await connection.flush()
    await connection.close()


IDENTITY, OTHER = uuid.uuid4(), uuid.uuid4()
ORG, OTHER_ORG = uuid.uuid4(), uuid.uuid4()


async def test_answers_are_cached_and_several_relations_cost_one_call(client, answers):
    answers.allowed = {(str(IDENTITY), str(ORG), "member")}
    assert await client.check(IDENTITY, "member", ORG)
    assert not await client.check(IDENTITY, "owner", ORG)
    assert await client.check(IDENTITY, "member", ORG)
    assert not await client.check(IDENTITY, "owner", ORG)
    assert answers.calls == ["check", "check"]  # negative answers are cached too

    answers.calls.clear()
    assert not await client.check_any(OTHER, ["member", "can_view_threads", "member"], ORG)
    assert answers.calls == ["batch"]
    assert await client.check_any(IDENTITY, ["owner", "member"], ORG)  # both cached: no call
    assert answers.calls == ["batch"]

    assert await client.organizations_for(IDENTITY, "member") == (ORG,)
    assert await client.organizations_for(IDENTITY, "member") == (ORG,)
    assert answers.calls == ["batch", "list"]

    with pytest.raises(ServiceError) as denied:
        await client.require(OTHER, "member", ORG)
    assert denied.value.code == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(ValueError, match="superuser"):
        await client.check(IDENTITY, "superuser", ORG)


async def test_change_events_drop_exactly_what_they_touch(client, answers, nats):
    answers.allowed = {
        (str(IDENTITY), str(ORG), "member"),
        (str(IDENTITY), str(OTHER_ORG), "member"),
        (str(OTHER), str(ORG), "member"),
    }
    for identity, org in [(IDENTITY, ORG), (IDENTITY, OTHER_ORG), (OTHER, ORG)]:
        assert await client.check(identity, "member", org)
    await client.organizations_for(OTHER, "member")
    answers.allowed = set()  # the truth changed; only events make the client notice

    async def cached(identity, org) -> bool:
        before = len(answers.calls)
        await client.check(identity, "member", org)
        return len(answers.calls) == before

    # One membership: that pair, and that identity's lists.
    await publish(
        nats.url,
        "agyn.events.organizations.membership.changed",
        {"organization_id": str(ORG), "identity_id": str(IDENTITY)},
    )
    await wait_until(lambda: not client._checks.get((IDENTITY, ORG, "member")), timeout=5)
    assert not await client.check(IDENTITY, "member", ORG)
    assert await cached(IDENTITY, OTHER_ORG) and await cached(OTHER, ORG)
    assert await client.organizations_for(OTHER, "member") == (ORG,)  # still cached

    # A whole organization: every identity's answers there, and every list.
    await publish(nats.url, "agyn.events.organizations.organization.deleted", {"organization_id": str(ORG)})
    await wait_until(lambda: client._checks.get((OTHER, ORG, "member")) is None, timeout=5)
    assert await cached(IDENTITY, OTHER_ORG)
    assert await client.organizations_for(OTHER, "member") == ()

    # A cluster role: everything about that identity.
    await publish(nats.url, "agyn.events.users.user.cluster_role_changed", {"identity_id": str(IDENTITY)})
    await wait_until(lambda: client._checks.get((IDENTITY, OTHER_ORG, "member")) is None, timeout=5)

    # An event it cannot make sense of: everything.
    assert await client.check(OTHER, "owner", OTHER_ORG) is False
    await publish(nats.url, "agyn.events.users.user.cluster_role_changed", {"identity_id": "not-a-uuid"})
    await wait_until(lambda: len(client._checks) == 0, timeout=5)


async def test_nothing_is_cached_while_the_bus_is_away_and_all_is_forgotten_after(client, answers, nats):
    answers.allowed = {(str(IDENTITY), str(ORG), "member")}
    assert await client.check(IDENTITY, "member", ORG)
    nats.stop()
    await wait_until(lambda: not client._checks.serving, timeout=5)
    # Forgotten as the connection drops, not only once it is back: the client says it is
    # connected again a round trip before it reports the gap.
    await wait_until(lambda: len(client._checks) == 0, timeout=5)
    calls = len(answers.calls)
    assert await client.check(IDENTITY, "member", ORG)
    assert await client.check(IDENTITY, "member", ORG)
    assert len(answers.calls) == calls + 2  # asked every time: changes could not be heard
    nats.start()
    await wait_until(lambda: client._checks.serving, timeout=15)
    assert len(client._checks) == 0  # what was cached before the outage is gone


async def test_an_unreachable_organizations_service_is_unavailable_naming_it():
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}")
    access = OrganizationAccess(channel)
    with pytest.raises(ServiceError) as failure:
        await access.check(IDENTITY, "member", ORG)
    assert failure.value.code == grpc.StatusCode.UNAVAILABLE
    assert "organizations" in failure.value.message
    assert failure.value.details[0].reason == "DEPENDENCY_UNAVAILABLE"
    await channel.close()


def test_ttl_cache_expires_bounds_and_refuses_answers_older_than_a_drop():
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl=5, max_entries=2, clock=lambda: now[0])
    cache.put("a", 1, cache.generation)
    now[0] = 4.9
    assert cache.get("a") == 1
    now[0] = 5.0
    assert cache.get("a") is None

    cache.put("a", 1, cache.generation)
    cache.put("b", 2, cache.generation)
    cache.get("a")  # "b" is now the least recently used
    cache.put("c", 3, cache.generation)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)

    asked_at = cache.generation
    cache.drop_where(lambda key: key == "c")
    cache.put("late", 9, asked_at)  # fetched before the drop: may be stale
    assert cache.get("late") is None
    assert cache.get("a") == 1
