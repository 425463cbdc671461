"""The chat app's flow through the Gateway, as the app speaks it (Connect JSON under `/api/`,
chat sheet §2.5, §5): a person creates a chat with a colleague and an agent, both list it,
the colleague writes, the person hears of it on its room and sees one unread, reads it,
closes the chat, deletes it."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from agyn_inprocess.gateway import Gateway
from agyn_inprocess.runners import Cast
from agynio.api.gateway.v1 import notifications_pb2_grpc as notifications_gateway
from agynio.api.notifications.v1 import notifications_pb2

CHAT_GATEWAY = "agynio.api.gateway.v1.ChatGateway"
READ_WITHIN = 10.0  # seconds a stream read may wait: a bound on a hang, not a measure


async def call(gateway: Gateway, token: str, method: str, body: dict[str, Any], **headers: str) -> Any:
    """One Connect JSON call to ChatGateway at `/api/`, as the app posts it; the reply's body."""
    reply = await gateway.http.post(
        f"{gateway.url}/api/{CHAT_GATEWAY}/{method}",
        json=body,
        headers={"authorization": f"Bearer {token}", **headers},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


async def listed(gateway: Gateway, token: str, org: str) -> dict[str, Any]:
    reply = await call(gateway, token, "GetChats", {"organizationId": org, "pageSize": 25})
    return {chat["id"]: chat for chat in reply.get("chats", [])}


async def test_the_chat_apps_flow(gateway: Gateway, cast: Cast):
    person, colleague = await gateway.token_for(cast.owner), await gateway.token_for(cast.member)
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        # The app follows its own room by its explicit id.
        room = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
            notifications_pb2.SubscribeRequest(rooms=[f"thread_participant:{cast.owner}"]),
            metadata=(("authorization", f"Bearer {person}"),),
        )
        await asyncio.wait_for(room.initial_metadata(), READ_WITHIN)

        body = {"organizationId": cast.org, "participantIds": [str(cast.member), cast.agent_id]}
        created = (await call(gateway, person, "CreateChat", body, **{"idempotency-key": "app-1"}))["chat"]
        retried = (await call(gateway, person, "CreateChat", body, **{"idempotency-key": "app-1"}))["chat"]
        assert retried == created
        chat_id = created["id"]
        assert [p["id"] for p in created["participants"]] == [
            str(cast.owner),
            str(cast.member),
            cast.agent_id,
        ]
        for token in (person, colleague):
            chats = await listed(gateway, token, cast.org)
            assert list(chats) == [chat_id]
            assert chats[chat_id]["status"] == "CHAT_STATUS_OPEN"
            assert chats[chat_id]["activityStatus"] == "CHAT_ACTIVITY_STATUS_FINISHED"  # no workload yet

        sent = await call(gateway, colleague, "SendMessage", {"chatId": chat_id, "body": "hi", "fileIds": []})
        heard = await asyncio.wait_for(room.read(), READ_WITHIN)
        assert heard.envelope.event == "message.created"
        assert heard.envelope.payload["thread_id"] == chat_id
        assert heard.envelope.payload["message_id"] == sent["message"]["id"]
        assert (await listed(gateway, person, cast.org))[chat_id]["unreadCount"] == 1
        assert (await call(gateway, person, "GetMessages", {"chatId": chat_id, "pageSize": 1}))[
            "unreadCount"
        ] == 1

        assert (await call(gateway, person, "MarkAsRead", {"chatId": chat_id}))["readCount"] == 1
        assert "unreadCount" not in (await listed(gateway, person, cast.org))[chat_id]  # zero

        closed = await call(
            gateway, person, "UpdateChat", {"chatId": chat_id, "status": "CHAT_STATUS_CLOSED"}
        )
        assert (closed["chat"]["organizationId"], closed["chat"]["status"]) == (
            cast.org,
            "CHAT_STATUS_CLOSED",
        )
        assert (await listed(gateway, colleague, cast.org))[chat_id]["status"] == "CHAT_STATUS_CLOSED"

        assert await call(gateway, person, "DeleteChat", {"chatId": chat_id}) == {}
        for token in (person, colleague):
            assert await listed(gateway, token, cast.org) == {}
        room.cancel()


async def test_chat_gateway_answers_under_both_names_at_both_roots(gateway: Gateway, cast: Cast):
    token = await gateway.token_for(cast.owner)
    for root in ("", "/api"):
        for service in (CHAT_GATEWAY, "agynio.api.chat.v1.ChatGateway"):
            reply = await gateway.http.post(
                f"{gateway.url}{root}/{service}/GetChats",
                json={"organizationId": cast.org},
                headers={"authorization": f"Bearer {token}"},
            )
            assert reply.status_code == 200, (root, service, reply.text)
    # Without a credential the Gateway refuses before Chat is asked.
    reply = await gateway.http.post(
        f"{gateway.url}/api/{CHAT_GATEWAY}/GetChats", json={"organizationId": cast.org}
    )
    assert reply.status_code == 401
