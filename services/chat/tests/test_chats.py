"""CreateChat, GetChats, UpdateChat and DeleteChat as the Gateway calls them (chat sheet §3.2 to
§3.4, §3.8, §8), on real Threads, Users, Organizations and Agents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from agyn_chat.models import chats
from agyn_common.embedded import free_port
from agyn_common.errors import STATUS_DETAILS_KEY
from agyn_inprocess.chat import Chat
from agyn_inprocess.runners import Cast
from agyn_testkit.calls import expect_error, metadata
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.threads.v1 import threads_pb2
from google.rpc import error_details_pb2, status_pb2

OK, NOT_FOUND, INVALID = grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT


async def chats_of(chat: Chat, who: uuid.UUID, org: str, **fields) -> pb.GetChatsResponse:
    reply: pb.GetChatsResponse = await chat.stub.GetChats(
        pb.GetChatsRequest(organization_id=org, **fields), metadata=metadata(who)
    )
    return reply


def ids(reply: pb.GetChatsResponse) -> list[str]:
    return [listed.id for listed in reply.chats]


def field_of(error: grpc.aio.AioRpcError) -> str:
    """The field the error's BadRequest names."""
    status = status_pb2.Status.FromString(dict(error.trailing_metadata())[STATUS_DETAILS_KEY])
    violations = error_details_pb2.BadRequest()
    status.details[0].Unpack(violations)
    return violations.field_violations[0].field


# --- CreateChat ------------------------------------------------------------------------------------


async def test_create_chat_with_a_colleague_and_an_agent(chat, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member, cast.agent_id)
    # The initiator first, then the others in the order given (threads sheet §8 #17).
    assert [p.id for p in created.participants] == [str(cast.owner), str(cast.member), cast.agent_id]
    assert all(p.HasField("joined_at") for p in created.participants)
    assert created.organization_id == cast.org
    assert created.status == pb.CHAT_STATUS_OPEN
    assert not created.HasField("summary")
    assert (created.unread_count, created.activity_status, list(created.active_workload_ids)) == (
        0,
        pb.CHAT_ACTIVITY_STATUS_UNSPECIFIED,
        [],
    )
    assert created.HasField("created_at") and created.HasField("updated_at")
    assert ids(await chats_of(chat, cast.member, cast.org)) == [created.id]


async def test_create_chat_drops_the_caller_and_repeats(chat, cast: Cast):
    member = str(cast.member)
    created = await chat.create(cast.owner, cast.org, cast.owner, member, member.upper(), cast.owner)
    assert [p.id for p in created.participants] == [str(cast.owner), member]


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"organization_id": ""}, "organization_id"),
        ({"organization_id": "acme"}, "organization_id"),
        ({"participant_ids": []}, "participant_ids"),
        ({"participant_ids": ["not-a-uuid"]}, "participant_ids[0]"),
        ({"participant_ids": ["{member}", ""]}, "participant_ids[1]"),
        ({"participant_ids": ["{owner}"]}, "participant_ids"),  # only the caller (§8 #3)
        ({"participant_ids": [str(uuid.uuid4()) for _ in range(100)]}, "participant_ids"),  # 99 at most
        ({"participant_ids": [str(uuid.uuid4())] * 1001}, "participant_ids"),
    ],
)
async def test_create_chat_refuses_bad_input_naming_the_field(chat, cast: Cast, request_fields, field):
    values = {"organization_id": cast.org, "participant_ids": [str(cast.member)], **request_fields}
    values["participant_ids"] = [
        value.format(member=cast.member, owner=cast.owner) for value in values["participant_ids"]
    ]
    error = await expect_error(
        chat.stub.CreateChat(pb.CreateChatRequest(**values), metadata=metadata(cast.owner)), INVALID, field
    )
    assert field_of(error) == field


async def test_create_chat_is_threads_decision_as_the_caller(chat, cast: Cast):
    # An outsider may not create threads in the organization; Threads' answer passes on.
    await expect_error(chat.create(cast.outsider, cast.org, cast.owner), grpc.StatusCode.PERMISSION_DENIED)
    # Nobody made a chat: the owner lists none of the outsider's.
    assert cast.outsider not in {
        p.id for listed in (await chats_of(chat, cast.owner, cast.org)).chats for p in listed.participants
    }


