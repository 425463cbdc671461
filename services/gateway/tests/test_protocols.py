"""Each protocol end to end through the Gateway to the real services: Connect (JSON and
binary, unary and streaming), gRPC with grpcio, gRPC-Web (binary and text); both service
names and both path forms; errors with their details; CORS and request ids."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import uuid

import grpc
import pytest
from agyn_inprocess.gateway import (
    DOCUMENTED_USERS_GATEWAY,
    USERS_GATEWAY,
    frame,
    frames,
    grpc_web_request,
    grpc_web_text_decode,
    grpc_web_text_request,
    grpc_web_trailers,
)
from agynio.api.gateway.v1 import notifications_pb2_grpc as notifications_gateway
from agynio.api.gateway.v1 import threads_pb2_grpc as threads_gateway
from agynio.api.gateway.v1 import users_pb2_grpc as users_gateway
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.threads.v1 import threads_pb2
from agynio.api.users.v1 import users_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc


@pytest.fixture
async def admin(gateway):
    identity = await gateway.platform.admin()
    return identity, await gateway.token_for(identity)


@pytest.mark.parametrize("prefix", ["", "/api"])
@pytest.mark.parametrize("service", [USERS_GATEWAY, DOCUMENTED_USERS_GATEWAY])
async def test_connect_json_get_me_under_both_names_and_path_forms(gateway, admin, prefix, service):
    identity, token = admin
    reply = await gateway.http.post(
        f"{gateway.url}{prefix}/{service}/GetMe",
        content=b"{}",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["user"]["meta"]["id"] == str(identity)
    assert body["clusterRole"] == "CLUSTER_ROLE_ADMIN"  # enums by name, lowerCamelCase fields


async def test_connect_binary_unary(gateway, admin):
    identity, token = admin
    reply = await gateway.http.post(
        f"{gateway.url}/{USERS_GATEWAY}/GetMe",
        content=users_pb2.GetMeRequest().SerializeToString(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/proto"},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/proto"
    assert users_pb2.GetMeResponse.FromString(reply.content).user.meta.id == str(identity)


async def test_grpcio_on_the_same_port_under_both_names(gateway, admin):
    identity, token = admin
    credentials = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        reply = await users_gateway.UsersGatewayStub(channel).GetMe(
            users_pb2.GetMeRequest(), metadata=credentials, timeout=10
        )
        assert reply.user.meta.id == str(identity)
        documented = channel.unary_unary(
            f"/{DOCUMENTED_USERS_GATEWAY}/GetMe",
            request_serializer=users_pb2.GetMeRequest.SerializeToString,
            response_deserializer=users_pb2.GetMeResponse.FromString,
        )
        assert (
            await documented(users_pb2.GetMeRequest(), metadata=credentials, timeout=10)
        ).user.meta.id == str(identity)
        for probe in ("", "liveness"):  # readiness and liveness probes
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=probe), timeout=5
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING


async def test_grpc_web_binary_and_text(gateway, admin):
    identity, token = admin
    for content_type, body, decode in [
        ("application/grpc-web+proto", grpc_web_request(users_pb2.GetMeRequest()), lambda data: data),
        ("application/grpc-web-text", grpc_web_text_request(users_pb2.GetMeRequest()), grpc_web_text_decode),
    ]:
        reply = await gateway.http.post(
            f"{gateway.url}/api/{USERS_GATEWAY}/GetMe",
            content=body,
            headers={"authorization": f"Bearer {token}", "content-type": content_type},
        )
        assert reply.status_code == 200
        assert reply.headers["content-type"] == content_type
        (data_flags, data), (trailer_flags, trailers) = frames(decode(reply.content))
        assert (data_flags, trailer_flags) == (0, 0x80)
        assert users_pb2.GetMeResponse.FromString(data).user.meta.id == str(identity)
        assert grpc_web_trailers(trailers)["grpc-status"] == "0"


async def test_errors_keep_their_code_and_details_in_every_protocol(gateway, admin):
    _, token = admin
    bad = users_pb2.GetUserRequest(identity_id="not-a-uuid")
    # Connect: the HTTP status of the code, and the BadRequest detail naming the field.
    reply = await gateway.connect("GetUser", {"identityId": "not-a-uuid"}, token)
    assert reply.status_code == 400
    error = reply.json()
    assert error["code"] == "invalid_argument"
    assert "identity_id" in error["message"]
    (detail,) = error["details"]
    assert detail["type"] == "google.rpc.BadRequest"
    violation = error_details_pb2.BadRequest.FromString(
        base64.b64decode(detail["value"] + "==")
    ).field_violations[0]
    assert violation.field == "identity_id"
    # gRPC: the same code, and the details in grpc-status-details-bin.
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await users_gateway.UsersGatewayStub(channel).GetUser(
                bad, metadata=(("authorization", f"Bearer {token}"),), timeout=10
            )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = status_pb2.Status.FromString(dict(failure.value.trailing_metadata())["grpc-status-details-bin"])
    assert status.details[0].type_url.endswith("google.rpc.BadRequest")
    # gRPC-Web: the status in the trailer frame.
    reply = await gateway.http.post(
        f"{gateway.url}/{USERS_GATEWAY}/GetUser",
        content=grpc_web_request(bad),
        headers={"authorization": f"Bearer {token}", "content-type": "application/grpc-web+proto"},
    )
    trailers = grpc_web_trailers(frames(reply.content)[-1][1]) if reply.content else dict(reply.headers)
    assert trailers["grpc-status"] == str(grpc.StatusCode.INVALID_ARGUMENT.value[0])


@pytest.mark.parametrize("content_type", ["application/grpc", "application/grpc+proto; charset=x"])
async def test_grpc_over_http1_is_a_400_that_says_why(gateway, admin, content_type):
    # gRPC's status travels in trailers, which HTTP/1.1 cannot carry: the client's mistake,
    # where connectrpc answered grpc-status UNKNOWN.
    _, token = admin
    reply = await gateway.http.post(
        f"{gateway.url}/{USERS_GATEWAY}/GetMe",
        content=frame(users_pb2.GetMeRequest().SerializeToString()),
        headers={"authorization": f"Bearer {token}", "content-type": content_type},
    )
    assert reply.status_code == 400, reply.text
    assert "grpc-status" not in reply.headers
    assert "HTTP/2" in reply.json()["detail"]


async def test_not_found_maps_to_404_and_unknown_paths_are_404(gateway, admin):
    _, token = admin
    reply = await gateway.connect("GetUser", {"identityId": str(uuid.uuid4())}, token)
    assert (reply.status_code, reply.json()["code"]) == (404, "not_found")
    for path in [
        "/agynio.api.gateway.v1.UsersGateway/ResolveAPIToken",
        "/agynio.api.users.v1.UsersService/GetMe",
        "/nope",
    ]:
        reply = await gateway.http.post(
            gateway.url + path,
            content=b"{}",
            headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        )
        assert reply.status_code == 404, path  # internal-only methods have no handler at all


async def test_cors_preflight_and_headers_and_request_ids(gateway, admin):
    _, token = admin
    preflight = await gateway.http.request(
        "OPTIONS",
        f"{gateway.url}/{USERS_GATEWAY}/GetMe",
        headers={
            "origin": "https://chat.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, connect-protocol-version",
        },
    )
    assert preflight.status_code == 204  # answered before authentication
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    reply = await gateway.connect("GetMe", {}, token, origin="https://chat.example.com")
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "Grpc-Status-Details-Bin" in reply.headers["access-control-expose-headers"]
    first, second = (
        reply.headers["x-request-id"],
        (await gateway.connect("GetMe", {}, token)).headers["x-request-id"],
    )
    assert first and second and first != second
    kept = await gateway.connect("GetMe", {}, token, **{"x-request-id": "trace-123"})
    assert kept.headers["x-request-id"] == "trace-123"
    unauthenticated = await gateway.connect("GetMe", {})
    assert unauthenticated.headers["x-request-id"]


async def test_list_threads_is_get_threads(gateway, threads, admin):
    identity, token = admin
    org = await gateway.platform.create_org(identity)
    thread = await threads.create(identity, org)
    body = {"participantId": str(identity)}
    listed = await gateway.connect("ListThreads", body, token, service="agynio.api.gateway.v1.ThreadsGateway")
    got = await gateway.connect("GetThreads", body, token, service="agynio.api.threads.v1.ThreadsGateway")
    assert listed.status_code == got.status_code == 200, listed.text
    assert (
        [t["id"] for t in listed.json()["threads"]] == [t["id"] for t in got.json()["threads"]] == [thread.id]
    )


async def test_subscribe_receives_a_message_sent_through_the_gateway_in_every_protocol(gateway, admin):
    identity, token = admin
    platform = gateway.platform
    org = await platform.create_org(identity)
    writer = await platform.user("writer")
    await platform.invite(identity, org, writer)  # active at once: a cluster admin adds members
    credentials = (("authorization", f"Bearer {token}"),)
    writer_credentials = (("authorization", f"Bearer {await gateway.token_for(writer)}"),)
    subscribe = notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"])
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        threads_stub = threads_gateway.ThreadsGatewayStub(channel)
        created = await threads_stub.CreateThread(
            threads_pb2.CreateThreadRequest(
                organization_id=org,
                participants=[threads_pb2.ParticipantIdentifier(participant_id=str(writer))],
            ),
            metadata=credentials,
            timeout=10,
        )
        thread_id = created.thread.id

        async def send(body: str) -> None:  # the other participant writes; the admin is told
            await threads_stub.SendMessage(
                threads_pb2.SendMessageRequest(thread_id=thread_id, body=body),
                metadata=writer_credentials,
                timeout=10,
            )

        # Sending until a message arrives also covers a client that does not wait for the
        # headers (test_clients waits for them, then sends once).
        call = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
            subscribe, metadata=credentials
        )
        first = await receive_while_sending(call.read, send, "over grpc")
        assert first.envelope.event == "message.created"
        assert first.envelope.payload["thread_id"] == thread_id
        assert first.cursor
        call.cancel()

        # Connect streaming (JSON) and gRPC-Web (binary).
        for content_type, body, decode in [
            (
                "application/connect+json",
                frame(json.dumps({"rooms": ["thread_participant:me"]}).encode()),
                lambda data: json.loads(data)["envelope"]["payload"]["thread_id"],
            ),
            (
                "application/grpc-web+proto",
                grpc_web_request(subscribe),
                lambda data: notifications_pb2.SubscribeResponse.FromString(data).envelope.payload[
                    "thread_id"
                ],
            ),
        ]:
            headers = {"authorization": f"Bearer {token}", "content-type": content_type}
            url = f"{gateway.url}/api/agynio.api.notifications.v1.NotificationsGateway/Subscribe"

            async def first_frame(url=url, body=body, headers=headers) -> tuple[int, bytes]:
                async with gateway.http.stream("POST", url, content=body, headers=headers) as response:
                    received = b""
                    async for chunk in response.aiter_raw():
                        received += chunk
                        if frames_complete(received):
                            break
                    return response.status_code, received

            status, received = await receive_while_sending(first_frame, send, f"over {content_type}")
            assert status == 200
            flags, data = frames(received)[0]
            assert flags == 0
            assert decode(data) == thread_id


async def receive_while_sending(receive, send, body: str, attempts: int = 50):
    """Send a message every 200 ms until `receive()` gets something."""
    pending = asyncio.ensure_future(receive())
    for _ in range(attempts):
        await send(body)
        done, _ = await asyncio.wait([pending], timeout=0.2)
        if done:
            return pending.result()
    pending.cancel()
    raise AssertionError("the stream received nothing")


def frames_complete(data: bytes) -> bool:
    return len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[1:5], "big")


async def test_stream_errors_reach_the_client(gateway, admin):
    """A refused Subscribe ends with the service's status in each protocol."""
    _, token = admin
    other = uuid.uuid4()
    body = notifications_pb2.SubscribeRequest(rooms=[f"thread_participant:{other}"])
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        call = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
            body, metadata=(("authorization", f"Bearer {token}"),)
        )
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await asyncio.wait_for(call.read(), 10)
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
    reply = await gateway.http.post(
        f"{gateway.url}/agynio.api.gateway.v1.NotificationsGateway/Subscribe",
        content=frame(json.dumps({"rooms": [f"thread_participant:{other}"]}).encode()),
        headers={"authorization": f"Bearer {token}", "content-type": "application/connect+json"},
    )
    ((flags, end),) = frames(reply.content)
    assert flags == 0x02  # the end-of-stream frame
    assert json.loads(end)["error"]["code"] == "permission_denied"


