"""The outbox and its relay against real PostgreSQL and JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import nats as nats_client
import pytest
import sqlalchemy as sa
from agyn_common.bus import EVENTS, Bus
from agyn_common.db import Database
from agyn_common.outbox import Outbox, outbox_table
from agyn_testkit.harness import read_events

rows_table = outbox_table(sa.MetaData())


@pytest.fixture
async def database(probe_database) -> AsyncIterator[Database]:
    db = Database(probe_database)
    yield db
    await db.close()


@pytest.fixture
async def bus(nats) -> AsyncIterator[Bus]:
    bus = Bus(nats.url, name="outbox-test", streams=(EVENTS,))
    bus.start()
    await bus.wait_ready(15)
    yield bus
    await bus.close()


@contextlib.asynccontextmanager
async def relaying(outbox: Outbox, bus: Bus) -> AsyncIterator[None]:
    task = asyncio.create_task(outbox.run(bus))
    try:
        yield
    finally:
        outbox.stop()
        async with asyncio.timeout(10):
            await task


def fresh_service() -> str:
    """A service name of its own, so each test reads only its own subjects."""
    return f"probe{uuid.uuid4().hex[:10]}"


async def pending_rows(db: Database) -> int:
    async with db.transaction() as connection:
        return int(
            (await connection.execute(sa.select(sa.func.count()).select_from(rows_table))).scalar_one()
        )


async def test_committed_event_reaches_jetstream_with_its_id_as_msg_id(database, bus, nats):
    outbox, service = Outbox(database, sa.MetaData()), fresh_service()
    async with relaying(outbox, bus):
        async with database.transaction() as connection:
            event_id = await outbox.emit_event(connection, service, "created", {"n": 1})
        events = await read_events(nats.url, f"agyn.events.{service}.>", lambda found: len(found) >= 1)
    assert [(event["id"], event["type"], event["data"]) for event in events] == [
        (str(event_id), f"{service}.created", {"n": 1})
    ]
    client = await nats_client.connect(nats.url)
    try:
        stored = await client.jetstream().get_last_msg(EVENTS.name, f"agyn.events.{service}.created")
    finally:
        await client.close()
    assert stored.headers["Nats-Msg-Id"] == str(event_id)
    assert await pending_rows(database) == 0


async def test_rolled_back_change_sends_nothing(database, bus, nats):
    outbox, service = Outbox(database, sa.MetaData()), fresh_service()
    async with relaying(outbox, bus):

        async def emit_then_fail() -> None:
            async with database.transaction() as connection:
                await outbox.emit_event(connection, service, "created", {"n": 1})
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            await emit_then_fail()
        async with database.transaction() as connection:
            await outbox.emit_event(connection, service, "marker", {})
        events = await read_events(nats.url, f"agyn.events.{service}.>", lambda found: len(found) >= 1)
    assert [event["type"] for event in events] == [f"{service}.marker"]


async def test_events_emitted_while_nats_is_down_arrive_once_in_order(database, bus, nats):
    outbox, service = Outbox(database, sa.MetaData()), fresh_service()
    async with relaying(outbox, bus):
        nats.stop()
        for n in range(20):
            async with database.transaction() as connection:
                await outbox.emit_event(connection, service, "numbered", {"n": n})
        await asyncio.sleep(3)  # the relay keeps failing meanwhile; the rows wait
        assert await pending_rows(database) == 20
        nats.start()
        events = await read_events(nats.url, f"agyn.events.{service}.>", lambda found: len(found) >= 20)
    assert [event["data"]["n"] for event in events] == list(range(20))
    assert await pending_rows(database) == 0


async def test_a_republished_row_is_dropped_by_jetstream(database, bus, nats):
    """A relay that dies after publishing but before deleting sends the row again: stored once."""
    outbox, service = Outbox(database, sa.MetaData()), fresh_service()
    async with database.transaction() as connection:
        await outbox.emit_event(connection, service, "once", {})
        row = (await connection.execute(sa.select(rows_table))).one()
    assert await outbox.relay_once(bus) == 1
    async with database.transaction() as connection:
        copy = {key: value for key, value in row._mapping.items() if key != "seq"}
        await connection.execute(rows_table.insert().values(**copy))
    assert await outbox.relay_once(bus) == 1
    events = await read_events(
        nats.url, f"agyn.events.{service}.>", lambda found: len(found) >= 1, settle=1.5
    )
    assert len(events) == 1


async def test_many_events_in_batches_keep_their_order(database, bus, nats):
    outbox, service = Outbox(database, sa.MetaData(), batch_size=50), fresh_service()
    count = 500
    async with database.transaction() as connection:
        for n in range(count):
            await outbox.emit(connection, f"agyn.events.{service}.numbered", json.dumps({"n": n}).encode())
    async with relaying(outbox, bus):
        events = await read_events(nats.url, f"agyn.events.{service}.>", lambda found: len(found) >= count)
    assert [event["n"] for event in events] == list(range(count))


async def test_a_commit_while_the_relay_publishes_is_relayed_without_waiting_for_the_poll(
    database, bus, nats
):
    """Commits keep landing while the relay publishes earlier ones; each wakes the next pass.
    With the poll an hour away, an event whose wake-up got lost would never arrive."""
    outbox, service = Outbox(database, sa.MetaData(), poll_seconds=3600), fresh_service()
    writers, each = 8, 40

    async def write(writer: int) -> None:
        for n in range(each):
            async with database.transaction() as connection:
                await outbox.emit(
                    connection, f"agyn.events.{service}.w{writer}", json.dumps({"n": n}).encode()
                )

    async with relaying(outbox, bus):
        await asyncio.gather(*(write(writer) for writer in range(writers)))
        events = await read_events(
            nats.url, f"agyn.events.{service}.>", lambda found: len(found) >= writers * each, timeout=20
        )
    assert len(events) == writers * each


async def test_a_subject_nats_would_refuse_is_never_queued(database):
    """Such a row could never be relayed: publishing it would make NATS close the connection."""
    outbox = Outbox(database, sa.MetaData())
    with pytest.raises(ValueError, match="NATS subject"):
        async with database.transaction() as connection:
            await outbox.emit(connection, "agyn.events." + "x" * 5000, b"{}")
    assert await pending_rows(database) == 0
