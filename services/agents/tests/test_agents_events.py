"""What Agents announces (sheet §5): agent.updated on the agent's room for every change of an
agent, domain events for other services' caches, nothing for refused calls."""

from __future__ import annotations

import grpc
from agyn_inprocess.agents import agent_request, pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2


async def test_every_change_of_an_agent_reaches_its_room_and_the_bus(agents, cast, nats):
    agent_id = cast.agent.meta.id
    await agents.stub.UpdateAgent(
        pb.UpdateAgentRequest(id=agent_id, description="new"), metadata=metadata(cast.maintainer)
    )
    await expect_error(  # refused: announces nothing
        agents.stub.UpdateAgent(pb.UpdateAgentRequest(id=agent_id, name="x"), metadata=metadata(cast.member)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await agents.stub.RemoveAgentRole(
        pb.RemoveAgentRoleRequest(agent_id=agent_id, identity_id=str(cast.participant)),
        metadata=metadata(cast.org_owner),
    )
    await agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(cast.org_owner))

    envelopes = await read_events(
        nats.url,
        f"agyn.rooms.agent.{agent_id}",
        lambda got: len(got) >= 3,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert len(envelopes) == 3  # created, updated, deleted; role changes are not configuration
    for envelope in envelopes:
        assert (envelope.event, envelope.source, list(envelope.rooms)) == (
            "agent.updated",
            "agents",
            [f"agent:{agent_id}"],
        )
        assert dict(envelope.payload) == {"agent_id": agent_id, "organization_id": cast.org}

    events = await read_events(
        nats.url,
        "agyn.events.agents.>",
        lambda got: "agents.agent.deleted" in {event["type"] for event in got if mine(event, agent_id)},
    )
    types = [event["type"] for event in events if mine(event, agent_id)]
    assert types == [
        "agents.agent.created",
        *["agents.agent_role.changed"] * 3,  # the cast's three roles
        "agents.agent.updated",
        "agents.agent_role.changed",  # the participant's removed
        "agents.agent.deleted",
    ]
    removed = [e["data"] for e in events if mine(e, agent_id) and e["type"] == "agents.agent_role.changed"][
        -1
    ]
    assert removed == {
        "agent_id": agent_id,
        "organization_id": cast.org,
        "identity_id": str(cast.participant),
        "role": "",
    }


def mine(event, agent_id: str) -> bool:
    return event["data"].get("agent_id") == agent_id


async def test_setting_the_same_role_again_announces_nothing(agents, cast, nats):
    agent_id = cast.agent.meta.id
    await agents.set_role(cast.org_owner, agent_id, cast.maintainer, pb.AGENT_ROLE_MAINTAINER)
    marker = await agents.stub.CreateAgent(
        agent_request(cast.org, name="Marker"), metadata=metadata(cast.org_owner)
    )
    events = await read_events(
        nats.url,
        "agyn.events.agents.>",
        lambda got: any(mine(event, marker.agent.meta.id) for event in got),
    )
    assert [e["type"] for e in events if mine(e, agent_id)].count("agents.agent_role.changed") == 3
