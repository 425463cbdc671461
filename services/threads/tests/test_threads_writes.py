"""Thread writes: CreateThread, ArchiveThread, DegradeThread, AddParticipant and SendMessage."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import sqlalchemy as sa
from agyn_inprocess.threads import in_process_threads, pb
from agyn_testkit.calls import expect_error, metadata
from agyn_threads.models import threads as threads_table
from agynio.api.identity.v1 import identity_pb2
from agynio.api.organizations.v1 import access_pb2
from google.rpc import error_details_pb2, status_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


def by_id(value) -> pb.ParticipantIdentifier:
    return pb.ParticipantIdentifier(participant_id=str(value))


def by_nickname(value: str) -> pb.ParticipantIdentifier:
    return pb.ParticipantIdentifier(participant_nickname=value)


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = status_pb2.Status.FromString(dict(error.trailing_metadata())["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


async def register(platform, kind: int) -> uuid.UUID:
    identity = uuid.uuid4()
    await platform.users.identity.RegisterIdentity(
        identity_pb2.RegisterIdentityRequest(identity_id=str(identity), identity_type=kind),
        metadata=metadata(caller="agents"),
    )
    return identity


async def grant(platform, identity: uuid.UUID, org: str, *relations: str) -> None:
    await platform.access.WriteOrganizationGrants(
        access_pb2.WriteOrganizationGrantsRequest(
            writes=[
                access_pb2.OrganizationGrant(
                    identity_id=str(identity), organization_id=org, relation=relation
                )
                for relation in relations
            ]
        ),
        metadata=metadata(caller="apps"),
    )


async def stored_row(threads, thread_id: str):
    async with threads.service.runtime.db.transaction() as connection:
        return (
            await connection.execute(
                sa.select(threads_table).where(threads_table.c.id == uuid.UUID(thread_id))
            )
        ).one()


# --- CreateThread ----------------------------------------------------------------------------


async def test_create_thread_with_ids_and_nicknames_returns_the_thread(threads):
    platform = threads.platform
    owner, fred, bob, carl = [await platform.user(name) for name in ("olga", "fred", "bob", "carl")]
    org = await platform.create_org(owner)
    for member in (fred, bob, carl):
        await platform.join(owner, org, member)
    bob_handle, carl_handle = await platform.username(bob), await platform.username(carl)

    reply = await threads.stub.CreateThread(
        pb.CreateThreadRequest(
            organization_id=org,
            participants=[by_id(fred), by_nickname(f"@{bob_handle}"), by_nickname(f" {carl_handle} ")],
        ),
        metadata=metadata(owner),
    )
    thread = reply.thread
    uuid.UUID(thread.id)
    assert [p.id for p in thread.participants] == [str(owner), str(fred), str(bob), str(carl)]
    assert [p.passive for p in thread.participants] == [False] * 4
    assert all(p.HasField("joined_at") for p in thread.participants)
    assert thread.status == pb.THREAD_STATUS_ACTIVE
    assert thread.organization_id == org and thread.message_count == 0
    assert thread.created_at == thread.updated_at and thread.HasField("created_at")

    # The initiator alone; the deprecated participant_ids; the organization from x-organization-id.
    alone = await threads.stub.CreateThread(
        pb.CreateThreadRequest(), metadata=metadata(owner, x_organization_id=org)
    )
    assert [p.id for p in alone.thread.participants] == [str(owner)] and alone.thread.organization_id == org
    legacy = await threads.stub.CreateThread(
        pb.CreateThreadRequest(organization_id=org, participant_ids=[f" {fred} "]), metadata=metadata(owner)
    )
    assert [p.id for p in legacy.thread.participants] == [str(owner), str(fred)]
    # 99 listed participants is the limit (identity existence is not checked).
    most = await threads.create(owner, org, *(uuid.uuid4() for _ in range(99)))
    assert len(most.participants) == 100


async def test_create_thread_validation_names_the_field(threads):
    platform = threads.platform
    owner, fred = await platform.user("olga"), await platform.user("fred")
    olga_handle, fred_handle = await platform.username(owner), await platform.username(fred)
    org, other_org = await platform.create_org(owner), await platform.create_org(owner, "Other")
    await platform.join(owner, org, fred)

    def create(*participants, caller=owner, extra=None, **fields):
        return threads.stub.CreateThread(
            pb.CreateThreadRequest(participants=list(participants), **fields),
            metadata=metadata(caller, **(extra or {})),
        )

    cases = [
        (
            create(by_id(fred), organization_id=org, participant_ids=[str(fred)]),
            INVALID,
            "participants:",
            "exclusive",
        ),
        (
            create(*(by_id(uuid.uuid4()) for _ in range(100)), organization_id=org),
            INVALID,
            "participants:",
            "99",
        ),
        (create(by_id(fred), by_id("nope"), organization_id=org), INVALID, "participants[1].participant_id:"),
        (create(pb.ParticipantIdentifier(), organization_id=org), INVALID, "participants[0]:"),
        (create(by_nickname(" @ "), organization_id=org), INVALID, "participants[0].participant_nickname:"),
        (create(organization_id=org, participant_ids=["x"]), INVALID, "participant_ids[0]:"),
        (create(by_id(owner), organization_id=org), INVALID, "participants:", "initiator"),
        (create(by_nickname(olga_handle), organization_id=org), INVALID, "participants:", "initiator"),
        (
            create(by_id(fred), by_nickname(f"@{fred_handle}"), organization_id=org),
            INVALID,
            "participants:",
            "duplicate",
        ),
        (create(by_id(fred)), INVALID, "organization_id:", "must be provided"),
        (create(by_nickname(fred_handle)), INVALID, "organization_id:", "participant_nickname"),
        (create(organization_id="acme"), INVALID, "organization_id:"),
        (create(organization_id=org, extra={"x_organization_id": other_org}), INVALID, "does not match"),
        (create(extra={"x_organization_id": "acme"}), INVALID, "x-organization-id:"),
        (create(by_nickname("@nobody"), organization_id=org), NOT_FOUND, "@nobody"),
    ]
    for call, code, *fragments in cases:
        await expect_error(call, code, *fragments)


async def test_create_thread_denials_and_agent_participants(threads):
    platform = threads.platform
    owner, stranger = await platform.user("olga"), await platform.user("sam")
    org = await platform.create_org(owner)
    await platform.create_org(stranger, "Elsewhere")
    agent = await register(platform, identity_pb2.IDENTITY_TYPE_AGENT)

    await expect_error(threads.create(stranger, org), DENIED, "can_create_thread")
    await expect_error(
        threads.stub.CreateThread(pb.CreateThreadRequest(organization_id=org), metadata=metadata()),
        UNAUTHENTICATED,
    )
    await expect_error(
        threads.stub.CreateThread(
            pb.CreateThreadRequest(organization_id=org),
            metadata=metadata(owner, caller="agents-orchestrator"),
        ),
        DENIED,
        "may not call",
    )
    # An agent identity Agents does not know holds no relation on it (agent participants:
    # test_agent_participants.py).
    await expect_error(threads.create(owner, org, agent), DENIED, "can_initiate")
    # Nothing was created by the refused calls.
    mine = await threads.stub.GetThreads(pb.GetThreadsRequest(), metadata=metadata(owner))
    assert list(mine.threads) == []


async def test_agent_initiator_is_passive_and_grants_allow_creating(threads):
    platform = threads.platform
    owner, fred = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    agent = await register(platform, identity_pb2.IDENTITY_TYPE_AGENT)
    app = await register(platform, identity_pb2.IDENTITY_TYPE_APP)
    await grant(platform, agent, org, "thread_create")
    await grant(platform, app, org, "thread_create")

    by_agent = await threads.stub.CreateThread(
        pb.CreateThreadRequest(organization_id=org, participants=[by_id(fred)]),
        metadata=metadata(agent, identity_type="agent"),
    )
    assert [(p.id, p.passive) for p in by_agent.thread.participants] == [
        (str(agent), True),
        (str(fred), False),
    ]
    by_app = await threads.create(app, org, fred)
    assert [(p.id, p.passive) for p in by_app.participants] == [(str(app), False), (str(fred), False)]


# --- ArchiveThread ---------------------------------------------------------------------------


async def test_archive_thread_authorization_and_state(threads):
    platform = threads.platform
    owner, fred, mia = await platform.user("olga"), await platform.user("fred"), await platform.user("mia")
    stranger = await platform.user("sam")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    await platform.join(owner, org, mia)

    def archive(caller, thread_id):
        return threads.stub.ArchiveThread(
            pb.ArchiveThreadRequest(thread_id=thread_id), metadata=metadata(caller)
        )

    by_participant = await threads.create(owner, org, fred)
    await threads.send(owner, by_participant.id, "before")
    await expect_error(
        archive(mia, by_participant.id), DENIED, "permission denied"
    )  # member, not participant
    await expect_error(archive(stranger, by_participant.id), DENIED)
    archived = (await archive(fred, by_participant.id)).thread  # a participant who is not an owner
    assert archived.status == pb.THREAD_STATUS_ARCHIVED and archived.id == by_participant.id
    assert archived.message_count == 1 and len(archived.participants) == 2
    assert archived.updated_at.ToDatetime() >= by_participant.updated_at.ToDatetime()
    again = (await archive(fred, by_participant.id)).thread  # idempotent
    assert again.status == pb.THREAD_STATUS_ARCHIVED
    assert again.updated_at.ToDatetime() >= archived.updated_at.ToDatetime()
    assert (await stored_row(threads, archived.id)).archived_at is not None

    # The organization's owner archives a thread it is not in.
    fred_and_mia = await threads.create(fred, org, mia)
    assert (await archive(owner, fred_and_mia.id)).thread.status == pb.THREAD_STATUS_ARCHIVED

    refused = await expect_error(threads.send(owner, by_participant.id), PRECONDITION, "thread is archived")
    assert error_info(refused).reason == "THREAD_ARCHIVED"
    await expect_error(
        threads.stub.AddParticipant(
            pb.AddParticipantRequest(thread_id=by_participant.id, participant=by_id(mia)),
            metadata=metadata(owner),
        ),
        PRECONDITION,
        "thread is archived",
    )
    # Reads still work on an archived thread.
    listed = await threads.stub.GetMessages(
        pb.GetMessagesRequest(thread_id=by_participant.id), metadata=metadata(fred)
    )
    assert [m.body for m in listed.messages] == ["before"]

    await expect_error(archive(owner, str(uuid.uuid4())), NOT_FOUND, "thread not found")
    await expect_error(archive(owner, "abc"), INVALID, "thread_id:")
    await expect_error(archive(owner, ""), INVALID, "thread_id:")


# --- DegradeThread ---------------------------------------------------------------------------


async def test_degrade_thread_by_the_orchestrator_state_machine(threads):
    platform = threads.platform
    owner, fred, mia = await platform.user("olga"), await platform.user("fred"), await platform.user("mia")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    await platform.join(owner, org, mia)
    orchestrator = metadata(caller="agents-orchestrator")

    def degrade(thread_id, reason=""):
        return threads.stub.DegradeThread(
            pb.DegradeThreadRequest(thread_id=thread_id, reason=reason), metadata=orchestrator
        )

    thread = await threads.create(owner, org, fred)
    degraded = (await degrade(thread.id, " runner_deprovisioned ")).thread
    assert degraded.status == pb.THREAD_STATUS_DEGRADED and degraded.id == thread.id
    assert [p.id for p in degraded.participants] == [str(owner), str(fred)]
    row = await stored_row(threads, thread.id)
    assert row.degraded_reason == "runner_deprovisioned" and row.degraded_at is not None

    again = (await degrade(thread.id, "volume_lost")).thread  # unchanged, reason kept
    assert again.status == pb.THREAD_STATUS_DEGRADED and again.updated_at == degraded.updated_at
    assert (await stored_row(threads, thread.id)).degraded_reason == "runner_deprovisioned"

    refused = await expect_error(threads.send(owner, thread.id), PRECONDITION, "thread is degraded")
    assert error_info(refused).reason == "THREAD_DEGRADED"
    added = await threads.stub.AddParticipant(  # adding participants still works
        pb.AddParticipantRequest(thread_id=thread.id, participant=by_id(mia)), metadata=metadata(owner)
    )
    assert [p.id for p in added.thread.participants][-1] == str(mia)

    archived = await threads.stub.ArchiveThread(
        pb.ArchiveThreadRequest(thread_id=thread.id), metadata=metadata(fred)
    )
    assert archived.thread.status == pb.THREAD_STATUS_ARCHIVED  # degraded → archived
    assert (await degrade(thread.id)).thread.status == pb.THREAD_STATUS_ARCHIVED  # archived wins

    no_reason = await threads.create(owner, org)
    assert (await degrade(no_reason.id)).thread.status == pb.THREAD_STATUS_DEGRADED
    assert (await stored_row(threads, no_reason.id)).degraded_reason is None

    await expect_error(degrade(str(uuid.uuid4())), NOT_FOUND, "thread not found")
    await expect_error(degrade("x"), INVALID, "thread_id:")
    await expect_error(degrade(thread.id, "r" * 1025), INVALID, "reason:")


async def test_degrade_thread_through_the_gateway_needs_can_manage_organization(threads):
    platform = threads.platform
    owner, fred, admin = await platform.user("olga"), await platform.user("fred"), await platform.admin()
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)

    def degrade(thread_id, md):
        return threads.stub.DegradeThread(pb.DegradeThreadRequest(thread_id=thread_id), metadata=md)

    first, second = await threads.create(owner, org, fred), await threads.create(owner, org, fred)
    await expect_error(degrade(first.id, metadata(fred)), DENIED, "can_manage_organization")  # participant
    await expect_error(degrade(first.id, metadata()), UNAUTHENTICATED)
    await expect_error(degrade(first.id, metadata(owner, caller="chat")), DENIED, "may not call")
    assert (await degrade(first.id, metadata(owner))).thread.status == pb.THREAD_STATUS_DEGRADED
    assert (await degrade(second.id, metadata(admin))).thread.status == pb.THREAD_STATUS_DEGRADED


# --- AddParticipant --------------------------------------------------------------------------


async def test_add_participant_by_id_and_nickname_passive_and_idempotent(threads):
    platform = threads.platform
    owner, fred, bob, carl, dave = [await platform.user(n) for n in ("olga", "fred", "bob", "carl", "dave")]
    org = await platform.create_org(owner)
    for member in (fred, bob, carl, dave):
        await platform.join(owner, org, member)
    thread = await threads.create(owner, org, fred)

    def add(caller=fred, **fields):
        return threads.stub.AddParticipant(
            pb.AddParticipantRequest(thread_id=thread.id, **fields), metadata=metadata(caller)
        )

    bob_handle, dave_handle = await platform.username(bob), await platform.username(dave)
    with_bob = (
        await add(participant=by_nickname(f"@{bob_handle}"), passive=True)
    ).thread  # by a non-owner participant
    assert [(p.id, p.passive) for p in with_bob.participants] == [
        (str(owner), False),
        (str(fred), False),
        (str(bob), True),
    ]
    assert with_bob.updated_at.ToDatetime() > thread.updated_at.ToDatetime()
    readded = (await add(participant=by_id(bob), passive=False)).thread  # nothing changes
    assert [(p.id, p.passive) for p in readded.participants] == [
        (p.id, p.passive) for p in with_bob.participants
    ]
    assert readded.updated_at == with_bob.updated_at
    with_carl = (await add(participant_id=f" {carl} ")).thread  # deprecated field
    with_dave = (await add(participant=by_nickname(dave_handle), organization_id=org)).thread
    assert [p.id for p in with_dave.participants] == [str(owner), str(fred), str(bob), str(carl), str(dave)]
    assert with_carl.participants[3].passive is False

    # The passive participant still gets unread rows; the sender gets none.
    message = await threads.send(fred, thread.id, "hi all")
    for reader in (owner, bob, carl, dave):
        counts = await threads.stub.GetUnackedMessageCounts(
            pb.GetUnackedMessageCountsRequest(), metadata=metadata(reader)
        )
        assert dict(counts.counts_by_thread_id) == {thread.id: 1}
    mine = await threads.stub.GetUnackedMessageCounts(
        pb.GetUnackedMessageCountsRequest(), metadata=metadata(fred)
    )
    assert dict(mine.counts_by_thread_id) == {}
    own_ack = await threads.stub.AckMessages(
        pb.AckMessagesRequest(message_ids=[message.id]), metadata=metadata(fred)
    )
    assert own_ack.acked_count == 0


async def test_add_participant_validation_and_denials(threads):
    platform = threads.platform
    owner, fred, mia = await platform.user("olga"), await platform.user("fred"), await platform.user("mia")
    org, other_org = await platform.create_org(owner), await platform.create_org(owner, "Other")
    await platform.join(owner, org, fred)
    await platform.join(owner, org, mia)
    agent = await register(platform, identity_pb2.IDENTITY_TYPE_AGENT)
    thread = await threads.create(owner, org, fred)

    def add(caller=owner, thread_id=thread.id, extra=None, **fields):
        return threads.stub.AddParticipant(
            pb.AddParticipantRequest(thread_id=thread_id, **fields),
            metadata=metadata(caller, **(extra or {})),
        )

    cases = [
        (add(), INVALID, "participant:", "must be provided"),
        (add(participant=pb.ParticipantIdentifier()), INVALID, "participant:"),
        (add(participant=by_id("x")), INVALID, "participant.participant_id:"),
        (add(participant_id="x"), INVALID, "participant_id:"),
        (add(participant=by_nickname("@")), INVALID, "participant.participant_nickname:"),
        (add(participant=by_nickname("@nobody")), NOT_FOUND, "@nobody"),
        (add(thread_id="x", participant=by_id(mia)), INVALID, "thread_id:"),
        (add(thread_id=str(uuid.uuid4()), participant=by_id(mia)), NOT_FOUND, "thread not found"),
        (add(caller=mia, participant=by_id(mia)), DENIED, "permission denied"),  # member, not participant
        (
            add(participant=by_nickname("mia"), organization_id=org, extra={"x_organization_id": other_org}),
            INVALID,
            "does not match",
        ),
    ]
    for call, code, *fragments in cases:
        await expect_error(call, code, *fragments)
    await expect_error(add(participant=by_id(agent)), DENIED, "can_initiate")
    current = await threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread.id), metadata=metadata(owner))
    assert [p.id for p in current.thread.participants] == [str(owner), str(fred)]


async def test_add_participant_nickname_resolves_in_the_thread_organization(threads):
    """`@nickname` names a participant in the thread's organization (README), not in another one."""
    platform = threads.platform
    owner, fred, zoe = await platform.user("olga"), await platform.user("fred"), await platform.user("zoe")
    org, other_org = await platform.create_org(owner), await platform.create_org(owner, "Other")
    await platform.join(owner, org, fred)
    await platform.join(owner, other_org, zoe)  # @zoe exists only in the other organization
    thread = await threads.create(owner, org, fred)

    await expect_error(
        threads.stub.AddParticipant(
            pb.AddParticipantRequest(
                thread_id=thread.id, participant=by_nickname("@zoe"), organization_id=other_org
            ),
            metadata=metadata(owner),
        ),
        INVALID,
        "organization_id",
    )


