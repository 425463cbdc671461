"""Thread reads: GetThread, GetThreads, GetMessages, unacked state, AckMessages, organization listings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from agyn_inprocess.threads import pb
from agyn_testkit.calls import expect_error, metadata
from agyn_threads.models import messages as messages_table
from agyn_threads.models import threads as threads_table
from agynio.api.identity.v1 import identity_pb2
from google.protobuf import timestamp_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
MISMATCH = "page_token does not match the request"
BASE = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


async def set_columns(threads, table, row_id: str, **values) -> None:
    """Pin stored timestamps so ties and exact bounds can be tested."""
    async with threads.service.runtime.db.transaction() as connection:
        await connection.execute(table.update().where(table.c.id == uuid.UUID(row_id)).values(**values))


def stamp(value: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


async def members(platform, *names: str):
    """An organization owned by the first user, every other user an active member."""
    people = [await platform.user(name) for name in names]
    org = await platform.create_org(people[0])
    for person in people[1:]:
        await platform.join(people[0], org, person)
    return org, people


# --- GetThread -------------------------------------------------------------------------------


async def test_get_thread_for_participants_and_organization_viewers(threads):
    platform = threads.platform
    org, (owner, fred, mia) = await members(platform, "olga", "fred", "mia")
    admin, stranger = await platform.admin(), await platform.user("sam")
    thread = await threads.create(fred, org, mia)  # the owner is not a participant

    def get(caller, thread_id=thread.id, caller_service="gateway"):
        return threads.stub.GetThread(
            pb.GetThreadRequest(thread_id=thread_id), metadata=metadata(caller, caller=caller_service)
        )

    for reader in (fred, mia, owner, admin):
        assert (await get(reader)).thread == thread
    assert (await get(mia, caller_service="agents-orchestrator")).thread.id == thread.id
    await expect_error(get(stranger), DENIED, "permission denied")
    await expect_error(get(owner, thread_id=str(uuid.uuid4())), NOT_FOUND, "thread not found")
    await expect_error(get(owner, thread_id="nope"), INVALID, "thread_id:")
    lone_member = await threads.create(owner, org)
    await expect_error(get(fred, thread_id=lone_member.id), DENIED)  # member, not participant


# --- GetThreads ------------------------------------------------------------------------------


async def test_get_threads_order_pagination_and_scope(threads):
    platform = threads.platform
    org, (owner, fred) = await members(platform, "olga", "fred")
    first, second, third = [await threads.create(owner, org, fred) for _ in range(3)]
    await threads.create(owner, org)  # fred is not in this one
    await threads.send(fred, first.id, "bump")  # most recently active now

    def page(caller=fred, **fields):
        return threads.stub.GetThreads(pb.GetThreadsRequest(**fields), metadata=metadata(caller))

    everything = await page(participant_id=str(fred))
    assert [t.id for t in everything.threads] == [first.id, third.id, second.id]
    assert everything.next_page_token == ""
    assert [p.id for p in everything.threads[0].participants] == [str(owner), str(fred)]
    assert everything.threads[0].message_count == 1

    one = await page(page_size=2)  # empty participant_id: the caller
    assert [t.id for t in one.threads] == [first.id, third.id] and one.next_page_token
    two = await page(page_size=2, page_token=one.next_page_token)
    assert [t.id for t in two.threads] == [second.id] and two.next_page_token == ""

    # Ties on updated_at break by id descending, across pages.
    for thread in (first, second, third):
        await set_columns(threads, threads_table, thread.id, updated_at=BASE)
    tied = sorted([first.id, second.id, third.id], reverse=True)
    one = await page(page_size=1)
    collected, token = [t.id for t in one.threads], one.next_page_token
    while token:
        more = await page(page_size=1, page_token=token)
        collected += [t.id for t in more.threads]
        token = more.next_page_token
    assert collected == tied

    await expect_error(page(participant_id=str(owner)), DENIED, "participant_id")
    await expect_error(page(participant_id="x"), INVALID, "participant_id:")
    await expect_error(page(page_token="not a token!"), INVALID, "invalid page_token")
    await expect_error(page(page_token="Zm9v"), INVALID, "invalid page_token")  # base64 of a foreign shape
    await expect_error(page(caller=owner, page_token=one.next_page_token), INVALID, MISMATCH)


# --- GetMessages -----------------------------------------------------------------------------


async def test_get_messages_order_ties_and_tokens(threads):
    platform = threads.platform
    org, (owner, fred) = await members(platform, "olga", "fred")
    thread, other = await threads.create(owner, org, fred), await threads.create(owner, org, fred)
    sent = [await threads.send(owner if i % 2 else fred, thread.id, f"m{i}") for i in range(5)]
    other_message = await threads.send(owner, other.id, "elsewhere")
    # m1..m3 share one instant: ties break by id (ascending oldest-first, descending newest-first).
    for message, offset in zip(sent, [0, 1, 1, 1, 5], strict=True):
        await set_columns(threads, messages_table, message.id, created_at=BASE + timedelta(seconds=offset))
    oldest = [sent[0].id, *sorted(m.id for m in sent[1:4]), sent[4].id]

    def get(order=0, thread_id=thread.id, caller=fred, **fields):
        return threads.stub.GetMessages(
            pb.GetMessagesRequest(thread_id=thread_id, order=order, **fields), metadata=metadata(caller)
        )

    async def walk(order):
        collected, token = [], ""
        while True:
            reply = await get(order, page_size=2, page_token=token)
            assert len(reply.messages) <= 2
            collected += [m.id for m in reply.messages]
            token = reply.next_page_token
            if not token:
                return collected

    assert [m.id for m in (await get()).messages] == oldest
    assert await walk(pb.MESSAGE_ORDER_OLDEST_FIRST) == oldest
    assert await walk(pb.MESSAGE_ORDER_NEWEST_FIRST) == oldest[::-1]
    full = (await get(pb.MESSAGE_ORDER_NEWEST_FIRST)).messages[0]
    assert (full.id, full.thread_id, full.sender_id, full.body) == (sent[4].id, thread.id, str(fred), "m4")
    assert full.created_at == stamp(BASE + timedelta(seconds=5))

    asc_token = (await get(pb.MESSAGE_ORDER_OLDEST_FIRST, page_size=1)).next_page_token
    assert (await get(0, page_size=1, page_token=asc_token)).messages[0].id == oldest[
        1
    ]  # unspecified = oldest
    await expect_error(get(pb.MESSAGE_ORDER_NEWEST_FIRST, page_token=asc_token), INVALID, MISMATCH)
    await expect_error(get(thread_id=other.id, page_token=asc_token), INVALID, MISMATCH)
    await expect_error(get(page_token="@@"), INVALID, "invalid page_token")
    await expect_error(get(order=7), INVALID, "order:")
    assert [m.id for m in (await get(thread_id=other.id)).messages] == [other_message.id]


async def test_get_messages_access_and_read_only(threads):
    platform = threads.platform
    org, (owner, fred, mia) = await members(platform, "olga", "fred", "mia")
    stranger = await platform.user("sam")
    thread = await threads.create(fred, org, mia)
    message = await threads.send(fred, thread.id, "hello")

    def get(caller, thread_id=thread.id):
        return threads.stub.GetMessages(pb.GetMessagesRequest(thread_id=thread_id), metadata=metadata(caller))

    for reader in (mia, owner):  # a participant, the organization's owner
        assert [m.id for m in (await get(reader)).messages] == [message.id]
    own = await threads.create(owner, org)
    await expect_error(get(fred, own.id), DENIED, "permission denied")  # member, not participant
    await expect_error(get(stranger), DENIED, "permission denied")
    await expect_error(get(owner, str(uuid.uuid4())), DENIED, "permission denied")  # unknown: not probed
    await expect_error(get(owner, "zz"), INVALID, "thread_id:")
    counts = await threads.stub.GetUnackedMessageCounts(
        pb.GetUnackedMessageCountsRequest(), metadata=metadata(mia)
    )
    assert dict(counts.counts_by_thread_id) == {thread.id: 1}  # reading acknowledges nothing


async def test_page_size_default_and_clamp(threads):
    platform = threads.platform
    org, (owner, fred) = await members(platform, "olga", "fred")
    thread = await threads.create(owner, org, fred)
    sent = [(await threads.send(owner, thread.id, f"m{i}")).id for i in range(101)]

    default = await threads.stub.GetMessages(
        pb.GetMessagesRequest(thread_id=thread.id), metadata=metadata(fred)
    )
    assert [m.id for m in default.messages] == sent[:50] and default.next_page_token
    negative = await threads.stub.GetMessages(
        pb.GetMessagesRequest(thread_id=thread.id, page_size=-3), metadata=metadata(fred)
    )
    assert len(negative.messages) == 50
    clamped = await threads.stub.GetMessages(
        pb.GetMessagesRequest(thread_id=thread.id, page_size=1000), metadata=metadata(fred)
    )
    assert [m.id for m in clamped.messages] == sent[:100] and clamped.next_page_token
    rest = await threads.stub.GetMessages(
        pb.GetMessagesRequest(thread_id=thread.id, page_size=1000, page_token=clamped.next_page_token),
        metadata=metadata(fred),
    )
    assert [m.id for m in rest.messages] == sent[100:] and rest.next_page_token == ""

    unacked = await threads.stub.GetUnackedMessages(pb.GetUnackedMessagesRequest(), metadata=metadata(fred))
    assert [m.id for m in unacked.messages] == sent[:50] and unacked.next_page_token
    unacked = await threads.stub.GetUnackedMessages(
        pb.GetUnackedMessagesRequest(page_size=500), metadata=metadata(fred)
    )
    assert [m.id for m in unacked.messages] == sent[:100] and unacked.next_page_token


# --- Unacked messages, counts and acks -------------------------------------------------------


async def test_unacked_messages_and_counts(threads):
    platform = threads.platform
    org, (owner, fred, mia) = await members(platform, "olga", "fred", "mia")
    first, second = await threads.create(owner, org, fred, mia), await threads.create(owner, org, fred)
    a = await threads.send(owner, first.id, "a")
    b = await threads.send(owner, second.id, "b")
    c = await threads.send(mia, first.id, "c")

    def unacked(caller=fred, **fields):
        return threads.stub.GetUnackedMessages(
            pb.GetUnackedMessagesRequest(**fields), metadata=metadata(caller)
        )

    def counts(caller=fred, **fields):
        return threads.stub.GetUnackedMessageCounts(
            pb.GetUnackedMessageCountsRequest(**fields), metadata=metadata(caller)
        )

    everything = await unacked(participant_id=str(fred))
    assert [m.id for m in everything.messages] == [a.id, b.id, c.id] and everything.next_page_token == ""
    assert everything.messages[2].sender_id == str(mia) and everything.messages[2].thread_id == first.id
    assert [m.id for m in (await unacked(thread_id=first.id)).messages] == [a.id, c.id]
    assert list((await unacked(thread_id=str(uuid.uuid4()))).messages) == []
    assert dict((await counts(participant_id=str(fred))).counts_by_thread_id) == {first.id: 2, second.id: 1}
    assert dict((await counts(mia)).counts_by_thread_id) == {first.id: 1}  # not her own message
    assert dict((await counts(owner)).counts_by_thread_id) == {first.id: 1}

    one = await unacked(page_size=1, thread_id=first.id)
    assert [m.id for m in one.messages] == [a.id] and one.next_page_token
    two = await unacked(page_size=1, thread_id=first.id, page_token=one.next_page_token)
    assert [m.id for m in two.messages] == [c.id] and two.next_page_token == ""
    await expect_error(unacked(page_token=one.next_page_token), INVALID, MISMATCH)  # without the thread
    await expect_error(unacked(mia, thread_id=first.id, page_token=one.next_page_token), INVALID, MISMATCH)
    await expect_error(unacked(page_token="%%"), INVALID, "invalid page_token")
    await expect_error(unacked(thread_id="x"), INVALID, "thread_id:")

    await threads.stub.AckMessages(pb.AckMessagesRequest(message_ids=[b.id]), metadata=metadata(fred))
    assert dict((await counts()).counts_by_thread_id) == {first.id: 2}  # zero counts are left out
    assert [m.id for m in (await unacked()).messages] == [a.id, c.id]
    # Archived threads keep their unread state.
    await threads.stub.ArchiveThread(pb.ArchiveThreadRequest(thread_id=first.id), metadata=metadata(owner))
    assert dict((await counts()).counts_by_thread_id) == {first.id: 2}


async def test_ack_messages_is_idempotent_and_validated(threads):
    platform = threads.platform
    org, (owner, fred) = await members(platform, "olga", "fred")
    thread = await threads.create(owner, org, fred)
    first, second = await threads.send(owner, thread.id, "1"), await threads.send(owner, thread.id, "2")
    mine = await threads.send(fred, thread.id, "3")

    def ack(*ids, caller=fred, **fields):
        return threads.stub.AckMessages(
            pb.AckMessagesRequest(message_ids=list(ids), **fields), metadata=metadata(caller)
        )

    assert (await ack(first.id, first.id.upper(), str(uuid.uuid4()), mine.id)).acked_count == 1
    assert (await ack(first.id, participant_id=str(fred))).acked_count == 0
    assert (await ack(*([second.id] * 1000))).acked_count == 1  # 1000 ids is the limit
    assert (await ack(mine.id, caller=owner)).acked_count == 1
    await expect_error(ack(), INVALID, "message_ids:")
    await expect_error(ack(*([first.id] * 1001)), INVALID, "message_ids:")
    await expect_error(ack(first.id, "x"), INVALID, "message_ids[1]:")
    await expect_error(ack(first.id, participant_id=str(owner)), DENIED, "participant_id")
    await expect_error(ack(first.id, participant_id="me"), INVALID, "participant_id:")
    counts = await threads.stub.GetUnackedMessageCounts(
        pb.GetUnackedMessageCountsRequest(), metadata=metadata(fred)
    )
    assert dict(counts.counts_by_thread_id) == {}


# --- ListOrganizationThreads -----------------------------------------------------------------


async def sorted_org(threads):
    """Five threads with ties in every sort key, and one in another organization."""
    platform = threads.platform
    org, (owner, fred, mia) = await members(platform, "olga", "fred", "mia")
    app = uuid.uuid4()
    await platform.users.identity.RegisterIdentity(
        identity_pb2.RegisterIdentityRequest(
            identity_id=str(app), identity_type=identity_pb2.IDENTITY_TYPE_APP
        ),
        metadata=metadata(caller="apps"),
    )
    made = [
        await threads.create(owner, org, fred),
        await threads.create(owner, org, mia),
        await threads.create(fred, org, mia),
        await threads.create(owner, org, fred, mia),
        await threads.create(mia, org),
    ]
    await threads.stub.AddParticipant(
        pb.AddParticipantRequest(
            thread_id=made[4].id, participant=pb.ParticipantIdentifier(participant_id=str(app))
        ),
        metadata=metadata(mia),
    )
    for index, count in enumerate([2, 0, 1, 0, 1]):
        for _ in range(count):
            await threads.send(made[index].participants[0].id, made[index].id)
    await threads.stub.ArchiveThread(pb.ArchiveThreadRequest(thread_id=made[1].id), metadata=metadata(owner))
    for index in (3, 4):
        await threads.stub.DegradeThread(
            pb.DegradeThreadRequest(thread_id=made[index].id), metadata=metadata(caller="agents-orchestrator")
        )
    created = [
        BASE,
        BASE + timedelta(seconds=1),
        BASE + timedelta(seconds=1),
        BASE + timedelta(seconds=1),
        BASE,
    ]
    updated = [BASE + timedelta(seconds=s) for s in (9, 7, 9, 8, 7)]
    for thread, created_at, updated_at in zip(made, created, updated, strict=True):
        await set_columns(threads, threads_table, thread.id, created_at=created_at, updated_at=updated_at)
    elsewhere = await platform.create_org(owner, "Elsewhere")
    await threads.create(owner, elsewhere, fred)
    return org, (owner, fred, mia, app), made


async def list_all(threads, caller, org, page_size=2, **fields):
    """Every page of a listing; checks each page's size and the empty token at the end."""
    collected, token = [], ""
    while True:
        reply = await threads.stub.ListOrganizationThreads(
            pb.ListOrganizationThreadsRequest(
                organization_id=org, page_size=page_size, page_token=token, **fields
            ),
            metadata=metadata(caller),
        )
        assert len(reply.threads) <= page_size
        collected += list(reply.threads)
        token = reply.next_page_token
        if not token:
            return collected


