"""Workload credentials at the Gateway (gateway-auth-mesh §3.2 step 1, §3.6; DESIGN §3):
`agynw_` and `agynr_` bearers resolved through the credential issuer Users serves, the
principal forwarded with `x-workload-id` for agents, and a revoked credential refused at once."""

from __future__ import annotations

import time
import uuid

from agyn_inprocess.gateway import recording_backend
from agyn_inprocess.users import agent_credential, runner_credential
from agyn_testkit.calls import metadata
from agynio.api.ziti_management.v1 import ziti_management_pb2 as pb

AGENTS_SERVICE = "agynio.api.agents.v1.AgentsService"
AGENTS_GATEWAY = "agynio.api.gateway.v1.AgentsGateway"
FORWARDED = ("x-identity-id", "x-identity-type", "x-workload-id")


async def me(gateway, credential: str):
    return await gateway.http.get(f"{gateway.url}/me", headers={"authorization": f"Bearer {credential}"})


async def refused_within(gateway, credential: str, seconds: float) -> None:
    """The credential stops authenticating within `seconds`: the time the revocation event
    takes to reach the Gateway, far below the cache's lifetime."""
    deadline = time.monotonic() + seconds
    while (reply := await me(gateway, credential)).status_code != 401:
        assert time.monotonic() < deadline, f"a revoked credential still works after {seconds} s"
    assert reply.json()["detail"] == "invalid workload credential"


async def test_an_agent_workload_credential_is_the_agent_with_its_workload(gateway_with, platform):
    agent, workload = uuid.uuid4(), uuid.uuid4()
    credential = (await agent_credential(platform.users, agent, workload)).enrollment_jwt
    user = await platform.user()
    async with (
        recording_backend(AGENTS_SERVICE, ["GetAgent"]) as (address, seen),
        gateway_with(agents_address=address) as gateway,
    ):
        assert (await me(gateway, credential)).json() == {"identity_id": str(agent), "identity_type": "agent"}
        spoofed = {"x-workload-id": str(uuid.uuid4()), "x-identity-type": "user"}
        for bearer in (credential, await gateway.token_for(user)):
            reply = await gateway.connect(
                "GetAgent", {"id": str(uuid.uuid4())}, bearer, service=AGENTS_GATEWAY, **spoofed
            )
            assert reply.status_code == 200, reply.text
    # What Agents would see: the workload with the agent's call, none with the user's.
    assert [{key: value for key, value in headers.items() if key in FORWARDED} for _, headers in seen] == [
        {"x-identity-id": str(agent), "x-identity-type": "agent", "x-workload-id": str(workload)},
        {"x-identity-id": str(user), "x-identity-type": "user"},
    ]


async def test_a_runner_credential_is_the_runner(gateway):
    runner = uuid.uuid4()
    first = (await runner_credential(gateway.platform.users, runner)).identity_json.decode()
    assert (await me(gateway, first)).json() == {"identity_id": str(runner), "identity_type": "runner"}
    # Enrolling again revokes the first credential, cached as it is.
    second = (await runner_credential(gateway.platform.users, runner)).identity_json.decode()
    await refused_within(gateway, first, 5)
    assert (await me(gateway, second)).json()["identity_type"] == "runner"
    await gateway.platform.users.issuer.DeleteRunnerIdentity(
        pb.DeleteRunnerIdentityRequest(identity_id=str(runner)), metadata=metadata(caller="runners")
    )
    await refused_within(gateway, second, 5)


async def test_a_deleted_workload_credential_is_refused_at_once(gateway):
    agent = uuid.uuid4()
    doomed = await agent_credential(gateway.platform.users, agent, uuid.uuid4())
    sibling = await agent_credential(gateway.platform.users, agent, uuid.uuid4())
    for created in (doomed, sibling):  # both resolved, so both cached (for up to 30 s)
        assert (await me(gateway, created.enrollment_jwt)).status_code == 200
    await gateway.platform.users.issuer.DeleteIdentity(
        pb.DeleteIdentityRequest(ziti_identity_id=doomed.ziti_identity_id),
        metadata=metadata(caller="agents-orchestrator"),
    )
    await refused_within(gateway, doomed.enrollment_jwt, 5)
    # The event names the workload: the agent's other workload keeps working.
    assert (await me(gateway, sibling.enrollment_jwt)).status_code == 200


async def test_unknown_workload_credentials_are_unauthenticated(gateway):
    for credential in ("agynw_" + "0" * 44, "agynr_" + "0" * 44):
        reply = await gateway.connect("GetMe", {}, credential)
        assert (reply.status_code, reply.json()["message"]) == (401, "invalid workload credential")
