"""What clients (the chat app, the Console, grpcio and buf, browsers) expect of the Gateway:
their own organizations without naming themselves, UNIMPLEMENTED for a method not served,
stream headers as soon as a stream is open, and their idempotency key passed on."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import unquote

import grpc
import httpx
import pytest
from agyn_common.idempotency import MAX_KEY_LENGTH
from agyn_inprocess.gateway import (
    USERS_GATEWAY,
    frame,
    frames,
    grpc_web_request,
    grpc_web_text_decode,
    grpc_web_text_request,
)
from agynio.api.gateway.v1 import notifications_pb2_grpc as notifications_gateway
from agynio.api.gateway.v1 import organizations_pb2_grpc as organizations_gateway
from agynio.api.gateway.v1 import threads_pb2_grpc as threads_gateway
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.organizations.v1 import organizations_pb2
from agynio.api.threads.v1 import threads_pb2
from agynio.api.users.v1 import users_pb2

ORGANIZATIONS_GATEWAY = "agynio.api.organizations.v1.OrganizationsGateway"
SUBSCRIBE_PATH = "/api/agynio.api.notifications.v1.NotificationsGateway/Subscribe"
HEADERS_WITHIN = 5.0  # seconds: a stream's headers come at once, long before this


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


# --- a server stream's headers come at once -----------------------------------------------------


async def quiet_thread(gateway) -> tuple[str, str, str]:
    """A user's token, a thread with a writer in it, and the writer's token."""
    platform = gateway.platform
    owner, writer = await platform.user("listener"), await platform.user("writer")
    org = await platform.create_org(owner)
    await platform.join(owner, org, writer)
    token = await gateway.token_for(owner)
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        created = await threads_gateway.ThreadsGatewayStub(channel).CreateThread(
            threads_pb2.CreateThreadRequest(
                organization_id=org,
                participants=[threads_pb2.ParticipantIdentifier(participant_id=str(writer))],
            ),
            metadata=bearer(token),
            timeout=10,
        )
    return token, created.thread.id, await gateway.token_for(writer)


async def write(gateway, writer_token: str, thread_id: str) -> None:
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        await threads_gateway.ThreadsGatewayStub(channel).SendMessage(
            threads_pb2.SendMessageRequest(thread_id=thread_id, body="hello"),
            metadata=bearer(writer_token),
            timeout=10,
        )


async def test_a_subscribe_has_its_headers_before_any_message_over_grpc(gateway):
    token, thread_id, writer = await quiet_thread(gateway)
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        call = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
            notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"]), metadata=bearer(token)
        )
        await asyncio.wait_for(call.initial_metadata(), HEADERS_WITHIN)  # in a quiet room
        assert not call.done()
        # Once the headers are in, the stream is live: one message, sent once, arrives.
        await write(gateway, writer, thread_id)
        received = await asyncio.wait_for(call.read(), 10)
        assert received.envelope.payload["thread_id"] == thread_id
        call.cancel()


@pytest.mark.parametrize(
    ("content_type", "body", "thread_of"),
    [
        (
            "application/connect+json",
            frame(json.dumps({"rooms": ["thread_participant:me"]}).encode()),
            lambda data: json.loads(data)["envelope"]["payload"]["thread_id"],
        ),
        (
            "application/grpc-web+proto",
            grpc_web_request(notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"])),
            lambda data: notifications_pb2.SubscribeResponse.FromString(data).envelope.payload["thread_id"],
        ),
        (
            "application/grpc-web-text",
            grpc_web_text_request(notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"])),
            lambda data: notifications_pb2.SubscribeResponse.FromString(data).envelope.payload["thread_id"],
        ),
    ],
)
async def test_a_subscribe_has_its_headers_before_any_message_over_http(
    gateway, content_type, body, thread_of
):
    """What a browser's fetch needs: it resolves on the headers, and a quiet room sends nothing else."""
    token, thread_id, writer = await quiet_thread(gateway)
    headers = {"authorization": f"Bearer {token}", "content-type": content_type}
    async with asyncio.timeout(HEADERS_WITHIN):
        opened = gateway.http.stream("POST", f"{gateway.url}{SUBSCRIBE_PATH}", content=body, headers=headers)
        response = await opened.__aenter__()
    try:
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        chunks = response.aiter_raw()
        pending = asyncio.ensure_future(anext(chunks))
        done, _ = await asyncio.wait([pending], timeout=0.5)
        assert not done  # nothing but the headers yet
        await write(gateway, writer, thread_id)
        received = await asyncio.wait_for(pending, 10)
        async with asyncio.timeout(10):
            while not complete(frames_of(received, content_type)):
                received += await anext(chunks)
        flags, data = frames(frames_of(received, content_type))[0]
        assert flags == 0
        assert thread_of(data) == thread_id
    finally:
        await opened.__aexit__(None, None, None)


def frames_of(received: bytes, content_type: str) -> bytes:
    """The binary frames of what arrived (gRPC-Web text: base64 in whole quanta)."""
    if content_type.endswith("-text"):
        return grpc_web_text_decode(received)
    return received


def complete(data: bytes) -> bool:
    return len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[1:5], "big")


async def test_a_refused_subscribe_still_ends_with_its_status(gateway):
    """Headers go once the service accepts: a refusal is still the service's status."""
    token = await gateway.token_for(await gateway.platform.user())
    room = [f"thread_participant:{uuid.uuid4()}"]
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        call = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
            notifications_pb2.SubscribeRequest(rooms=room), metadata=bearer(token)
        )
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await asyncio.wait_for(call.read(), 10)
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
    reply = await gateway.http.post(
        f"{gateway.url}{SUBSCRIBE_PATH}",
        content=frame(json.dumps({"rooms": room}).encode()),
        headers={"authorization": f"Bearer {token}", "content-type": "application/connect+json"},
    )
    assert reply.status_code == 200
    ((flags, end),) = frames(reply.content)
    assert (flags, json.loads(end)["error"]["code"]) == (0x02, "permission_denied")


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