async def test_list_organization_threads_sorts_with_ties_broken_by_id_ascending(threads):
    org, (owner, *_), made = await sorted_org(threads)
    fetched = {t.id: t for t in await list_all(threads, owner, org, page_size=100)}
    assert set(fetched) == {t.id for t in made}
    keys = {
        pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED: lambda t: t.created_at.ToDatetime(),
        pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_UPDATED: lambda t: t.updated_at.ToDatetime(),
        pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_MESSAGE_COUNT: lambda t: t.message_count,
        pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_STATUS: lambda t: t.status,
    }
    assert [fetched[t.id].message_count for t in made] == [2, 0, 1, 0, 1]
    assert [fetched[t.id].status for t in made] == [1, 2, 1, 3, 3]
    for field, key in keys.items():
        for direction in (pb.SORT_DIRECTION_ASC, pb.SORT_DIRECTION_DESC):
            by_id = sorted(fetched.values(), key=lambda t: t.id)
            expected = [t.id for t in sorted(by_id, key=key, reverse=direction == pb.SORT_DIRECTION_DESC)]
            sort = pb.ListOrganizationThreadsSort(field=field, direction=direction)
            for page_size in (1, 2, 100):
                got = [t.id for t in await list_all(threads, owner, org, page_size=page_size, sort=sort)]
                assert got == expected, (field, direction, page_size)
    # Unspecified: created, newest first.
    default = [t.id for t in await list_all(threads, owner, org)]
    by_id = sorted(fetched.values(), key=lambda t: t.id)
    assert default == [t.id for t in sorted(by_id, key=lambda t: t.created_at.ToDatetime(), reverse=True)]


