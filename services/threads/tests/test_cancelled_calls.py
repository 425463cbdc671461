"""Calls whose client gives up while they wait on a row lock: they roll back, leave the pool
usable, and are logged as cancelled, not as errors."""

from __future__ import annotations

import asyncio
import logging

import grpc
import psycopg
import pytest
import sqlalchemy as sa
from agyn_inprocess.threads import pb
from agyn_testkit.calls import metadata
from agyn_testkit.harness import wait_until
from agyn_threads.models import messages

# More than the pool keeps (10): each cancelled call must give its connection back.
CANCELLED_CALLS = 12


def lock_waiters(database_url: str) -> int:
    """Sessions of this database waiting for a lock."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0


async def test_send_message_cancelled_on_the_thread_lock_rolls_back_and_leaves_the_pool_usable(
    platform, threads, caplog
):
    caplog.set_level(logging.INFO)
    owner, fred = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    thread = await threads.create(owner, org, fred)
    running = threads.service
    database_url = running.runtime.settings.database_url

    with psycopg.connect(database_url) as locker:  # its transaction holds the thread's row
        locker.execute("SELECT 1 FROM threads WHERE id = %s FOR UPDATE", (thread.id,))
        calls = [
            threads.stub.SendMessage(
                pb.SendMessageRequest(thread_id=thread.id, body=f"given up {index}"),
                metadata=metadata(owner),
                timeout=2.0,
            )
            for index in range(CANCELLED_CALLS)
        ]
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as gave_up:
                await call
            assert gave_up.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # The server cancels each call as its deadline passes; PostgreSQL stops its wait.
        await wait_until(lambda: lock_waiters(database_url) == 0, timeout=15, poll=0.1)
        locker.rollback()

    db = running.runtime.db
    # (The service's own background work, health checks and the outbox relay, may hold one.)
    await wait_until(lambda: db.engine.pool.checkedout() == 0)
    cancelled = [record for record in caplog.records if "cancelled by the client" in record.getMessage()]
    assert len(cancelled) == CANCELLED_CALLS
    assert {record.levelno for record in cancelled} == {logging.INFO}
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []

    # More calls at once than the pool keeps: every connection it hands out works.
    sent = await asyncio.gather(*(threads.send(owner, thread.id, f"kept {index}") for index in range(15)))
    assert len(sent) == 15
    async with db.transaction() as connection:
        bodies = (await connection.execute(sa.select(messages.c.body))).scalars().all()
    assert sorted(bodies) == sorted(f"kept {index}" for index in range(15))
