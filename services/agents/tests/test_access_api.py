"""AgentAccessService: the agent relations other services check (sheet §4.1; DESIGN §3)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.agents import pb
from agyn_testkit.calls import expect_error, metadata
from agynio.api.agents.v1 import access_pb2, access_pb2_grpc

INVALID = grpc.StatusCode.INVALID_ARGUMENT
RELATIONS = ("can_initiate", "can_read_config", "can_edit_config", "can_manage_roles", "can_delete")
# caller → the relations it holds on an INTERNAL agent, and on the same agent once PRIVATE.
HELD = {
    "org_owner": ({*RELATIONS}, {*RELATIONS}),  # created the agent: its owner too
    "agent_owner": ({*RELATIONS}, {*RELATIONS}),
    "maintainer": (
        {"can_initiate", "can_read_config", "can_edit_config"},
        {"can_initiate", "can_read_config", "can_edit_config"},
    ),
    "participant": ({"can_initiate"}, {"can_initiate"}),
    "member": ({"can_initiate"}, set()),
    "outsider": (set(), set()),
}


@pytest.fixture
def access(agents) -> access_pb2_grpc.AgentAccessServiceStub:
    return access_pb2_grpc.AgentAccessServiceStub(grpc.aio.insecure_channel(agents.service.address))


async def held(access, identity: uuid.UUID | str, agent_id: str) -> set[str]:
    reply = await access.BatchCheckAgentRelations(
        access_pb2.BatchCheckAgentRelationsRequest(
            checks=[
                access_pb2.AgentRelationCheck(
                    identity_id=str(identity), agent_id=agent_id, relation=relation, correlation_id=relation
                )
                for relation in RELATIONS
            ]
        ),
        metadata=metadata(caller="threads"),
    )
    return {relation for relation, result in reply.results.items() if result.allowed}


async def test_each_kind_of_caller_holds_what_its_roles_and_organization_give(agents, cast, access):
    for name, (internal, _) in HELD.items():
        assert await held(access, getattr(cast, name), cast.agent.meta.id) == internal, name
    await agents.stub.UpdateAgent(
        pb.UpdateAgentRequest(id=cast.agent.meta.id, availability=pb.AGENT_AVAILABILITY_PRIVATE),
        metadata=metadata(cast.org_owner),
    )
    for name, (_, private) in HELD.items():
        assert await held(access, getattr(cast, name), cast.agent.meta.id) == private, name


async def test_one_check_and_an_unknown_agent(cast, access):
    def check(identity, agent_id, relation="can_initiate"):
        return access.CheckAgentRelation(
            access_pb2.CheckAgentRelationRequest(
                identity_id=str(identity), agent_id=agent_id, relation=relation
            ),
            metadata=metadata(caller="notifications"),
        )

    assert (await check(cast.participant, cast.agent.meta.id)).allowed
    assert not (await check(cast.participant, cast.agent.meta.id, "can_edit_config")).allowed
    assert not (await check(cast.org_owner, str(uuid.uuid4()))).allowed  # nothing on no agent
    await expect_error(check("x", cast.agent.meta.id), INVALID, "identity_id")
    await expect_error(check(cast.member, ""), INVALID, "agent_id")
    await expect_error(check(cast.member, cast.agent.meta.id, "owner"), INVALID, "relation", "can_initiate")


async def test_batch_limits_and_correlation_ids(cast, access):
    def batch(*checks):
        return access.BatchCheckAgentRelations(
            access_pb2.BatchCheckAgentRelationsRequest(checks=list(checks)),
            metadata=metadata(caller="threads"),
        )

    def item(correlation_id: str, **fields):
        values = {"identity_id": str(cast.member), "agent_id": cast.agent.meta.id, "relation": "can_initiate"}
        return access_pb2.AgentRelationCheck(correlation_id=correlation_id, **{**values, **fields})

    assert (await batch()).results == {}
    await expect_error(batch(*(item(str(n)) for n in range(101))), INVALID, "checks", "at most 100")
    await expect_error(batch(item("a"), item("a")), INVALID, "checks[1].correlation_id")
    await expect_error(batch(item("")), INVALID, "checks[0].correlation_id")
    await expect_error(batch(item("a"), item("b", agent_id="nope")), INVALID, "checks[1].agent_id")
    full = await batch(*(item(str(n)) for n in range(100)))
    assert len(full.results) == 100 and all(result.allowed for result in full.results.values())


async def test_only_the_checking_services_may_ask(cast, access):
    request = access_pb2.CheckAgentRelationRequest(
        identity_id=str(cast.member), agent_id=cast.agent.meta.id, relation="can_initiate"
    )
    for caller in ("gateway", "users", "agents-orchestrator", None):
        await expect_error(
            access.CheckAgentRelation(request, metadata=metadata(caller=caller)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
