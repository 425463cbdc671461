"""Who may call what: identities, calling workloads, self-only read state, and notification rooms."""

from __future__ import annotations

import uuid

import grpc
from agyn_inprocess.threads import pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.identity.v1 import identity_pb2
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.organizations.v1 import access_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


async def setup(threads):
    platform = threads.platform
    owner, fred = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    thread = await threads.create(owner, org, fred)
    message = await threads.send(owner, thread.id, "hello")
    return org, owner, fred, thread, message


def every_call(stub, org: str, thread_id: str, message_id: str, participant: str):
    """One valid request per RPC, as (name, callable taking the metadata)."""
    return [
        (
            "CreateThread",
            lambda md: stub.CreateThread(pb.CreateThreadRequest(organization_id=org), metadata=md),
        ),
        (
            "ArchiveThread",
            lambda md: stub.ArchiveThread(pb.ArchiveThreadRequest(thread_id=thread_id), metadata=md),
        ),
        (
            "DegradeThread",
            lambda md: stub.DegradeThread(pb.DegradeThreadRequest(thread_id=thread_id), metadata=md),
        ),
        (
            "AddParticipant",
            lambda md: stub.AddParticipant(
                pb.AddParticipantRequest(thread_id=thread_id, participant_id=participant), metadata=md
            ),
        ),
        (
            "SendMessage",
            lambda md: stub.SendMessage(pb.SendMessageRequest(thread_id=thread_id, body="x"), metadata=md),
        ),
        ("GetThreads", lambda md: stub.GetThreads(pb.GetThreadsRequest(), metadata=md)),
        (
            "ListOrganizationThreads",
            lambda md: stub.ListOrganizationThreads(
                pb.ListOrganizationThreadsRequest(organization_id=org), metadata=md
            ),
        ),
        (
            "GetOrganizationThreads",
            lambda md: stub.GetOrganizationThreads(
                pb.GetOrganizationThreadsRequest(organization_id=org), metadata=md
            ),
        ),
        ("GetThread", lambda md: stub.GetThread(pb.GetThreadRequest(thread_id=thread_id), metadata=md)),
        ("GetMessages", lambda md: stub.GetMessages(pb.GetMessagesRequest(thread_id=thread_id), metadata=md)),
        (
            "GetUnackedMessages",
            lambda md: stub.GetUnackedMessages(pb.GetUnackedMessagesRequest(), metadata=md),
        ),
        (
            "GetUnackedMessageCounts",
            lambda md: stub.GetUnackedMessageCounts(pb.GetUnackedMessageCountsRequest(), metadata=md),
        ),
        (
            "AckMessages",
            lambda md: stub.AckMessages(pb.AckMessagesRequest(message_ids=[message_id]), metadata=md),
        ),
    ]


async def test_every_rpc_needs_an_identity_and_a_known_workload(threads):
    org, owner, fred, thread, message = await setup(threads)
    calls = every_call(threads.stub, org, thread.id, message.id, str(fred))
    assert len(calls) == 13
    for name, call in calls:
        error = await expect_error(call(metadata()), UNAUTHENTICATED)  # the gateway, without an identity
        assert error.details() == "identity not available", name
        await expect_error(call(metadata(owner, caller=None)), DENIED, "calling workload not identified")
        await expect_error(call(metadata(owner, caller="files")), DENIED, "files may not call")
        bad = (("x-agyn-caller", "gateway"), ("x-identity-id", "not-a-uuid"))
        await expect_error(call(bad), UNAUTHENTICATED)
    # Nothing above changed the thread.
    current = await threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread.id), metadata=metadata(owner))
    assert current.thread.status == pb.THREAD_STATUS_ACTIVE and current.thread.message_count == 1


async def test_chat_and_orchestrator_reach_only_their_methods(threads):
    org, owner, fred, thread, message = await setup(threads)
    calls = dict(every_call(threads.stub, org, thread.id, message.id, str(fred)))
    chat_refused = {"DegradeThread", "ListOrganizationThreads", "GetOrganizationThreads"}
    orchestrator_allowed = {"GetThreads", "GetThread", "GetUnackedMessages"}
    for name, call in calls.items():
        if name in chat_refused:
            await expect_error(call(metadata(owner, caller="chat")), DENIED, "chat may not call")
        if name not in orchestrator_allowed and name != "DegradeThread":
            await expect_error(
                call(metadata(fred, caller="agents-orchestrator")), DENIED, "agents-orchestrator may not call"
            )

    # Chat acts for the end user.
    as_chat = metadata(fred, caller="chat")
    created = await threads.stub.CreateThread(pb.CreateThreadRequest(organization_id=org), metadata=as_chat)
    assert [p.id for p in created.thread.participants] == [str(fred)]
    sent = await threads.stub.SendMessage(
        pb.SendMessageRequest(thread_id=thread.id, body="via chat"), metadata=as_chat
    )
    assert sent.message.sender_id == str(fred)
    acked = await threads.stub.AckMessages(pb.AckMessagesRequest(message_ids=[message.id]), metadata=as_chat)
    assert acked.acked_count == 1

    # The orchestrator reads for the identity it carries.
    as_orchestrator = metadata(owner, caller="agents-orchestrator")
    mine = await threads.stub.GetThreads(pb.GetThreadsRequest(), metadata=as_orchestrator)
    assert [t.id for t in mine.threads] == [thread.id]
    got = await threads.stub.GetThread(pb.GetThreadRequest(thread_id=thread.id), metadata=as_orchestrator)
    assert got.thread.id == thread.id
    unacked = await threads.stub.GetUnackedMessages(pb.GetUnackedMessagesRequest(), metadata=as_orchestrator)
    assert [m.id for m in unacked.messages] == [sent.message.id]
    await expect_error(
        threads.stub.GetThreads(pb.GetThreadsRequest(), metadata=metadata(caller="agents-orchestrator")),
        UNAUTHENTICATED,
    )


