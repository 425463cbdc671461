"""What clients (the chat app, the Console, grpcio and buf, browsers) expect of the Gateway:
their own organizations without naming themselves, UNIMPLEMENTED for a method not served,
and their idempotency key passed on."""

from __future__ import annotations

from urllib.parse import unquote

import grpc
import httpx
import pytest
from agyn_common.idempotency import MAX_KEY_LENGTH
from agyn_testkit.gateway import (
    USERS_GATEWAY,
    frame,
    grpc_web_request,
    grpc_web_text_request,
)
from agynio.api.gateway.v1 import organizations_pb2_grpc as organizations_gateway
from agynio.api.organizations.v1 import organizations_pb2
from agynio.api.users.v1 import users_pb2

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


# --- a method the Gateway does not serve --------------------------------------------------------

UNSERVED = [
    # An internal service (not a gateway), and a method no gateway has.
    (
        "/agynio.api.users.v1.UsersService/GetMe",
        "unknown service agynio.api.users.v1.UsersService (method GetMe)",
    ),
    (f"/{USERS_GATEWAY}/ResolveAPIToken", f"unknown method ResolveAPIToken for service {USERS_GATEWAY}"),
]


@pytest.mark.parametrize(("path", "message"), UNSERVED)
async def test_an_unserved_method_is_unimplemented_over_grpc(gateway, path, message):
    token = await gateway.token_for(await gateway.platform.user())
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        call = channel.unary_unary(
            path,
            request_serializer=users_pb2.GetMeRequest.SerializeToString,
            response_deserializer=users_pb2.GetMeResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(users_pb2.GetMeRequest(), metadata=bearer(token), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert failure.value.details() == message
    # On the wire: an HTTP 200 without a message (its status in trailers, which grpcio read above).
    async with httpx.AsyncClient(http1=False, http2=True, timeout=10) as h2:
        reply = await h2.post(
            f"{gateway.url}{path}",
            content=frame(users_pb2.GetMeRequest().SerializeToString()),
            headers={
                "content-type": "application/grpc",
                "te": "trailers",
                "authorization": f"Bearer {token}",
            },
        )
    assert reply.http_version == "HTTP/2"
    assert (reply.status_code, reply.headers["content-type"], reply.content) == (200, "application/grpc", b"")


@pytest.mark.parametrize(("path", "message"), UNSERVED)
async def test_an_unserved_method_is_unimplemented_over_grpc_web(gateway, path, message):
    for content_type, body in (
        ("application/grpc-web+proto", grpc_web_request(users_pb2.GetMeRequest())),
        ("application/grpc-web-text", grpc_web_text_request(users_pb2.GetMeRequest())),
    ):
        reply = await gateway.http.post(
            f"{gateway.url}/api{path}", content=body, headers={"content-type": content_type}
        )
        assert (reply.status_code, reply.headers["grpc-status"]) == (200, "12"), content_type
        assert unquote(reply.headers["grpc-message"]) == message
        assert reply.headers["content-type"] == content_type
        assert reply.content == b""


@pytest.mark.parametrize(("path", "message"), [*UNSERVED, ("/nope", "unknown method /nope")])
async def test_an_unserved_method_is_a_404_with_the_connect_error_over_connect(gateway, path, message):
    for content_type, body in (
        ("application/json", b"{}"),
        ("application/proto", b""),
        ("application/connect+json", frame(b"{}")),  # a Connect stream
    ):
        reply = await gateway.http.post(
            f"{gateway.url}{path}", content=body, headers={"content-type": content_type}
        )
        assert reply.status_code == 404, content_type
        assert reply.headers["content-type"] == "application/json"
        assert reply.json() == {"code": "unimplemented", "message": message}
    # Browsers read it too (CORS), and it carries a request id like every answer.
    reply = await gateway.http.get(f"{gateway.url}/api{path}", headers={"origin": "https://chat.example.com"})
    assert (reply.status_code, reply.json()["code"]) == (404, "unimplemented")
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.headers["x-request-id"]


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
