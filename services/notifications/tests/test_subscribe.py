"""Subscribe: identity, validation and room authorization."""

from __future__ import annotations

import uuid

import grpc
from agyn_inprocess.agents import Agents
from agyn_inprocess.agents import pb as agents_pb
from agyn_inprocess.notifications import Notifications, participant, read, read_none
from agyn_testkit.calls import expect_error, metadata

BAD = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED


async def test_subscribe_needs_an_identity(notifications: Notifications) -> None:
    call = notifications.subscribe(None, ["thread_participant:me"])
    await expect_error(call.read(), grpc.StatusCode.UNAUTHENTICATED)


async def test_only_the_gateway_and_the_orchestrator_subscribe(notifications: Notifications) -> None:
    for caller in ("threads", "users", None):
        call = notifications.subscribe(uuid.uuid4(), ["thread_participant:me"], caller=caller)
        await expect_error(call.read(), DENIED)


async def test_the_orchestrator_subscribes_for_an_identity(notifications: Notifications) -> None:
    identity = uuid.uuid4()
    call = notifications.subscribe(identity, ["thread_participant:me"], caller="agents-orchestrator")
    await call.initial_metadata()
    await notifications.publish([participant(identity)])
    assert len(await read(call)) == 1
    call.cancel()


BAD_REQUESTS = [
    ([], "", ("rooms: rooms required",)),
    (["egress_rules"] * 257, "", ("rooms: at most 256 rooms",)),
    (["thread_participant:me", "  "], "", ("rooms[1]: ", "room is empty")),
    (["agent:me"], "", ("rooms[0]: ", "UUID")),  # `me` only stands for the caller where allowed
    (["thread_participant:me", "x" * 5000], "", ("rooms[1]: ", "longer than")),
    (["thread_participant:me"], "not a cursor", ("resume_after: ",)),
    (["thread_participant:me"], "AAAA", ("resume_after: ",)),
]


async def test_subscribe_rejects_bad_input_naming_the_field(notifications: Notifications) -> None:
    for rooms, resume_after, fragments in BAD_REQUESTS:
        call = notifications.subscribe(uuid.uuid4(), rooms, resume_after)
        await expect_error(call.read(), BAD, *fragments)


DENIED_ROOMS = [
    participant(uuid.uuid4()),  # somebody else's
    f"workload:{uuid.uuid4()}",  # no such record in Runners
    f"volume:{uuid.uuid4()}",
    f"agent:{uuid.uuid4()}",  # no such agent
    "trace:" + "ab" * 16,
    "egress_rules",
    "custom:thing",
]


async def test_rooms_of_others_and_unknown_kinds_are_denied(notifications: Notifications) -> None:
    for room in DENIED_ROOMS:
        call = notifications.subscribe(uuid.uuid4(), ["thread_participant:me", room])
        await expect_error(call.read(), DENIED, room)


async def test_me_is_the_caller_and_own_room_spelled_out_is_the_same(notifications: Notifications) -> None:
    identity = uuid.uuid4()
    by_me = await notifications.open(identity, [" thread_participant:me "])
    spelled = await notifications.open(identity, [f"thread_participant:{str(identity).upper()}"])
    reply = await notifications.publish([participant(identity)])
    for call in (by_me, spelled):
        [response] = await read(call)
        assert response.envelope.id == reply.id
        assert list(response.envelope.rooms) == [participant(identity)]
        call.cancel()


async def test_organization_rooms_are_for_members(notifications: Notifications) -> None:
    platform = notifications.platform
    owner, member, outsider = await platform.user(), await platform.user(), await platform.user()
    org = await platform.create_org(owner)
    await platform.join(owner, org, member)
    room = f"organization:{org}"
    calls = [await notifications.open(identity, [room]) for identity in (owner, member)]
    await expect_error(notifications.subscribe(outsider, [room]).read(), DENIED, room)
    reply = await notifications.publish([room], caller="agents")
    for call in calls:
        [response] = await read(call)
        assert response.envelope.id == reply.id
        await read_none(call, 0.2)
        call.cancel()


async def test_agent_rooms_are_for_members_of_the_agents_organization(
    notifications: Notifications, agents: Agents, notifications_with
) -> None:
    platform = notifications.platform
    owner, member, outsider = await platform.user(), await platform.user(), await platform.user()
    org = await platform.create_org(owner)
    await platform.join(owner, org, member)
    # Availability and roles do not matter: seeing that the agent changed is for members.
    agent = await agents.create(owner, org, availability=agents_pb.AGENT_AVAILABILITY_PRIVATE)
    room = f"agent:{agent.meta.id}"
    calls = [await notifications.open(identity, [room]) for identity in (owner, member)]
    await expect_error(notifications.subscribe(outsider, [room]).read(), DENIED, room)

    await agents.stub.UpdateAgent(
        agents_pb.UpdateAgentRequest(id=agent.meta.id, description="reads diffs"), metadata=metadata(owner)
    )
    for call in calls:
        [response] = await read(call)
        assert (response.envelope.event, list(response.envelope.rooms)) == ("agent.updated", [room])
        assert response.envelope.payload["agent_id"] == agent.meta.id
        call.cancel()

    async with notifications_with() as without_agents:  # Agents away: retry later, not "denied"
        refused = without_agents.subscribe(member, [room])
        await expect_error(refused.read(), grpc.StatusCode.UNAVAILABLE, "agents")
