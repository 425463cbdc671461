"""AgentsGateway through the Gateway: the Agents service behind it, as clients reach it."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.agents import pb
from agynio.api.gateway.v1 import agents_pb2_grpc as agents_gateway_pb2_grpc

AGENTS_GATEWAY = "api/agynio.api.agents.v1.AgentsGateway"


async def test_list_agents_through_the_gateway(gateway, agents):
    platform = gateway.platform
    owner, stranger = await platform.user("olga"), await platform.user("otto")
    org = await platform.create_org(owner)
    first = await agents.create(owner, org, name="First")
    second = await agents.create(owner, org, name="Second")
    token = await gateway.token_for(owner)

    body = {"organizationId": org, "pageSize": 50}
    listed = await gateway.connect("ListAgents", body, token, service=AGENTS_GATEWAY)
    assert listed.status_code == 200, listed.text
    agents_json = listed.json()["agents"]
    assert [a["meta"]["id"] for a in agents_json] == [first.meta.id, second.meta.id]
    assert agents_json[0]["availability"] == "AGENT_AVAILABILITY_INTERNAL"
    assert agents_json[0]["model"] == first.model  # the organization owner reads the configuration

    paged = await gateway.connect(
        "ListAgents", {"organizationId": org, "pageSize": 1}, token, service=AGENTS_GATEWAY
    )
    assert [a["meta"]["id"] for a in paged.json()["agents"]] == [first.meta.id]
    assert paged.json()["nextPageToken"]

    # The other name of the service, the service's own errors, and no identity at all.
    same = await gateway.connect("ListAgents", body, token, service="agynio.api.gateway.v1.AgentsGateway")
    assert same.status_code == 200 and same.json() == listed.json()
    refused = await gateway.connect(
        "ListAgents", body, await gateway.token_for(stranger), service=AGENTS_GATEWAY
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert (await gateway.connect("ListAgents", body, service=AGENTS_GATEWAY)).status_code == 401
    internal = await gateway.connect(
        "ResolveAgentIdentity", {"identityId": first.meta.id}, token, service=AGENTS_GATEWAY
    )
    assert internal.status_code == 404  # not on the gateway


async def test_a_create_under_a_missing_parent_is_not_found(gateway, agents):
    """The chat app and the Console tell "the agent is gone" by NOT_FOUND; a missing volume
    an attachment names is not the parent, and stays FAILED_PRECONDITION."""
    platform = gateway.platform
    owner = await platform.user("olga")
    org = await platform.create_org(owner)
    agent = await agents.create(owner, org, name="Helper")
    token = await gateway.token_for(owner)
    missing = str(uuid.uuid4())
    for method, body in (
        ("CreateMcp", {"agentId": missing, "name": "files"}),
        ("CreateSkill", {"agentId": missing, "name": "review", "body": "b"}),
        ("CreateHook", {"agentId": missing, "event": "start"}),
        ("CreateEnv", {"mcpId": missing, "name": "HOME", "value": "/root"}),
        ("CreateInitScript", {"hookId": missing, "script": "echo hi"}),
        ("CreateImagePullSecretAttachment", {"agentId": missing, "imagePullSecretId": str(uuid.uuid4())}),
    ):
        reply = await gateway.connect(method, body, token, service=AGENTS_GATEWAY)
        assert (reply.status_code, reply.json()["code"]) == (404, "not_found"), (method, reply.text)
    volume = await gateway.connect(
        "CreateVolumeAttachment",
        {"agentId": agent.meta.id, "volumeId": missing},
        token,
        service=AGENTS_GATEWAY,
    )
    assert (volume.status_code, volume.json()["code"]) == (400, "failed_precondition")
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await agents_gateway_pb2_grpc.AgentsGatewayStub(channel).CreateMcp(
                pb.CreateMcpRequest(agent_id=missing, name="files"),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details() == "agent not found"
