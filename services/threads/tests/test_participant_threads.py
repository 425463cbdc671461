"""ThreadAccessService.GetParticipantThreads: the caller's threads among those asked, for Chat."""

from __future__ import annotations

import uuid

import grpc
import sqlalchemy as sa
from agyn_inprocess.threads import pb
from agyn_testkit.calls import expect_error, metadata
from agyn_threads.models import threads as threads_table
from agynio.api.threads.v1 import access_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


def ask(threads, caller, *thread_ids: str, service: str | None = "chat"):
    return threads.access.GetParticipantThreads(
        access_pb2.GetParticipantThreadsRequest(thread_ids=list(thread_ids)),
        metadata=metadata(caller, caller=service),
    )


async def whole(threads, caller, thread_id: str) -> pb.Thread:
    reply = await threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread_id), metadata=metadata(caller))
    return reply.thread


async def test_the_callers_threads_whole_in_request_order(threads):
    platform = threads.platform
    owner, fred, mia = await platform.user("olga"), await platform.user("fred"), await platform.user("mia")
    org = await platform.create_org(owner)
    for person in (fred, mia):
        await platform.join(owner, org, person)
    first = await threads.create(fred, org, mia)
    second = await threads.create(owner, org, fred)
    await threads.stub.AddParticipant(
        pb.AddParticipantRequest(
            thread_id=second.id, participant=pb.ParticipantIdentifier(participant_id=str(mia)), passive=True
        ),
        metadata=metadata(owner),
    )
    await threads.send(owner, second.id, "hello")
    archived = await threads.create(owner, org, fred)
    await threads.stub.ArchiveThread(pb.ArchiveThreadRequest(thread_id=archived.id), metadata=metadata(owner))
    not_freds = await threads.create(owner, org, mia)  # the owner may read it, fred is not in it
    unknown = str(uuid.uuid4())

    asked = [archived.id, not_freds.id, unknown, second.id, first.id]
    reply = await ask(threads, fred, *asked)
    expected = [await whole(threads, fred, thread_id) for thread_id in (archived.id, second.id, first.id)]
    assert list(reply.threads) == expected
    assert [(p.id, p.passive) for p in reply.threads[1].participants] == [
        (str(owner), False),
        (str(fred), False),
        (str(mia), True),
    ]
    assert reply.threads[0].status == pb.THREAD_STATUS_ARCHIVED and reply.threads[1].message_count == 1

    # Participation only: reading an organization's threads is not taking part in them.
    mine = await ask(threads, owner, first.id, not_freds.id)
    assert [t.id for t in mine.threads] == [not_freds.id]

    # A repeated id, in any spelling, answers once, where it first appears.
    again = await ask(threads, fred, second.id, first.id, f" {second.id.upper()} ", first.id)
    assert [t.id for t in again.threads] == [second.id, first.id]

    assert list((await ask(threads, fred)).threads) == []
    assert list((await ask(threads, await platform.user("sam"), first.id)).threads) == []


async def test_imported_threads_without_an_organization_are_listed(threads):
    """As GetThreads lists them: the caller takes part in them, whatever their organization."""
    platform = threads.platform
    owner = await platform.user("olga")
    thread = await threads.create(owner, await platform.create_org(owner))
    async with threads.service.runtime.db.transaction() as connection:
        await connection.execute(
            threads_table.update()
            .where(threads_table.c.id == uuid.UUID(thread.id))
            .values(organization_id=None)
        )
    (listed,) = (await ask(threads, owner, thread.id)).threads
    assert listed.id == thread.id and listed.organization_id == ""


async def test_one_statement_for_the_threads_and_one_for_their_participants(threads):
    platform = threads.platform
    owner = await platform.user("olga")
    org = await platform.create_org(owner)
    made = [await threads.create(owner, org, uuid.uuid4()) for _ in range(5)]
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if "thread_participants" in statement:
            statements.append(statement)

    engine = threads.service.runtime.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        reply = await ask(threads, owner, *(thread.id for thread in made))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert [t.id for t in reply.threads] == [thread.id for thread in made]
    assert len(statements) == 2, statements


async def test_validation_names_the_field(threads):
    owner = await threads.platform.user("olga")
    await expect_error(ask(threads, owner, str(uuid.uuid4()), "", "x"), INVALID, "thread_ids[1]:")
    await expect_error(ask(threads, owner, str(uuid.uuid4()), "nope"), INVALID, "thread_ids[1]:")
    too_many = [str(uuid.uuid4()) for _ in range(101)]
    await expect_error(ask(threads, owner, *too_many), INVALID, "thread_ids:", "101")
    assert list((await ask(threads, owner, *too_many[:100])).threads) == []


async def test_only_chat_calls_and_always_as_someone(threads):
    owner = await threads.platform.user("olga")
    thread_id = (await threads.create(owner, await threads.platform.create_org(owner))).id
    for service in ("gateway", "agents-orchestrator", "files", None):
        await expect_error(ask(threads, owner, thread_id, service=service), DENIED)
    error = await expect_error(ask(threads, None, thread_id), UNAUTHENTICATED)
    assert error.details() == "identity not available"
    bad = (("x-agyn-caller", "chat"), ("x-identity-id", "not-a-uuid"))
    await expect_error(
        threads.access.GetParticipantThreads(
            access_pb2.GetParticipantThreadsRequest(thread_ids=[thread_id]), metadata=bad
        ),
        UNAUTHENTICATED,
    )
