"""GetMessages, SendMessage and MarkAsRead (chat sheet §3.5 to §3.7, §8 #5 to #8): Threads'
messages and read state, asked as the caller."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.chat import Chat
from agyn_inprocess.runners import Cast
from agyn_testkit.calls import expect_error, metadata
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.threads.v1 import threads_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def messages(chat: Chat, who: uuid.UUID, chat_id: str, **fields) -> pb.GetMessagesResponse:
    reply: pb.GetMessagesResponse = await chat.stub.GetMessages(
        pb.GetMessagesRequest(chat_id=chat_id, **fields), metadata=metadata(who)
    )
    return reply


async def send(chat: Chat, who: uuid.UUID, chat_id: str, body: str = "hello", **extra: str) -> pb.ChatMessage:
    reply: pb.SendMessageResponse = await chat.stub.SendMessage(
        pb.SendMessageRequest(chat_id=chat_id, body=body), metadata=metadata(who, **extra)
    )
    return reply.message


async def mark_read(chat: Chat, who: uuid.UUID, chat_id: str, *message_ids: str) -> int:
    reply: pb.MarkAsReadResponse = await chat.stub.MarkAsRead(
        pb.MarkAsReadRequest(chat_id=chat_id, message_ids=message_ids), metadata=metadata(who)
    )
    return reply.read_count


async def unread(chat: Chat, who: uuid.UUID, chat_id: str) -> int:
    return (await messages(chat, who, chat_id, page_size=1)).unread_count


# --- GetMessages and SendMessage -------------------------------------------------------------------


async def test_messages_are_sent_and_paged_oldest_first_with_the_unread_count(chat, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member)
    sent = [await send(chat, cast.member, created.id, f"m{index}") for index in range(3)]
    assert sent[0].chat_id == created.id
    assert (sent[0].sender_id, sent[0].body) == (str(cast.member), "m0")
    first = await messages(chat, cast.owner, created.id, page_size=2)
    assert [m.body for m in first.messages] == ["m0", "m1"]
    assert first.unread_count == 3
    rest = await messages(chat, cast.owner, created.id, page_size=2, page_token=first.next_page_token)
    assert ([m.id for m in rest.messages], rest.next_page_token) == ([sent[2].id], "")
    assert (await messages(chat, cast.member, created.id)).unread_count == 0  # its own
    assert await unread(chat, cast.owner, created.id) == 3  # reading acknowledges nothing


async def test_a_retried_send_with_the_same_key_sends_once(chat, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member)
    first = await send(chat, cast.owner, created.id, "once", idempotency_key="send-1")
    again = await send(chat, cast.owner, created.id, "once", idempotency_key="send-1")
    assert again == first
    assert [m.id for m in (await messages(chat, cast.member, created.id)).messages] == [first.id]


@pytest.mark.parametrize(
    ("fields", "code", "fragment"),
    [
        ({"chat_id": ""}, INVALID, "chat_id"),
        ({"chat_id": "c-1"}, INVALID, "chat_id"),
        ({"body": ""}, INVALID, "body or file_ids must be provided"),
        ({"file_ids": ["not-a-file"]}, INVALID, "file_ids"),  # Threads' own check, passed on
        ({"body": "x" * (256 * 1024 + 1)}, INVALID, "body"),
    ],
)
async def test_send_message_refuses_bad_input(chat, cast: Cast, fields, code, fragment):
    created = await chat.create(cast.owner, cast.org, cast.member)
    values = {"chat_id": created.id, "body": "hi", **fields}
    await expect_error(
        chat.stub.SendMessage(pb.SendMessageRequest(**values), metadata=metadata(cast.owner)), code, fragment
    )


async def test_a_degraded_thread_refuses_messages_as_the_app_expects(chat, threads, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.agent_id)
    await threads.stub.DegradeThread(
        threads_pb2.DegradeThreadRequest(thread_id=created.id),
        metadata=metadata(caller="agents-orchestrator"),
    )
    # The app matches this status and message verbatim (chat sheet §2.5).
    await expect_error(
        send(chat, cast.owner, created.id), grpc.StatusCode.FAILED_PRECONDITION, "thread is degraded"
    )


async def test_get_messages_answers_not_found_for_what_the_caller_cannot_read(chat, threads, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member)
    for who, chat_id in ((cast.outsider, created.id), (cast.owner, str(uuid.uuid4()))):
        await expect_error(messages(chat, who, chat_id), grpc.StatusCode.NOT_FOUND, "chat not found")
    # A thread made without Chat is served, as upstream serves it (§8 #8).
    plain = await threads.create(cast.owner, cast.org, cast.member)
    await threads.send(cast.member, plain.id, "outside chat")
    served = await messages(chat, cast.owner, plain.id)
    assert ([m.body for m in served.messages], served.unread_count) == (["outside chat"], 1)
    await expect_error(
        chat.stub.GetMessages(pb.GetMessagesRequest(chat_id="x"), metadata=metadata(cast.owner)),
        INVALID,
        "chat_id",
    )


# --- MarkAsRead ------------------------------------------------------------------------------------


async def test_mark_as_read_acknowledges_everything_unread(chat, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member)
    for index in range(150):  # more than one page of Threads' unread messages
        await send(chat, cast.member, created.id, f"m{index}")
    assert await mark_read(chat, cast.owner, created.id) == 150
    assert await unread(chat, cast.owner, created.id) == 0
    assert await mark_read(chat, cast.owner, created.id) == 0  # nothing left


async def test_mark_as_read_acknowledges_the_named_messages_of_this_chat_only(chat, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member)
    other = await chat.create(cast.owner, cast.org, cast.member)
    sent = [await send(chat, cast.member, created.id, f"m{index}") for index in range(3)]
    elsewhere = await send(chat, cast.member, other.id)
    named = (sent[0].id, sent[2].id, elsewhere.id, str(uuid.uuid4()))
    assert await mark_read(chat, cast.owner, created.id, *named) == 2
    assert await unread(chat, cast.owner, created.id) == 1
    assert await unread(chat, cast.owner, other.id) == 1
    assert await mark_read(chat, cast.owner, created.id, sent[0].id) == 0  # already read


@pytest.mark.parametrize(
    ("fields", "field"), [({"chat_id": ""}, "chat_id"), ({"message_ids": ["m-1"]}, "message_ids[0]")]
)
async def test_mark_as_read_refuses_bad_input_naming_the_field(chat, cast: Cast, fields, field):
    created = await chat.create(cast.owner, cast.org, cast.member)
    values = {"chat_id": created.id, **fields}
    await expect_error(
        chat.stub.MarkAsRead(pb.MarkAsReadRequest(**values), metadata=metadata(cast.owner)), INVALID, field
    )
