"""Trace rooms (files-tracing B.4, B.8-7, B.8-8): for members of the organization of the trace's
spans, which Notifications asks of Tracing; refused to others, for traces Tracing knows no
organization of, and when Tracing is not deployed; UNAVAILABLE while Tracing is away; a trace
id that is not 32 hexadecimal characters is INVALID_ARGUMENT."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
import pytest
from agyn_common.embedded import free_port
from agyn_inprocess.notifications import read
from agyn_inprocess.tracing import attr, export, span
from agyn_inprocess.users import agent_credential
from agyn_testkit.calls import expect_error
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2

DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass(frozen=True)
class Cast:
    org: str
    owner: uuid.UUID
    member: uuid.UUID
    outsider: uuid.UUID
    bearer: tuple[tuple[str, str], ...]  # an agent of the organization exports with it


@pytest.fixture
async def cast(agents) -> Cast:
    platform = agents.platform
    owner = await platform.user("owner")
    org = await platform.create_org(owner)
    member = await platform.user("member")
    await platform.join(owner, org, member)
    agent = await agents.create(owner, org)
    credential = await agent_credential(platform.users, uuid.UUID(agent.meta.id), uuid.uuid4())
    bearer = (("authorization", f"Bearer {credential.enrollment_jwt}"),)
    return Cast(org, owner, member, await platform.user("outsider"), bearer)


async def test_members_follow_a_trace_and_see_its_new_spans(notifications, tracing, cast, nats):
    trace_id = uuid.uuid4().bytes
    room = f"trace:{trace_id.hex()}"
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=cast.bearer)
    # The first span's envelope is out before anyone subscribes: the streams see only the second.
    await read_events(
        nats.url,
        f"agyn.rooms.trace.{trace_id.hex()}",
        lambda got: len(got) >= 1,
        settle=0,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    calls = [
        await notifications.open(cast.owner, [room]),
        await notifications.open(cast.member, [f"trace:{trace_id.hex().upper()}"]),  # the same room
    ]
    await expect_error(notifications.subscribe(cast.outsider, [room]).read(), DENIED, room)
    await tracing.otlp.Export(export([span(trace_id, 2)]), metadata=cast.bearer)
    span_id = (2).to_bytes(8, "big").hex()
    created = {"trace_id": trace_id.hex(), "span_id": span_id, "organization_id": cast.org}
    for call in calls:
        [response] = await read(call)
        envelope = response.envelope
        assert (envelope.event, dict(envelope.payload)) == ("span.created", created)
        assert list(envelope.rooms) == [room]
        call.cancel()


async def test_a_trace_without_an_organization_is_refused(notifications, tracing, cast):
    unknown = uuid.uuid4().bytes
    # Spans of a platform producer that asserted no organization: the trace exists, nobody's.
    orphan = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(orphan, 1)]), metadata=(("x-agyn-caller", "egress-gateway"),))
    # One that asserted something other than an organization id.
    foreign = uuid.uuid4().bytes
    await tracing.otlp.Export(
        export([span(foreign, 1)], attr("agyn.organization.id", "not-an-organization")),
        metadata=(("x-agyn-caller", "egress-gateway"),),
    )
    for trace_id in (unknown, orphan, foreign):
        room = f"trace:{trace_id.hex()}"
        await expect_error(notifications.subscribe(cast.owner, [room]).read(), DENIED, room)


@pytest.mark.parametrize(
    "identifier",
    ["abc", "g" * 32, "a" * 33, "a" * 31, str(uuid.UUID(int=1)), "me"],
    ids=["short", "not-hex", "33", "31", "uuid", "me"],
)
async def test_a_malformed_trace_id_names_the_room(notifications, identifier):
    call = notifications.subscribe(uuid.uuid4(), ["thread_participant:me", f"trace:{identifier}"])
    await expect_error(call.read(), grpc.StatusCode.INVALID_ARGUMENT, "rooms[1]", "32 hexadecimal")


async def test_tracing_away_is_unavailable_and_not_deployed_is_denied(
    notifications_with, agents, tracing, cast
):
    trace_id = uuid.uuid4().bytes
    await tracing.otlp.Export(export([span(trace_id, 1)]), metadata=cast.bearer)
    room = f"trace:{trace_id.hex()}"
    away = f"127.0.0.1:{free_port()}"
    async with notifications_with(agents_address=agents.service.address, tracing_address=away) as without:
        await expect_error(
            without.subscribe(cast.member, [room]).read(), grpc.StatusCode.UNAVAILABLE, "tracing"
        )
    async with notifications_with(agents_address=agents.service.address) as undeployed:
        await expect_error(undeployed.subscribe(cast.member, [room]).read(), DENIED, room)