async def test_gzip_both_ways(gateway, admin):
    identity, token = admin
    reply = await gateway.http.post(
        f"{gateway.url}/{USERS_GATEWAY}/GetMe",
        content=gzip.compress(b"{}"),
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "content-encoding": "gzip",
            "accept-encoding": "gzip",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["content-encoding"] == "gzip"
    assert reply.json()["user"]["meta"]["id"] == str(identity)  # httpx inflated it
    async with grpc.aio.insecure_channel(gateway.address, compression=grpc.Compression.Gzip) as channel:
        answer = await users_gateway.UsersGatewayStub(channel).GetMe(
            users_pb2.GetMeRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
        )
    assert answer.user.meta.id == str(identity)


async def test_degrade_thread_is_served_for_owners_only(gateway, threads):
    owner = await gateway.platform.user("owner")
    org = await gateway.platform.create_org(owner)
    member = await gateway.platform.user("member")
    await gateway.platform.join(owner, org, member)
    thread = await threads.create(owner, org, member)
    service = "agynio.api.gateway.v1.ThreadsGateway"
    body = {"threadId": thread.id, "reason": "the agent is gone"}
    refused = await gateway.connect("DegradeThread", body, await gateway.token_for(member), service=service)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    degraded = await gateway.connect("DegradeThread", body, await gateway.token_for(owner), service=service)
    assert degraded.status_code == 200, degraded.text
    assert degraded.json()["thread"]["status"] == "THREAD_STATUS_DEGRADED"
