"""RunnersGateway through the Gateway to the real Runners service (runners sheet §2.1, §4;
DESIGN §3): calls carry the caller's identity, EnrollRunner is open to anonymous callers and
rate-limited per client, its `x-runner-address` reaches Runners and no other client header
does, and the credential it returns authenticates the runner at the Gateway."""

from __future__ import annotations

import base64
import uuid

import grpc
import sqlalchemy as sa
from agyn_common.db import Database
from agyn_inprocess.gateway import recording_backend
from agyn_testkit.calls import expect_error
from agynio.api.gateway.v1 import runners_pb2_grpc as runners_gateway
from agynio.api.runners.v1 import runners_pb2 as pb

RUNNERS_GATEWAY = "agynio.api.gateway.v1.RunnersGateway"
RUNNERS_SERVICE = "agynio.api.runners.v1.RunnersService"
ADDRESS = "x-runner-address"


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def call(gateway, method: str, body: dict[str, object], token: str | None = None, **headers: str):
    return await gateway.connect(method, body, token, service=RUNNERS_GATEWAY, **headers)


async def register(gateway, token: str, **body: object) -> dict[str, object]:
    reply = await call(gateway, "RegisterRunner", {"name": "edge", **body}, token)
    assert reply.status_code == 200, reply.text
    registered: dict[str, object] = reply.json()
    return registered


async def stored_address(runners, runner_id: str) -> str | None:
    """What Runners recorded of where the runner serves (its `address` column)."""
    database = Database(runners.service.runtime.settings.database_url)
    try:
        async with database.read() as connection:
            found: str | None = await connection.scalar(
                sa.text("SELECT address FROM runners WHERE id = :id"), {"id": uuid.UUID(runner_id)}
            )
            return found
    finally:
        await database.close()


async def test_calls_reach_runners_with_the_callers_identity(gateway):
    platform = gateway.platform
    owner, outsider = await platform.user(), await platform.user()
    org = await platform.create_org(owner)
    owner_token, outsider_token = await gateway.token_for(owner), await gateway.token_for(outsider)
    registered = await register(gateway, owner_token, organizationId=org, labels={"zone": "a"})
    runner = registered["runner"]
    assert isinstance(runner, dict) and runner["organizationId"] == org
    assert len(str(registered["serviceToken"])) == 64
    # A cluster-scoped runner is a cluster admin's to register, not an organization owner's.
    refused = await call(gateway, "RegisterRunner", {"name": "shared"}, owner_token)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    await register(gateway, await gateway.token_for(await platform.admin()))

    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = runners_gateway.RunnersGatewayStub(channel)
        got = await stub.GetRunner(pb.GetRunnerRequest(id=runner["meta"]["id"]), metadata=bearer(owner_token))
        listed = await stub.ListRunners(
            pb.ListRunnersRequest(organization_id=org), metadata=bearer(owner_token)
        )
        # The outsider's own identity reaches Runners, whatever identity headers it sends.
        spoofed = (*bearer(outsider_token), ("x-identity-id", str(owner)), ("x-identity-type", "user"))
        await expect_error(
            stub.GetRunner(pb.GetRunnerRequest(id=runner["meta"]["id"]), metadata=spoofed, timeout=10),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    assert (got.runner.name, got.runner.labels["zone"]) == ("edge", "a")
    assert runner["meta"]["id"] in [item.meta.id for item in listed.runners]


async def test_anonymous_enrollment_records_the_address_and_the_credential_is_the_runner(gateway, runners):
    owner = await gateway.platform.user()
    org = await gateway.platform.create_org(owner)
    registered = await register(gateway, await gateway.token_for(owner), organizationId=org)
    runner_id = registered["runner"]["meta"]["id"]  # type: ignore[index]
    reply = await call(
        gateway, "EnrollRunner", {"serviceToken": registered["serviceToken"]}, **{ADDRESS: "10.1.2.3:7070"}
    )
    assert reply.status_code == 200, reply.text
    enrolled = reply.json()
    credential = base64.b64decode(enrolled["identityJson"]).decode()
    assert credential.startswith("agynr_") and enrolled["serviceName"] == f"runner-{runner_id}"
    assert await stored_address(runners, runner_id) == "10.1.2.3:7070"
    me = await gateway.http.get(f"{gateway.url}/me", headers={"authorization": f"Bearer {credential}"})
    assert me.json() == {"identity_id": runner_id, "identity_type": "runner"}
    # Runners checks what the client said, as it came.
    bad = await call(
        gateway, "EnrollRunner", {"serviceToken": registered["serviceToken"]}, **{ADDRESS: "x y"}
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_argument")
    assert ADDRESS in bad.json()["message"]
    unknown = await call(gateway, "EnrollRunner", {"serviceToken": "0" * 64})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


async def test_only_the_enrollments_address_header_is_passed_on(gateway_with, platform):
    user = await platform.user()
    spoofed = {
        ADDRESS: "10.0.0.9:1",
        "x-identity-id": str(uuid.uuid4()),
        "x-agyn-caller": "agents-orchestrator",
    }
    async with (
        recording_backend(RUNNERS_SERVICE, ["EnrollRunner", "GetRunner"]) as (address, seen),
        gateway_with(runners_address=address) as gateway,
    ):
        token = await gateway.token_for(user)
        for method, bearer_token in (("EnrollRunner", None), ("GetRunner", token)):
            reply = await call(gateway, method, {}, bearer_token, **spoofed)
            assert reply.status_code == 200, reply.text
    forwarded = {
        method: {key: headers.get(key) for key in (ADDRESS, "x-identity-id")} for method, headers in seen
    }
    assert forwarded == {
        "EnrollRunner": {ADDRESS: "10.0.0.9:1", "x-identity-id": None},
        "GetRunner": {ADDRESS: None, "x-identity-id": str(user)},
    }
    assert all(headers.get("x-agyn-caller") != "agents-orchestrator" for _, headers in seen)


async def test_anonymous_enrollments_are_rate_limited_per_client(gateway_with, runners):
    settings = {"anonymous_burst": 2, "anonymous_rate_per_second": 0.01, "client_address_header": "x-client"}
    async with gateway_with(runners=runners, **settings) as gateway:

        async def enroll(client: str) -> str:
            reply = await call(gateway, "EnrollRunner", {"serviceToken": "0" * 64}, **{"x-client": client})
            code: str = reply.json()["code"]
            assert reply.status_code == (429 if code == "resource_exhausted" else 404), reply.text
            return code

        assert [await enroll("10.0.0.1") for _ in range(3)] == ["not_found"] * 2 + ["resource_exhausted"]
        assert await enroll("10.0.0.2") == "not_found"  # another client has its own budget
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            stub = runners_gateway.RunnersGatewayStub(channel)
            spent = stub.EnrollRunner(
                pb.EnrollRunnerRequest(service_token="0" * 64),
                metadata=(("x-client", "10.0.0.1"),),
                timeout=10,
            )
            await expect_error(spent, grpc.StatusCode.RESOURCE_EXHAUSTED)
