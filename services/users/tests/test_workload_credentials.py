"""The credential issuer (ZitiManagementService shapes, DESIGN §3): agent workload and runner
credentials, issued, resolved and revoked, hashed at rest, callable only by their callers."""

from __future__ import annotations

import asyncio
import re
import uuid

import grpc
import pytest
import sqlalchemy as sa
from agyn_inprocess.users import agent_credential, runner_credential, sha256_hex
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agyn_users.models import workload_credentials
from agynio.api.identity.v1 import identity_pb2
from agynio.api.ziti_management.v1 import ziti_management_pb2 as pb

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
AGENT_FORMAT = re.compile(r"^agynw_[0-9A-Za-z]{44}$")
RUNNER_FORMAT = re.compile(r"^agynr_[0-9A-Za-z]{44}$")
ORCHESTRATOR = metadata(caller="agents-orchestrator")
RUNNERS = metadata(caller="runners")
GATEWAY = metadata(caller="gateway")
REVOKED = "agyn.events.users.workload_credential.revoked"


async def resolve(users_service, credential_hash: str, caller: str = "gateway") -> pb.ResolveIdentityResponse:
    reply: pb.ResolveIdentityResponse = await users_service.issuer.ResolveIdentity(
        pb.ResolveIdentityRequest(ziti_identity_id=credential_hash), metadata=metadata(caller=caller)
    )
    return reply


async def revocations(nats_url: str, identity_id: str, count: int) -> list[dict]:
    def mine(events: list[dict]) -> list[dict]:
        return [event for event in events if event["data"].get("identity_id") == identity_id]

    return mine(await read_events(nats_url, REVOKED, lambda got: len(mine(got)) >= count))


async def test_agent_workload_credential_is_issued_resolved_and_revoked(users_service, nats):
    agent, workload = uuid.uuid4(), uuid.uuid4()
    created = await agent_credential(users_service, agent, workload)
    assert AGENT_FORMAT.match(created.enrollment_jwt)
    assert created.ziti_identity_id == sha256_hex(created.enrollment_jwt)

    for caller in ("gateway", "tracing"):
        resolved = await resolve(users_service, created.ziti_identity_id, caller)
        assert (resolved.identity_id, resolved.identity_type, resolved.workload_id) == (
            str(agent),
            identity_pb2.IDENTITY_TYPE_AGENT,
            str(workload),
        )
    # Another workload of the same agent has a credential of its own, revoked separately.
    other = await agent_credential(users_service, agent, uuid.uuid4())
    assert other.enrollment_jwt != created.enrollment_jwt

    await users_service.issuer.DeleteIdentity(
        pb.DeleteIdentityRequest(ziti_identity_id=created.ziti_identity_id), metadata=ORCHESTRATOR
    )
    await expect_error(resolve(users_service, created.ziti_identity_id), NOT_FOUND, "identity not found")
    assert (await resolve(users_service, other.ziti_identity_id)).identity_id == str(agent)
    await expect_error(
        users_service.issuer.DeleteIdentity(
            pb.DeleteIdentityRequest(ziti_identity_id=created.ziti_identity_id), metadata=ORCHESTRATOR
        ),
        NOT_FOUND,
    )
    (event,) = await revocations(nats.url, str(agent), 1)
    # Enough for a cache to drop the workload's credential, and no hash of it.
    assert event["data"] == {
        "identity_id": str(agent),
        "identity_type": "agent",
        "workload_id": str(workload),
    }


async def test_a_runner_holds_one_credential_at_a_time(users_service, nats):
    runner = uuid.uuid4()
    first = await runner_credential(users_service, runner)
    credential = first.identity_json.decode()
    assert RUNNER_FORMAT.match(credential)
    assert first.ziti_identity_id == sha256_hex(credential)
    resolved = await resolve(users_service, first.ziti_identity_id)
    assert (resolved.identity_id, resolved.identity_type) == (str(runner), identity_pb2.IDENTITY_TYPE_RUNNER)
    assert not resolved.HasField("workload_id")

    # Enrolling again revokes the earlier credential.
    second = await runner_credential(users_service, runner)
    assert second.identity_json != first.identity_json
    await expect_error(resolve(users_service, first.ziti_identity_id), NOT_FOUND)
    assert (await resolve(users_service, second.ziti_identity_id)).identity_id == str(runner)

    await users_service.issuer.DeleteRunnerIdentity(
        pb.DeleteRunnerIdentityRequest(identity_id=str(runner), ziti_service_id="ignored"), metadata=RUNNERS
    )
    await expect_error(resolve(users_service, second.ziti_identity_id), NOT_FOUND)
    await expect_error(
        users_service.issuer.DeleteRunnerIdentity(
            pb.DeleteRunnerIdentityRequest(identity_id=str(runner)), metadata=RUNNERS
        ),
        NOT_FOUND,
        "runner identity not found",
    )
    events = await revocations(nats.url, str(runner), 2)
    assert [event["data"] for event in events] == [
        {"identity_id": str(runner), "identity_type": "runner"}
    ] * 2


