"""A revoked exporter credential (files-tracing B.6; DESIGN §3): Tracing keeps a resolved
credential for minutes, and drops it on Users' revocation event, as the Gateway does."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.tracing import export, span
from agyn_inprocess.users import agent_credential
from agyn_testkit.calls import metadata
from agyn_testkit.harness import wait_for_outcome
from agynio.api.ziti_management.v1 import ziti_management_pb2


@pytest.mark.fresh_platform  # stops Users
async def test_a_revoked_credential_is_refused_on_a_next_export(tracing, agents):
    # Far longer than the wait below: only the event can make the refusal come in time.
    assert tracing.service.runtime.settings.identity_resolution_cache_seconds >= 300
    platform = agents.platform
    owner = await platform.user("owner")
    agent = uuid.UUID((await agents.create(owner, await platform.create_org(owner))).meta.id)
    doomed = await agent_credential(platform.users, agent, uuid.uuid4())
    sibling = await agent_credential(platform.users, agent, uuid.uuid4())

    def exporting(credential: ziti_management_pb2.CreateAgentIdentityResponse):
        bearer = (("authorization", f"Bearer {credential.enrollment_jwt}"),)
        return lambda: tracing.otlp.Export(export([span(uuid.uuid4().bytes, 1)]), metadata=bearer)

    for credential in (doomed, sibling):
        await exporting(credential)()
    # Kept: Users need not answer for them.
    await platform.stop_users()
    for credential in (doomed, sibling):
        await exporting(credential)()
    await platform.start_users()
    await platform.users.issuer.DeleteIdentity(
        ziti_management_pb2.DeleteIdentityRequest(ziti_identity_id=doomed.ziti_identity_id),
        metadata=metadata(caller="agents-orchestrator"),
    )
    await wait_for_outcome(exporting(doomed), grpc.StatusCode.UNAUTHENTICATED, within=60)
    # The event names the workload: the agent's other workload still exports.
    await exporting(sibling)()