async def test_list_organization_threads_filters_and_nicknames(threads):
    org, (owner, fred, mia, app), made = await sorted_org(threads)
    ids = [t.id for t in made]

    async def listed(**filters):
        found = await list_all(
            threads, owner, org, page_size=100, filter=pb.ListOrganizationThreadsFilter(**filters)
        )
        return sorted(t.id for t in found)

    assert await listed(status_in=[pb.THREAD_STATUS_DEGRADED]) == sorted([ids[3], ids[4]])
    assert await listed(status_in=[pb.THREAD_STATUS_ARCHIVED, pb.THREAD_STATUS_ACTIVE]) == sorted(ids[:3])
    assert await listed(participant_id_in=[str(app)]) == [ids[4]]
    assert await listed(participant_id_in=[str(app), str(fred)]) == sorted([ids[0], ids[2], ids[3], ids[4]])
    assert await listed(participant_id_in=[str(uuid.uuid4())]) == []
    tied = stamp(BASE + timedelta(seconds=1))
    assert await listed(created_after=tied) == sorted(ids[1:4])  # inclusive
    assert await listed(created_before=tied) == sorted([ids[0], ids[4]])  # exclusive
    assert await listed(created_after=stamp(BASE), created_before=tied) == sorted([ids[0], ids[4]])
    assert await listed(
        created_after=tied, status_in=[pb.THREAD_STATUS_DEGRADED], participant_id_in=[str(fred)]
    ) == [ids[3]]

    everything = {t.id: t for t in await list_all(threads, owner, org, page_size=100)}
    names = {str(person): await threads.platform.username(person) for person in (owner, fred, mia)}
    names[str(app)] = ""  # an app has no handle
    for thread in everything.values():
        assert thread.organization_id == org
        assert all(p.nickname == names[p.id] for p in thread.participants), thread
    assert [p.id for p in everything[ids[4]].participants] == [str(mia), str(app)]