async def test_a_retried_create_chat_with_the_same_key_returns_the_same_chat(chat, cast: Cast):
    first = await chat.create(cast.owner, cast.org, cast.member, idempotency_key="create-1")
    again = await chat.create(cast.owner, cast.org, cast.member, idempotency_key="create-1")
    assert again == first
    other = await chat.create(cast.owner, cast.org, cast.member, idempotency_key="create-2")
    assert other.id != first.id
    # The same key with another request is refused, and the key is the caller's own.
    await expect_error(
        chat.create(cast.owner, cast.org, cast.agent_id, idempotency_key="create-1"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    theirs = await chat.create(cast.member, cast.org, cast.owner, idempotency_key="create-1")
    assert theirs.id != first.id
    listed = ids(await chats_of(chat, cast.member, cast.org))
    assert listed.count(first.id) == 1 and other.id in listed and theirs.id in listed


async def test_a_create_chat_whose_chat_cannot_be_kept_fails_and_its_retry_recovers(
    chat_with, threads, cast: Cast
):
    """The thread is made but Chat's row cannot be written: the call fails UNAVAILABLE (no chat
    that would never be listed is answered as made), and the retry with the same key reaches
    the same thread (§8 #4)."""
    async with chat_with() as own:
        database = own.service.runtime.db
        async with database.transaction() as connection:
            await connection.exec_driver_sql(
                "ALTER TABLE chats ADD CONSTRAINT refused CHECK (false) NOT VALID"
            )
        await expect_error(
            own.create(cast.owner, cast.org, cast.member, idempotency_key="kept-1"),
            grpc.StatusCode.UNAVAILABLE,
            "database",
        )
        assert ids(await chats_of(own, cast.owner, cast.org)) == []
        async with database.transaction() as connection:
            await connection.exec_driver_sql("ALTER TABLE chats DROP CONSTRAINT refused")
        made = await own.create(cast.owner, cast.org, cast.member, idempotency_key="kept-1")
        assert ids(await chats_of(own, cast.owner, cast.org)) == [made.id]
    reply = await threads.stub.GetThreads(
        threads_pb2.GetThreadsRequest(participant_id=str(cast.owner)), metadata=metadata(cast.owner)
    )
    assert [thread.id for thread in reply.threads] == [made.id]  # one thread for both attempts


# --- GetChats --------------------------------------------------------------------------------------


async def test_get_chats_pages_the_callers_chats_newest_first(chat, platform, cast: Cast):
    with_member = [await chat.create(cast.owner, cast.org, cast.member) for _ in range(4)]
    agent_only = [await chat.create(cast.owner, cast.org, cast.agent_id) for _ in range(3)]
    everything = [c.id for c in reversed([*with_member, *agent_only])]
    seen, token, pages = [], "", 0
    while True:
        reply = await chats_of(chat, cast.owner, cast.org, page_size=3, page_token=token)
        seen.extend(ids(reply))
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    assert (seen, pages) == (everything, 3)
    # The colleague sees the chats it takes part in, and no other.
    assert ids(await chats_of(chat, cast.member, cast.org)) == [c.id for c in reversed(with_member)]
    assert ids(await chats_of(chat, cast.outsider, cast.org)) == []
    # A chat of another organization of theirs is listed there, not here.
    elsewhere = await platform.create_org(cast.owner, "Elsewhere")
    await platform.join(cast.owner, elsewhere, cast.member)
    other = await chat.create(cast.owner, elsewhere, cast.member)
    assert other.id not in ids(await chats_of(chat, cast.owner, cast.org))
    assert ids(await chats_of(chat, cast.member, elsewhere)) == [other.id]


async def test_get_chats_counts_the_callers_unread_messages(chat, threads, cast: Cast):
    quiet = await chat.create(cast.owner, cast.org, cast.member)
    busy = await chat.create(cast.owner, cast.org, cast.member)
    for body in ("one", "two"):
        await threads.send(cast.member, busy.id, body)
    listed = {c.id: c.unread_count for c in (await chats_of(chat, cast.owner, cast.org)).chats}
    assert (listed[busy.id], listed[quiet.id]) == (2, 0)
    # The sender's own messages are not unread for it.
    assert {c.id: c.unread_count for c in (await chats_of(chat, cast.member, cast.org)).chats}[busy.id] == 0


async def test_get_chats_tokens_belong_to_the_caller_and_the_filter(chat, cast: Cast):
    for _ in range(2):
        await chat.create(cast.owner, cast.org, cast.member)
    token = (await chats_of(chat, cast.owner, cast.org, page_size=1)).next_page_token
    assert token
    mismatched = [
        (cast.member, cast.org, {}),  # another caller
        (cast.owner, cast.org, {"status": pb.CHAT_STATUS_OPEN}),  # another filter
        (cast.owner, str(uuid.uuid4()), {}),  # another organization
    ]
    for who, org, fields in mismatched:
        error = await expect_error(
            chats_of(chat, who, org, page_token=token, **fields), INVALID, "page_token"
        )
        assert field_of(error) == "page_token"
    for garbage in ("!", "bm90IGEgdG9rZW4", "x" * 40):
        await expect_error(chats_of(chat, cast.owner, cast.org, page_token=garbage), INVALID, "page_token")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"organization_id": ""}, "organization_id"),
        ({"organization_id": "acme"}, "organization_id"),
        ({"status": 3}, "status"),
        ({"status": -1}, "status"),
    ],
)
async def test_get_chats_refuses_bad_input_naming_the_field(chat, cast: Cast, fields, field):
    values = {"organization_id": cast.org, **fields}
    error = await expect_error(
        chat.stub.GetChats(pb.GetChatsRequest(**values), metadata=metadata(cast.owner)), INVALID, field
    )
    assert field_of(error) == field