async def test_enrollments_at_once_leave_one_runner_credential(users_service):
    runner = uuid.uuid4()
    issued = await asyncio.gather(*(runner_credential(users_service, runner) for _ in range(5)))
    async with users_service.running.runtime.db.transaction() as connection:
        held = await connection.scalars(
            sa.select(workload_credentials.c.credential_hash).where(
                workload_credentials.c.identity_id == runner
            )
        )
        (kept,) = held.all()
    assert kept in {reply.ziti_identity_id for reply in issued}
    assert (await resolve(users_service, kept)).identity_id == str(runner)


async def test_only_hashes_are_stored(users_service):
    agent = await agent_credential(users_service, uuid.uuid4(), uuid.uuid4())
    runner = await runner_credential(users_service, uuid.uuid4())
    credentials = {
        agent.enrollment_jwt: agent.ziti_identity_id,
        runner.identity_json.decode(): runner.ziti_identity_id,
    }
    async with users_service.running.runtime.db.transaction() as connection:
        rows = (await connection.execute(sa.select(workload_credentials))).all()
        # Without an idempotency key no response is kept either.
        kept = (await connection.scalars(sa.text("SELECT response FROM idempotency_keys"))).all()
    stored = {row.credential_hash: row for row in rows}
    for credential, credential_hash in credentials.items():
        assert credential_hash in stored
        assert all(credential not in str(value) for value in stored[credential_hash])
    assert not [response for response in kept if response and agent.enrollment_jwt.encode() in response]


async def test_a_keyed_retry_gets_the_same_credential(users_service):
    request = pb.CreateAgentIdentityRequest(agent_id=str(uuid.uuid4()), workload_id=str(uuid.uuid4()))
    keyed = metadata(caller="agents-orchestrator", idempotency_key="start-1")
    first = await users_service.issuer.CreateAgentIdentity(request, metadata=keyed)
    again = await users_service.issuer.CreateAgentIdentity(request, metadata=keyed)
    assert again == first


async def test_requests_are_validated(users_service):
    good = str(uuid.uuid4())
    issuer = users_service.issuer
    failures = [
        (
            issuer.CreateAgentIdentity(
                pb.CreateAgentIdentityRequest(workload_id=good), metadata=ORCHESTRATOR
            ),
            "agent_id",
        ),
        (
            issuer.CreateAgentIdentity(
                pb.CreateAgentIdentityRequest(agent_id="nope", workload_id=good), metadata=ORCHESTRATOR
            ),
            "agent_id",
        ),
        (
            issuer.CreateAgentIdentity(pb.CreateAgentIdentityRequest(agent_id=good), metadata=ORCHESTRATOR),
            "workload_id",
        ),
        (issuer.DeleteIdentity(pb.DeleteIdentityRequest(), metadata=ORCHESTRATOR), "ziti_identity_id"),
        (
            issuer.DeleteIdentity(
                pb.DeleteIdentityRequest(ziti_identity_id="agynw_secret"), metadata=ORCHESTRATOR
            ),
            "ziti_identity_id",
        ),
        (
            issuer.CreateRunnerIdentity(
                pb.CreateRunnerIdentityRequest(role_attributes=["runners"]), metadata=RUNNERS
            ),
            "runner_id",
        ),
        (
            issuer.CreateRunnerIdentity(pb.CreateRunnerIdentityRequest(runner_id=good), metadata=RUNNERS),
            "role_attributes",
        ),
        (
            issuer.DeleteRunnerIdentity(pb.DeleteRunnerIdentityRequest(identity_id="1"), metadata=RUNNERS),
            "identity_id",
        ),
        (issuer.ResolveIdentity(pb.ResolveIdentityRequest(), metadata=GATEWAY), "ziti_identity_id"),
        (
            issuer.ResolveIdentity(pb.ResolveIdentityRequest(ziti_identity_id="A" * 64), metadata=GATEWAY),
            "ziti_identity_id",
        ),
    ]
    for call, field in failures:
        error = await expect_error(call, INVALID, field)
        assert field in error.details()
    unknown = sha256_hex("agynw_" + "0" * 44)
    await expect_error(resolve(users_service, unknown), NOT_FOUND)
    await expect_error(
        issuer.DeleteIdentity(pb.DeleteIdentityRequest(ziti_identity_id=unknown), metadata=ORCHESTRATOR),
        NOT_FOUND,
    )


@pytest.mark.parametrize(
    ("method", "request_message", "caller"),
    [
        ("CreateAgentIdentity", pb.CreateAgentIdentityRequest(), "runners"),
        ("CreateAgentIdentity", pb.CreateAgentIdentityRequest(), "gateway"),
        ("DeleteIdentity", pb.DeleteIdentityRequest(), "runners"),
        ("CreateRunnerIdentity", pb.CreateRunnerIdentityRequest(), "agents-orchestrator"),
        ("CreateRunnerIdentity", pb.CreateRunnerIdentityRequest(), "gateway"),
        ("DeleteRunnerIdentity", pb.DeleteRunnerIdentityRequest(), "agents-orchestrator"),
        ("ResolveIdentity", pb.ResolveIdentityRequest(), "agents-orchestrator"),
        ("ResolveIdentity", pb.ResolveIdentityRequest(), "runners"),
    ],
)
async def test_only_the_declared_workloads_may_call(users_service, method, request_message, caller):
    # Denied before the request is looked at: an empty one would otherwise be INVALID_ARGUMENT.
    call = getattr(users_service.issuer, method)(request_message, metadata=metadata(caller=caller))
    await expect_error(call, DENIED, caller)
