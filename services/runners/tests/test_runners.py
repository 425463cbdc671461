"""Runners: registration, reads, updates, deletion, tokens and enrollment (sheet §3.1)."""

from __future__ import annotations

import uuid
from hashlib import sha256

import grpc
import pytest
from agyn_inprocess.runners import ORCHESTRATOR
from agyn_testkit.calls import expect_error, metadata
from agynio.api.identity.v1 import identity_pb2
from agynio.api.runners.v1 import runners_pb2 as pb
from agynio.api.ziti_management.v1 import ziti_management_pb2

NOT_A_UUID = "nope"


async def test_registration_returns_the_token_once_and_reads_never(runners, cast):
    assert len(cast.token) == 64 and cast.runner.status == pb.RUNNER_STATUS_PENDING
    assert (cast.runner.organization_id, dict(cast.runner.labels), list(cast.runner.capabilities)) == (
        cast.org,
        {"zone": "a"},
        ["gpu"],
    )
    assert cast.runner.identity_id == cast.runner.meta.id
    assert cast.runner.openziti_service_name == f"runner-{cast.runner.meta.id}"
    got = await runners.stub.GetRunner(
        pb.GetRunnerRequest(id=cast.runner.meta.id), metadata=metadata(cast.member)
    )
    assert got.runner == cast.runner
    validated = await runners.stub.ValidateServiceToken(
        pb.ValidateServiceTokenRequest(token_hash=cast.token), metadata=ORCHESTRATOR
    )
    assert validated.runner.meta.id == cast.runner.meta.id


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x", "organization_id": NOT_A_UUID}, "organization_id"),
        ({"name": "x", "organization_id": ""}, "organization_id"),
        ({"name": "x" * 300}, "name"),
    ],
)
async def test_registration_refuses_bad_input_naming_the_field(runners, cast, request_fields, field):
    error = await expect_error(
        runners.stub.RegisterRunner(
            pb.RegisterRunnerRequest(**request_fields), metadata=metadata(cast.owner)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert field in (error.details() or "")


@pytest.mark.parametrize(
    ("who", "scoped", "code"),
    [
        ("member", True, grpc.StatusCode.PERMISSION_DENIED),  # org runners: owners only
        ("owner", False, grpc.StatusCode.PERMISSION_DENIED),  # cluster runners: admins only
        (None, True, grpc.StatusCode.UNAUTHENTICATED),
    ],
)
async def test_who_may_register(runners, cast, who, scoped, code):
    request = pb.RegisterRunnerRequest(name="x", organization_id=cast.org if scoped else None)
    await expect_error(
        runners.stub.RegisterRunner(request, metadata=metadata(getattr(cast, who) if who else None)), code
    )


async def test_a_cluster_admin_manages_cluster_runners(runners, agents, cast):
    admin = await agents.platform.admin()
    reply = await runners.stub.RegisterRunner(
        pb.RegisterRunnerRequest(name="shared"), metadata=metadata(admin)
    )
    assert not reply.runner.HasField("organization_id")
    updated = await runners.stub.UpdateRunner(
        pb.UpdateRunnerRequest(id=reply.runner.meta.id, name="renamed"), metadata=metadata(admin)
    )
    assert updated.runner.name == "renamed" and dict(updated.runner.labels) == {}
    # Visible to any authenticated caller, managed by admins only.
    await runners.stub.GetRunner(
        pb.GetRunnerRequest(id=reply.runner.meta.id), metadata=metadata(cast.outsider)
    )
    await expect_error(
        runners.stub.DeleteRunner(
            pb.DeleteRunnerRequest(id=reply.runner.meta.id), metadata=metadata(cast.owner)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await runners.stub.DeleteRunner(pb.DeleteRunnerRequest(id=reply.runner.meta.id), metadata=metadata(admin))


async def test_update_keeps_what_is_not_sent_and_delete_removes(runners, cast):
    runner_id = cast.runner.meta.id
    reply = await runners.stub.UpdateRunner(
        pb.UpdateRunnerRequest(id=runner_id, labels={"zone": "b"}), metadata=metadata(cast.owner)
    )
    assert (reply.runner.name, dict(reply.runner.labels), list(reply.runner.capabilities)) == (
        "edge",
        {"zone": "b"},
        ["gpu"],
    )
    await expect_error(
        runners.stub.UpdateRunner(
            pb.UpdateRunnerRequest(id=runner_id, name=" "), metadata=metadata(cast.owner)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    await expect_error(
        runners.stub.UpdateRunner(
            pb.UpdateRunnerRequest(id=runner_id, name="x"), metadata=metadata(cast.member)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await runners.stub.DeleteRunner(pb.DeleteRunnerRequest(id=runner_id), metadata=metadata(cast.owner))
    for call in (
        runners.stub.GetRunner(pb.GetRunnerRequest(id=runner_id), metadata=ORCHESTRATOR),
        runners.stub.DeleteRunner(pb.DeleteRunnerRequest(id=runner_id), metadata=metadata(cast.owner)),
        runners.stub.ValidateServiceToken(
            pb.ValidateServiceTokenRequest(token_hash=cast.token), metadata=ORCHESTRATOR
        ),
    ):
        await expect_error(call, grpc.StatusCode.NOT_FOUND)


async def test_outsiders_do_not_see_an_organizations_runner(runners, cast):
    await expect_error(
        runners.stub.GetRunner(pb.GetRunnerRequest(id=cast.runner.meta.id), metadata=metadata(cast.outsider)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        runners.stub.ListRunners(
            pb.ListRunnersRequest(organization_id=cast.org), metadata=metadata(cast.outsider)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    listed = await runners.stub.ListRunners(
        pb.ListRunnersRequest(page_size=100), metadata=metadata(cast.outsider)
    )
    assert cast.runner.meta.id not in {runner.meta.id for runner in listed.runners}


async def test_list_runners_pages_through_an_organization(runners, cast):
    for index in range(3):
        await runners.stub.RegisterRunner(
            pb.RegisterRunnerRequest(name=f"r{index}", organization_id=cast.org),
            metadata=metadata(cast.owner),
        )
    seen, token = [], ""
    while True:
        page = await runners.stub.ListRunners(
            pb.ListRunnersRequest(organization_id=cast.org, page_size=2, page_token=token),
            metadata=metadata(cast.member),
        )
        seen += [runner.meta.id for runner in page.runners if runner.organization_id == cast.org]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 4 and seen == sorted(seen)
    await expect_error(
        runners.stub.ListRunners(pb.ListRunnersRequest(page_token="!!"), metadata=ORCHESTRATOR),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


@pytest.mark.parametrize(
    ("token", "code"),
    [("", grpc.StatusCode.INVALID_ARGUMENT), ("unknown", grpc.StatusCode.NOT_FOUND)],
)
async def test_enrollment_refuses_missing_and_unknown_tokens(runners, token, code):
    await expect_error(
        runners.stub.EnrollRunner(
            pb.EnrollRunnerRequest(service_token=token), metadata=metadata(caller="gateway")
        ),
        code,
    )


async def test_enrolling_twice_with_one_token_gives_a_new_credential_and_revokes_the_old(
    runners, cast, platform
):
    def enroll(address: str) -> object:
        return runners.stub.EnrollRunner(
            pb.EnrollRunnerRequest(service_token=f"  {cast.token} "),
            metadata=(*metadata(caller="gateway"), ("x-runner-address", address)),
        )

    def resolve(credential: bytes) -> object:
        return platform.users.issuer.ResolveIdentity(
            ziti_management_pb2.ResolveIdentityRequest(ziti_identity_id=sha256(credential).hexdigest()),
            metadata=metadata(caller="gateway"),
        )

    first = await enroll("127.0.0.1:7001")
    assert (
        first.identity_json.startswith(b"agynr_")
        and first.identity_id == sha256(first.identity_json).hexdigest()
    )
    assert first.service_name == f"runner-{cast.runner.meta.id}"
    resolved = await resolve(first.identity_json)
    assert (resolved.identity_id, resolved.identity_type) == (
        cast.runner.meta.id,
        identity_pb2.IDENTITY_TYPE_RUNNER,
    )

    second = await enroll("runner.example:7002")
    assert second.identity_json != first.identity_json
    await resolve(second.identity_json)
    await expect_error(resolve(first.identity_json), grpc.StatusCode.NOT_FOUND)
    runner = (
        await runners.stub.GetRunner(pb.GetRunnerRequest(id=cast.runner.meta.id), metadata=ORCHESTRATOR)
    ).runner
    assert runner.status == pb.RUNNER_STATUS_ENROLLED
    async with runners.service.runtime.db.read() as connection:
        address = (
            await connection.exec_driver_sql(
                "SELECT address FROM runners WHERE id = %(id)s", {"id": uuid.UUID(cast.runner.meta.id)}
            )
        ).scalar_one()
    assert address == "runner.example:7002"

    # Deleting the runner revokes its credential.
    await runners.stub.DeleteRunner(
        pb.DeleteRunnerRequest(id=cast.runner.meta.id), metadata=metadata(cast.owner)
    )
    await expect_error(resolve(second.identity_json), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("address", ["nohost", "host:0", "host:99999", ":80", "a b:80", "x" * 300 + ":1"])
async def test_enrollment_refuses_a_bad_address(runners, cast, address):
    error = await expect_error(
        runners.stub.EnrollRunner(
            pb.EnrollRunnerRequest(service_token=cast.token),
            metadata=(*metadata(caller="gateway"), ("x-runner-address", address)),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "x-runner-address" in (error.details() or "")


@pytest.mark.parametrize(
    ("method", "request_message"),
    [
        ("GetRunner", pb.GetRunnerRequest(id=NOT_A_UUID)),
        ("UpdateRunner", pb.UpdateRunnerRequest(id=NOT_A_UUID)),
        ("DeleteRunner", pb.DeleteRunnerRequest(id=NOT_A_UUID)),
        ("ListRunners", pb.ListRunnersRequest(organization_id=NOT_A_UUID)),
        ("ValidateServiceToken", pb.ValidateServiceTokenRequest(token_hash=" ")),
    ],
)
async def test_bad_ids_are_invalid_arguments(runners, cast, method, request_message):
    caller = ORCHESTRATOR if method == "ValidateServiceToken" else metadata(cast.owner)
    await expect_error(
        getattr(runners.stub, method)(request_message, metadata=caller), grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_unknown_runner_is_not_found(runners, cast):
    await expect_error(
        runners.stub.GetRunner(pb.GetRunnerRequest(id=str(uuid.uuid4())), metadata=ORCHESTRATOR),
        grpc.StatusCode.NOT_FOUND,
    )
