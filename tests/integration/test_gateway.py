"""The Gateway as the front door of the platform (issue 5's "done when"): Connect JSON at the
documented path, grpcio on the same port, and a Subscribe stream opened through the Gateway
that receives a message sent through it; what clients expect of it (issue 28). Only the
Gateway is used, so this runs against the local platform and against a cluster alike."""

from __future__ import annotations

import asyncio

import grpc
import httpx
from agynio.api.gateway.v1 import notifications_pb2_grpc as notifications_gateway
from agynio.api.gateway.v1 import users_pb2_grpc as users_gateway
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.users.v1 import users_pb2


async def test_the_gateway_serves_connect_grpc_and_streams_end_to_end(platform):
    gateway = platform.gateway
    (owner, owner_token), (friend, friend_token) = [await platform.user(name) for name in ("olga", "fred")]

    async with httpx.AsyncClient(base_url=f"http://{gateway}/api", timeout=10) as http:

        async def call(token: str, service: str, method: str, body: dict) -> dict:
            reply = await http.post(
                f"/agynio.api.{service}.v1.{service.capitalize()}Gateway/{method}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert reply.status_code == 200, reply.text
            return reply.json()

        # The README's curl: GetMe over Connect JSON at the documented name and path.
        assert (await call(owner_token, "users", "GetMe", {}))["user"]["meta"]["id"] == owner

        org = (await call(owner_token, "organizations", "CreateOrganization", {"name": "Acme"}))[
            "organization"
        ]
        # The README's retried create: the same Idempotency-Key answers the first organization.
        retried = [
            (
                await http.post(
                    "/agynio.api.organizations.v1.OrganizationsGateway/CreateOrganization",
                    json={"name": "Sandbox"},
                    headers={"Authorization": f"Bearer {owner_token}", "Idempotency-Key": "create-sandbox-1"},
                )
            ).json()["organization"]["id"]
            for _ in range(2)
        ]
        assert retried[0] == retried[1]
        # The chat app's org switcher: {} lists the caller's own.
        accessible = await call(owner_token, "organizations", "ListAccessibleOrganizations", {})
        assert sorted(o["id"] for o in accessible["organizations"]) == sorted([org["id"], retried[0]])
        invitation = await call(
            owner_token,
            "organizations",
            "CreateMembership",
            {"organizationId": org["id"], "identityId": friend, "role": "MEMBERSHIP_ROLE_MEMBER"},
        )
        await call(
            friend_token,
            "organizations",
            "AcceptMembership",
            {"membershipId": invitation["membership"]["id"]},
        )
        thread = await call(
            owner_token,
            "threads",
            "CreateThread",
            {"organizationId": org["id"], "participants": [{"participantId": friend}]},
        )
        thread_id = thread["thread"]["id"]

        async with grpc.aio.insecure_channel(gateway) as channel:
            # grpcio on the same port.
            credentials = (("authorization", f"Bearer {friend_token}"),)
            me = await users_gateway.UsersGatewayStub(channel).GetMe(
                users_pb2.GetMeRequest(), metadata=credentials, timeout=10
            )
            assert me.user.meta.id == friend

            # The friend follows their room through the Gateway; the owner writes through it.
            stream = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
                notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"]), metadata=credentials
            )
            # Its headers come as soon as it is live, before any message: one message written
            # then is delivered.
            await asyncio.wait_for(stream.initial_metadata(), 10)
            sent = await call(owner_token, "threads", "SendMessage", {"threadId": thread_id, "body": "hi"})
            reply = await asyncio.wait_for(stream.read(), 10)
            assert reply.envelope.event == "message.created"
            assert reply.envelope.payload["thread_id"] == thread_id
            assert reply.envelope.payload["message_id"] == sent["message"]["id"]
            assert list(reply.envelope.rooms) == [f"thread_participant:{friend}"]
            stream.cancel()