async def test_read_state_is_ones_own(threads):
    _, owner, fred, thread, message = await setup(threads)
    stub = threads.stub
    other, mine = str(owner), str(fred)
    requests = [
        (stub.GetThreads, pb.GetThreadsRequest),
        (stub.GetUnackedMessages, pb.GetUnackedMessagesRequest),
        (stub.GetUnackedMessageCounts, pb.GetUnackedMessageCountsRequest),
    ]
    for method, request in requests:
        await expect_error(
            method(request(participant_id=other), metadata=metadata(fred)), DENIED, "participant_id"
        )
        await expect_error(
            method(request(participant_id="bob"), metadata=metadata(fred)), INVALID, "participant_id:"
        )
        await method(request(participant_id=f" {mine.upper()} "), metadata=metadata(fred))
    await expect_error(
        stub.AckMessages(
            pb.AckMessagesRequest(participant_id=other, message_ids=[message.id]), metadata=metadata(fred)
        ),
        DENIED,
        "participant_id",
    )
    # The refused ack did not ack fred's message.
    counts = await stub.GetUnackedMessageCounts(pb.GetUnackedMessageCountsRequest(), metadata=metadata(fred))
    assert dict(counts.counts_by_thread_id) == {thread.id: 1}


async def test_recipients_are_every_participant_but_the_sender(threads, nats):
    """Passive participants are recipients; a non-participant sender with thread_write excludes no one."""
    platform = threads.platform
    org, owner, fred, thread, _ = await setup(threads)
    mia = await platform.user("mia")
    await platform.join(owner, org, mia)
    app = uuid.uuid4()
    await platform.users.identity.RegisterIdentity(
        identity_pb2.RegisterIdentityRequest(
            identity_id=str(app), identity_type=identity_pb2.IDENTITY_TYPE_APP
        ),
        metadata=metadata(caller="apps"),
    )
    await platform.access.WriteOrganizationGrants(
        access_pb2.WriteOrganizationGrantsRequest(
            writes=[
                access_pb2.OrganizationGrant(
                    identity_id=str(app), organization_id=org, relation="thread_write"
                )
            ]
        ),
        metadata=metadata(caller="apps"),
    )
    added = await threads.stub.AddParticipant(
        pb.AddParticipantRequest(
            thread_id=thread.id, participant=pb.ParticipantIdentifier(participant_id=str(mia)), passive=True
        ),
        metadata=metadata(owner),
    )
    assert [(p.id, p.passive) for p in added.thread.participants][-1] == (str(mia), True)

    by_fred = await threads.send(fred, thread.id, "from fred")
    by_app = await threads.send(app, thread.id, "from the app")

    def about(envelopes, message_id):
        return [e for e in envelopes if "message_id" in e.payload and e.payload["message_id"] == message_id]

    expected = {
        by_fred.id: sorted(f"thread_participant:{p}" for p in (owner, mia)),
        by_app.id: sorted(f"thread_participant:{p}" for p in (owner, fred, mia)),
    }
    envelopes = await read_events(
        nats.url,
        "agyn.rooms.thread_participant.>",
        lambda got: all(len(about(got, m)) >= len(rooms) for m, rooms in expected.items()),
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    for message_id, rooms in expected.items():
        copies = about(envelopes, message_id)  # one copy per room's subject, each naming every room
        assert len(copies) == len(rooms) and len({e.id for e in copies}) == 1
        assert all(sorted(e.rooms) == rooms for e in copies)
        assert all(
            e.event == "message.created" and e.source == "threads" for e in about(envelopes, message_id)
        )
    for reader, count in ((owner, 2), (fred, 2), (mia, 2)):
        counts = await threads.stub.GetUnackedMessageCounts(
            pb.GetUnackedMessageCountsRequest(), metadata=metadata(reader)
        )
        assert dict(counts.counts_by_thread_id) == {thread.id: count}, reader