async def test_list_organization_threads_validation_tokens_and_access(threads):
    platform = threads.platform
    org, (owner, fred, mia, _app), made = await sorted_org(threads)
    admin = await platform.admin()

    def listing(caller=owner, caller_service="gateway", **fields):
        fields.setdefault("organization_id", org)
        return threads.stub.ListOrganizationThreads(
            pb.ListOrganizationThreadsRequest(**fields), metadata=metadata(caller, caller=caller_service)
        )

    def flt(**values):
        return pb.ListOrganizationThreadsFilter(**values)

    sort = pb.ListOrganizationThreadsSort
    by_count = sort(field=pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_MESSAGE_COUNT)
    statuses = [pb.THREAD_STATUS_ACTIVE, pb.THREAD_STATUS_ARCHIVED, pb.THREAD_STATUS_DEGRADED]
    first = await listing(
        page_size=2, filter=flt(status_in=statuses, participant_id_in=[str(fred), str(mia)])
    )
    assert first.next_page_token
    # Lists are compared as sets: the same filter in another order takes the token.
    same = await listing(
        page_size=2,
        page_token=first.next_page_token,
        filter=flt(status_in=statuses[::-1] + statuses[:1], participant_id_in=[str(mia), str(fred)]),
    )
    assert not {t.id for t in same.threads} & {t.id for t in first.threads}
    other_org = await platform.create_org(owner, "Third")
    for changed in (
        {"filter": flt(status_in=statuses[:2], participant_id_in=[str(fred), str(mia)])},
        {"filter": flt(status_in=statuses, participant_id_in=[str(fred)])},
        {
            "filter": flt(
                status_in=statuses, participant_id_in=[str(fred), str(mia)], created_after=stamp(BASE)
            )
        },
        {"filter": flt(status_in=statuses, participant_id_in=[str(fred), str(mia)]), "sort": by_count},
        {
            "filter": flt(status_in=statuses, participant_id_in=[str(fred), str(mia)]),
            "organization_id": other_org,
        },
    ):
        await expect_error(listing(page_token=first.next_page_token, **changed), INVALID, MISMATCH)
    await expect_error(listing(page_token="?"), INVALID, "invalid page_token")

    cases = [
        (listing(organization_id="x"), INVALID, "organization_id:"),
        (listing(filter=flt(status_in=[pb.THREAD_STATUS_UNSPECIFIED])), INVALID, "filter.status_in[0]:"),
        (listing(filter=flt(status_in=[pb.THREAD_STATUS_ACTIVE, 9])), INVALID, "filter.status_in[1]:"),
        (listing(filter=flt(participant_id_in=[str(fred), "x"])), INVALID, "filter.participant_id_in[1]:"),
        (listing(sort=sort(field=9)), INVALID, "sort.field:"),
        (listing(sort=sort(direction=9)), INVALID, "sort.direction:"),
        (listing(fred), DENIED, "can_view_threads"),  # a member and participant, not an owner
        (listing(owner, caller_service="chat"), DENIED, "may not call"),
    ]
    for call, code, *fragments in cases:
        await expect_error(call, code, *fragments)
    by_admin = await listing(admin, page_size=100)  # cluster admins view every organization's threads
    assert {t.id for t in by_admin.threads} == {t.id for t in made}
    assert by_admin.threads[0].participants[0].nickname != ""