async def test_get_chats_scans_a_bounded_number_of_rows_and_says_where_it_stopped(chat_with, cast: Cast):
    """The caller takes part in one chat among 1100 newer ones of its organization: a call reads
    at most ten store pages, then answers a short page with a token (§8 #2)."""
    async with chat_with() as own:
        mine = await own.create(cast.owner, cast.org, cast.member)
        newer = datetime.now(UTC) + timedelta(days=1)
        async with own.service.runtime.db.transaction() as connection:
            await connection.execute(
                chats.insert(),
                [
                    {
                        "thread_id": uuid.uuid4(),  # threads the caller is not in
                        "organization_id": uuid.UUID(cast.org),
                        "created_by": cast.member,
                        "created_at": newer + timedelta(seconds=index),
                    }
                    for index in range(1100)
                ],
            )
        first = await chats_of(own, cast.owner, cast.org, page_size=10)
        assert (ids(first), bool(first.next_page_token)) == ([], True)
        second = await chats_of(own, cast.owner, cast.org, page_size=10, page_token=first.next_page_token)
        assert (ids(second), second.next_page_token) == ([mine.id], "")


async def test_threads_away_is_unavailable_naming_it(chat_with, cast: Cast):
    async with chat_with(threads_address=f"127.0.0.1:{free_port()}") as own:
        await expect_error(
            own.create(cast.owner, cast.org, cast.member), grpc.StatusCode.UNAVAILABLE, "threads"
        )
        async with own.service.runtime.db.transaction() as connection:
            await connection.execute(
                chats.insert().values(
                    thread_id=uuid.uuid4(),
                    organization_id=uuid.UUID(cast.org),
                    created_by=cast.owner,
                    created_at=datetime.now(UTC),
                )
            )
        await expect_error(chats_of(own, cast.owner, cast.org), grpc.StatusCode.UNAVAILABLE, "threads")


# --- UpdateChat ------------------------------------------------------------------------------------


async def update(chat: Chat, who: uuid.UUID, chat_id: str, **fields) -> pb.Chat:
    reply: pb.UpdateChatResponse = await chat.stub.UpdateChat(
        pb.UpdateChatRequest(chat_id=chat_id, **fields), metadata=metadata(who)
    )
    return reply.chat


async def test_update_chat_sets_and_clears_status_and_summary_for_everyone(chat, cast: Cast):
    created = await chat.create(cast.owner, cast.org, cast.member)
    closed = await update(chat, cast.member, created.id, status=pb.CHAT_STATUS_CLOSED, summary="Plan")
    assert (closed.organization_id, closed.status, closed.summary) == (
        cast.org,
        pb.CHAT_STATUS_CLOSED,
        "Plan",
    )
    assert [p.id for p in closed.participants] == [p.id for p in created.participants]
    listed = {c.id: c for c in (await chats_of(chat, cast.owner, cast.org)).chats}[created.id]
    assert (listed.status, listed.summary) == (pb.CHAT_STATUS_CLOSED, "Plan")
    assert created.id in ids(await chats_of(chat, cast.owner, cast.org, status=pb.CHAT_STATUS_CLOSED))
    assert created.id not in ids(await chats_of(chat, cast.owner, cast.org, status=pb.CHAT_STATUS_OPEN))
    unchanged = await update(chat, cast.owner, created.id)  # nothing given: nothing changes
    assert (unchanged.status, unchanged.summary) == (pb.CHAT_STATUS_CLOSED, "Plan")
    cleared = await update(chat, cast.owner, created.id, status=pb.CHAT_STATUS_OPEN, summary="")
    assert (cleared.status, cleared.HasField("summary")) == (pb.CHAT_STATUS_OPEN, False)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"chat_id": ""}, "chat_id"),
        ({"chat_id": "chat-1"}, "chat_id"),
        ({"status": 9}, "status"),
        ({"summary": "x" * 1025}, "summary"),
        ({"summary": "a\x00b"}, "summary"),
    ],
)
async def test_update_chat_refuses_bad_input_naming_the_field(chat, cast: Cast, fields, field):
    created = await chat.create(cast.owner, cast.org, cast.member)
    values = {"chat_id": created.id, **fields}
    error = await expect_error(
        chat.stub.UpdateChat(pb.UpdateChatRequest(**values), metadata=metadata(cast.owner)), INVALID, field
    )
    assert field_of(error) == field
    assert (await update(chat, cast.owner, created.id, summary="y" * 1024)).summary == "y" * 1024