# --- SendMessage -----------------------------------------------------------------------------


async def test_send_message_fields_limits_and_counters(threads, files):
    platform = threads.platform
    owner, fred, mia = await platform.user("olga"), await platform.user("fred"), await platform.user("mia")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    await platform.join(owner, org, mia)
    thread = await threads.create(owner, org, fred)
    uploaded = [files.upload(owner, f"file {i}".encode()) for i in range(32)]
    file_ids = [stored.id for stored in await asyncio.gather(*uploaded)]
    unknown_file = str(uuid.uuid4())

    def send(caller=owner, thread_id=thread.id, **fields):
        return threads.stub.SendMessage(
            pb.SendMessageRequest(thread_id=thread_id, **fields), metadata=metadata(caller)
        )

    sent = (await send(body="hello", file_ids=file_ids, sender_id=str(owner))).message
    uuid.UUID(sent.id)
    assert (sent.thread_id, sent.sender_id, sent.body) == (thread.id, str(owner), "hello")
    assert list(sent.file_ids) == file_ids and sent.HasField("created_at")
    files_only = (await send(caller=fred, file_ids=[file_ids[0].upper()])).message
    assert files_only.body == "" and list(files_only.file_ids) == [file_ids[0]]  # canonical lowercase
    largest = (await send(body="é" * (128 * 1024))).message  # exactly 256 KiB of UTF-8
    assert len(largest.body.encode()) == 256 * 1024

    current = (
        await threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread.id), metadata=metadata(owner))
    ).thread
    assert current.message_count == 3
    assert current.updated_at.ToDatetime() >= largest.created_at.ToDatetime() > thread.updated_at.ToDatetime()

    cases = [
        (send(), INVALID, "body:", "body or file_ids"),
        (send(body="é" * (128 * 1024) + "x"), INVALID, "body:"),
        (send(file_ids=[*file_ids, str(uuid.uuid4())]), INVALID, "file_ids:"),
        (send(file_ids=[file_ids[0], "nope"]), INVALID, "file_ids[1]:"),
        (send(file_ids=[file_ids[0], unknown_file]), NOT_FOUND, f"file {unknown_file} not found"),
        (send(thread_id="x", body="hi"), INVALID, "thread_id:"),
        (send(body="hi", sender_id="x"), INVALID, "sender_id:"),
        (send(body="hi", sender_id=str(fred)), DENIED, "sender_id"),
        (send(thread_id=str(uuid.uuid4()), body="hi"), NOT_FOUND, "thread not found"),
        (send(caller=mia, body="hi"), DENIED, "permission denied"),  # member, not participant
    ]
    for call, code, *fragments in cases:
        await expect_error(call, code, *fragments)
    after = (
        await threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread.id), metadata=metadata(owner))
    ).thread
    assert after.message_count == 3