# --- GetOrganizationThreads (deprecated) -----------------------------------------------------


async def test_get_organization_threads_created_newest_first_and_status_filter(threads):
    org, (owner, fred, *_), made = await sorted_org(threads)
    by_id = sorted(made, key=lambda t: t.id)
    fetched = {
        t.id: t
        for t in (
            await threads.stub.GetOrganizationThreads(
                pb.GetOrganizationThreadsRequest(organization_id=org), metadata=metadata(owner)
            )
        ).threads
    }
    expected = [
        t.id for t in sorted(by_id, key=lambda t: fetched[t.id].created_at.ToDatetime(), reverse=True)
    ]

    def legacy(caller=owner, **fields):
        fields.setdefault("organization_id", org)
        return threads.stub.GetOrganizationThreads(
            pb.GetOrganizationThreadsRequest(**fields), metadata=metadata(caller)
        )

    collected, token = [], ""
    while True:
        reply = await legacy(page_size=2, page_token=token)
        collected += [t.id for t in reply.threads]
        token = reply.next_page_token
        if not token:
            break
    assert collected == expected
    degraded = await legacy(status=pb.THREAD_STATUS_DEGRADED)
    assert [t.id for t in degraded.threads] == [i for i in expected if i in {made[3].id, made[4].id}]

    first = await legacy(page_size=1)
    await expect_error(legacy(page_size=1, page_token=first.next_page_token, status=1), INVALID, MISMATCH)
    listed = await threads.stub.ListOrganizationThreads(
        pb.ListOrganizationThreadsRequest(organization_id=org, page_size=1), metadata=metadata(owner)
    )
    await expect_error(legacy(page_token=listed.next_page_token), INVALID, MISMATCH)
    await expect_error(legacy(status=9), INVALID, "status:")
    await expect_error(legacy(organization_id=""), INVALID, "organization_id:")
    await expect_error(legacy(fred), DENIED, "can_view_threads")


async def test_list_organization_threads_page_with_many_participants(threads):
    """A full page can hold far more participants than one nickname lookup takes (1000 ids)."""
    platform = threads.platform
    org, (owner,) = await members(platform, "olga")
    made = [await threads.create(owner, org, *(uuid.uuid4() for _ in range(99))) for _ in range(11)]
    reply = await threads.stub.ListOrganizationThreads(
        pb.ListOrganizationThreadsRequest(organization_id=org, page_size=100), metadata=metadata(owner)
    )
    assert {t.id for t in reply.threads} == {t.id for t in made}
    for thread in reply.threads:
        assert len(thread.participants) == 100
        assert [p.nickname for p in thread.participants][:2] == [await platform.username(owner), ""]