async def test_update_chat_is_for_participants_only(chat, cast: Cast):
    # The organization's owner may read the colleague's chat in Threads, but takes no part in it.
    theirs = await chat.create(cast.member, cast.org, cast.agent_id)
    for who in (cast.owner, cast.outsider):
        await expect_error(update(chat, who, theirs.id, summary="mine"), NOT_FOUND, "chat not found")
    await expect_error(update(chat, cast.member, str(uuid.uuid4()), summary="x"), NOT_FOUND, "chat not found")
    assert not (await update(chat, cast.member, theirs.id)).HasField("summary")


# --- DeleteChat ------------------------------------------------------------------------------------


async def delete(chat: Chat, who: uuid.UUID, chat_id: str) -> None:
    await chat.stub.DeleteChat(pb.DeleteChatRequest(chat_id=chat_id), metadata=metadata(who))


async def test_delete_chat_archives_its_thread_and_hides_it_from_everyone(chat, threads, cast: Cast):
    kept = await chat.create(cast.owner, cast.org, cast.member)
    deleted = await chat.create(cast.owner, cast.org, cast.member)
    await delete(chat, cast.member, deleted.id)
    for who in (cast.owner, cast.member):
        assert ids(await chats_of(chat, who, cast.org)) == [kept.id]
    thread = await threads.stub.GetThread(
        threads_pb2.GetThreadRequest(thread_id=deleted.id), metadata=metadata(cast.owner)
    )
    assert thread.thread.status == threads_pb2.THREAD_STATUS_ARCHIVED  # soft: still readable there
    await expect_error(update(chat, cast.owner, deleted.id, summary="x"), NOT_FOUND, "chat not found")
    await expect_error(
        chat.stub.GetMessages(pb.GetMessagesRequest(chat_id=deleted.id), metadata=metadata(cast.owner)),
        NOT_FOUND,
        "chat not found",
    )
    await expect_error(
        chat.stub.SendMessage(
            pb.SendMessageRequest(chat_id=deleted.id, body="hi"), metadata=metadata(cast.owner)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await delete(chat, cast.owner, deleted.id)  # again: still done


async def test_delete_chat_is_threads_decision_and_only_of_chats(chat, threads, cast: Cast):
    theirs = await chat.create(cast.member, cast.org, cast.agent_id)
    await expect_error(delete(chat, cast.outsider, theirs.id), grpc.StatusCode.PERMISSION_DENIED)
    assert ids(await chats_of(chat, cast.member, cast.org))[0] == theirs.id
    # The organization's owner may archive any of its threads (threads sheet §A4).
    await delete(chat, cast.owner, theirs.id)
    assert theirs.id not in ids(await chats_of(chat, cast.member, cast.org))
    # A thread made without Chat is not Chat's to archive.
    plain = await threads.create(cast.owner, cast.org, cast.member)
    await expect_error(delete(chat, cast.owner, plain.id), NOT_FOUND, "chat not found")
    await expect_error(delete(chat, cast.owner, str(uuid.uuid4())), NOT_FOUND, "chat not found")
    error = await expect_error(delete(chat, cast.owner, "nope"), INVALID, "chat_id")
    assert field_of(error) == "chat_id"
    reply = await threads.stub.GetThread(
        threads_pb2.GetThreadRequest(thread_id=plain.id), metadata=metadata(cast.owner)
    )
    assert reply.thread.status == threads_pb2.THREAD_STATUS_ACTIVE
