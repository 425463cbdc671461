"""The main path: create, send, read, ack; and the envelope each recipient's room gets."""

from __future__ import annotations

from agyn_inprocess.threads import pb
from agyn_testkit.calls import metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2


async def test_create_send_read_and_ack(threads, nats):
    platform = threads.platform
    owner, friend = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    await platform.join(owner, org, friend)

    thread = await threads.create(owner, org, friend)
    assert [p.id for p in thread.participants] == [str(owner), str(friend)]
    assert thread.status == pb.THREAD_STATUS_ACTIVE and thread.organization_id == org

    message = await threads.send(owner, thread.id, "hi fred")
    counts = await threads.stub.GetUnackedMessageCounts(
        pb.GetUnackedMessageCountsRequest(), metadata=metadata(friend)
    )
    assert dict(counts.counts_by_thread_id) == {thread.id: 1}
    unacked = await threads.stub.GetUnackedMessages(
        pb.GetUnackedMessagesRequest(participant_id=str(friend)), metadata=metadata(friend)
    )
    assert [m.id for m in unacked.messages] == [message.id]
    acked = await threads.stub.AckMessages(
        pb.AckMessagesRequest(participant_id=str(friend), message_ids=[message.id, message.id]),
        metadata=metadata(friend),
    )
    assert acked.acked_count == 1
    again = await threads.stub.AckMessages(
        pb.AckMessagesRequest(message_ids=[message.id]), metadata=metadata(friend)
    )
    assert again.acked_count == 0
    listed = await threads.stub.GetMessages(
        pb.GetMessagesRequest(thread_id=thread.id), metadata=metadata(friend)
    )
    assert [m.body for m in listed.messages] == ["hi fred"]

    subject = f"agyn.rooms.thread_participant.{friend}"
    (stored,) = await read_events(
        nats.url, subject, lambda got: len(got) >= 1, decode=notifications_pb2.NotificationEnvelope.FromString
    )
    assert stored.event == "message.created" and list(stored.rooms) == [f"thread_participant:{friend}"]
    assert dict(stored.payload) == {"thread_id": thread.id, "message_id": message.id}
    assert stored.ts == message.created_at  # stamped with the message's own time