async def test_files_away_refuses_messages_naming_files_and_stores_none(platform, database_factory, nats):
    owner, fred = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    async with in_process_threads(platform, database_factory, nats.url) as threads:
        thread = await threads.create(owner, org, fred)
        refused = await expect_error(
            threads.stub.SendMessage(
                pb.SendMessageRequest(thread_id=thread.id, body="see", file_ids=[str(uuid.uuid4())]),
                metadata=metadata(owner),
            ),
            grpc.StatusCode.UNAVAILABLE,
            "files",
        )
        assert b"DEPENDENCY_UNAVAILABLE" in dict(refused.trailing_metadata())["grpc-status-details-bin"]
        # A message without files needs no answer from Files.
        await threads.send(owner, thread.id, "plain")
        stored = await threads.stub.GetThread(
            pb.GetThreadRequest(thread_id=thread.id), metadata=metadata(owner)
        )
        assert stored.thread.message_count == 1


async def test_app_grants_write_without_participation_and_add_participants(threads):
    platform = threads.platform
    owner, fred, mia = await platform.user("olga"), await platform.user("fred"), await platform.user("mia")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    await platform.join(owner, org, mia)
    writer = await register(platform, identity_pb2.IDENTITY_TYPE_APP)
    adder = await register(platform, identity_pb2.IDENTITY_TYPE_APP)
    nobody = await register(platform, identity_pb2.IDENTITY_TYPE_APP)
    await grant(platform, writer, org, "thread_write")
    await grant(platform, adder, org, "participant_add")
    thread = await threads.create(owner, org, fred)

    reminder = await threads.send(writer, thread.id, "reminder")
    assert reminder.sender_id == str(writer)
    for reader in (owner, fred):  # a non-participant sender excludes no participant
        unacked = await threads.stub.GetUnackedMessages(
            pb.GetUnackedMessagesRequest(), metadata=metadata(reader)
        )
        assert [m.id for m in unacked.messages] == [reminder.id]
    await expect_error(threads.send(adder, thread.id), DENIED, "permission denied")  # participant_add only
    await expect_error(threads.send(nobody, thread.id), DENIED, "permission denied")

    def add(caller, participant):
        return threads.stub.AddParticipant(
            pb.AddParticipantRequest(thread_id=thread.id, participant=by_id(participant)),
            metadata=metadata(caller),
        )

    await expect_error(add(writer, mia), DENIED, "permission denied")  # thread_write only
    added = (await add(adder, mia)).thread
    assert [p.id for p in added.participants] == [str(owner), str(fred), str(mia)]
    # Neither app became a participant, and neither can read the thread.
    for app in (writer, adder):
        await expect_error(
            threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread.id), metadata=metadata(app)), DENIED
        )
