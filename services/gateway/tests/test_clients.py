"""What clients (the chat app, the Console, grpcio and buf, browsers) expect of the Gateway:
their own organizations without naming themselves, and their idempotency key passed on."""

from __future__ import annotations

import grpc
import httpx
import pytest
from agyn_common.idempotency import MAX_KEY_LENGTH
from agynio.api.gateway.v1 import organizations_pb2_grpc as organizations_gateway
from agynio.api.organizations.v1 import organizations_pb2

ORGANIZATIONS_GATEWAY = "agynio.api.organizations.v1.OrganizationsGateway"


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


# --- ListAccessibleOrganizations: the caller's own ---------------------------------------------


async def test_list_accessible_organizations_lists_the_callers_own_whatever_it_sends(gateway):
    platform = gateway.platform
    ada, bob = await platform.user("ada"), await platform.user("bob")
    mine = sorted([await platform.create_org(ada, "Ada's"), await platform.create_org(ada, "Ada's too")])
    theirs = await platform.create_org(bob, "Bob's")
    token = await gateway.token_for(ada)
    # The chat app sends {}; naming someone else, or garbage, changes nothing.
    for body in ({}, {"identityId": str(bob)}, {"identityId": "not-a-uuid"}):
        reply = await gateway.connect(
            "ListAccessibleOrganizations", body, token, service=ORGANIZATIONS_GATEWAY
        )
        assert reply.status_code == 200, reply.text
        assert sorted(org["id"] for org in reply.json()["organizations"]) == mine, body
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = organizations_gateway.OrganizationsGatewayStub(channel)
        for identity_id in ("", str(bob)):
            listed = await stub.ListAccessibleOrganizations(
                organizations_pb2.ListAccessibleOrganizationsRequest(identity_id=identity_id),
                metadata=bearer(token),
                timeout=10,
            )
            assert sorted(org.id for org in listed.organizations) == mine
            assert theirs not in {org.id for org in listed.organizations}
    anonymous = await gateway.connect(
        "ListAccessibleOrganizations", {"identityId": str(ada)}, service=ORGANIZATIONS_GATEWAY
    )
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")


# --- idempotency-key reaches the service ------------------------------------------------------


async def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_answer(gateway):
    token = await gateway.token_for(await gateway.platform.user())

    async def create(name: str, key: str | bytes | None) -> httpx.Response:
        headers = {} if key is None else {"Idempotency-Key": key}
        return await gateway.connect(
            "CreateOrganization", {"name": name}, token, service=ORGANIZATIONS_GATEWAY, **headers
        )

    first, again = await create("Acme", "create-acme-1"), await create("Acme", "create-acme-1")
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    other = await create("Acme", "create-acme-2")  # another key: another organization
    assert other.json()["organization"]["id"] != first.json()["organization"]["id"]
    unkeyed = [(await create("Acme", None)).json()["organization"]["id"] for _ in range(2)]
    assert len(set(unkeyed)) == 2
    reused = await create("Other", "create-acme-1")  # the same key, another request
    assert (reused.status_code, reused.json()["code"]) == (400, "failed_precondition")
    # The service's own checks, at the Gateway: too long, or not what metadata can carry.
    for bad in ("k" * (MAX_KEY_LENGTH + 1), "caf\u00e9".encode("latin-1")):
        refused = await create("Acme", bad)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_argument"), bad
        assert refused.json()["message"].startswith("idempotency-key: ")
    assert (await create("Acme", "k" * MAX_KEY_LENGTH)).status_code == 200

    # gRPC: the metadata key of the same name.
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = organizations_gateway.OrganizationsGatewayStub(channel)
        keyed = (*bearer(token), ("idempotency-key", "grpc-create-1"))
        request = organizations_pb2.CreateOrganizationRequest(name="Over gRPC")
        made = [await stub.CreateOrganization(request, metadata=keyed, timeout=10) for _ in range(2)]
        assert made[0].organization == made[1].organization
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.CreateOrganization(
                request,
                metadata=(*bearer(token), ("idempotency-key", "g" * (MAX_KEY_LENGTH + 1))),
                timeout=10,
            )
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_keys_are_kept_per_caller(gateway):
    """The key scopes a retry of one caller: another caller's same key is its own."""
    platform = gateway.platform
    tokens = [await gateway.token_for(await platform.user()) for _ in range(2)]
    made = [
        await gateway.connect(
            "CreateOrganization",
            {"name": "Acme"},
            token,
            service=ORGANIZATIONS_GATEWAY,
            **{"Idempotency-Key": "shared"},
        )
        for token in tokens
    ]
    assert [reply.status_code for reply in made] == [200, 200]
    assert made[0].json()["organization"]["id"] != made[1].json()["organization"]["id"]
