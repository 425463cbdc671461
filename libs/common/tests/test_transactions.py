"""Undos of work done elsewhere (`on_rollback`) against real PostgreSQL: they run exactly when
the transaction does not commit, the enclosing (joined) one and a failing commit included; and
a transaction whose task is cancelled rolls back and leaves the pool usable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg
import pytest
import sqlalchemy as sa
from agyn_common.db import Database, on_rollback
from agyn_testkit.harness import wait_until
from sqlalchemy.exc import IntegrityError

LOCK_KEY = 31


@pytest.fixture
async def database(probe_database) -> AsyncIterator[Database]:
    db = Database(probe_database)
    async with db.transaction() as connection:
        # Checked at commit, not at the insert: a transaction whose commit fails.
        await connection.execute(
            sa.text(
                "CREATE TABLE deferred_items (id int, CONSTRAINT deferred_items_key UNIQUE (id)"
                " DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield db
    await db.close()


class Remote:
    """Stands in for another service: what it holds, and its undos as `on_rollback` takes them."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def write(self, connection, name: str, *, failing_undo: bool = False) -> None:
        self.held.append(name)

        async def undo() -> None:
            if failing_undo:
                raise RuntimeError("peer away")
            self.held.remove(name)

        on_rollback(connection, name, undo)


async def test_nothing_is_undone_when_the_transaction_commits(database):
    remote = Remote()
    async with database.transaction() as connection:
        remote.write(connection, "a")
        remote.write(connection, "b")
    assert remote.held == ["a", "b"]


async def test_a_raising_block_undoes_newest_first_and_a_failing_undo_spares_the_others(database):
    remote, order = Remote(), []

    async def work() -> None:
        async with database.transaction() as connection:
            for name in ("a", "b", "c"):
                remote.write(connection, name, failing_undo=name == "b")
                on_rollback(connection, f"order {name}", lambda name=name: _append(order, name))
            raise ValueError("later step")

    with pytest.raises(ValueError, match="later step"):
        await work()
    assert remote.held == ["b"]  # its undo failed (logged); a and c were undone
    assert order == ["c", "b", "a"]


async def test_a_failing_commit_undoes(database):
    remote = Remote()

    async def work() -> None:
        async with database.transaction() as connection:
            await connection.execute(sa.text("INSERT INTO deferred_items VALUES (1), (1)"))
            remote.write(connection, "a")

    with pytest.raises(IntegrityError, match="deferred_items_key"):
        await work()
    assert remote.held == []


async def test_joined_work_is_undone_with_the_enclosing_transaction(database):
    """The idempotency pipeline's case: the handler's transaction ends well, then the enclosing
    one does not commit."""
    remote = Remote()

    async def work() -> None:
        async with database.transaction() as outer:
            with database.joined(outer):
                async with database.transaction() as inner:
                    remote.write(inner, "a")
            assert remote.held == ["a"]
            await outer.execute(sa.text("INSERT INTO deferred_items VALUES (2), (2)"))

    with pytest.raises(IntegrityError, match="deferred_items_key"):
        await work()
    assert remote.held == []


async def test_a_failed_joined_block_undoes_its_own_work_only(database):
    remote = Remote()

    async def failing_handler(outer) -> None:
        with database.joined(outer):
            async with database.transaction() as inner:
                remote.write(inner, "dropped")
                raise ValueError("handler failed")

    async with database.transaction() as outer:
        remote.write(outer, "kept")
        with pytest.raises(ValueError, match="handler failed"):
            await failing_handler(outer)
        assert remote.held == ["kept"]
    assert remote.held == ["kept"]


async def _append(order: list[str], name: str) -> None:
    order.append(name)


def lock_waiters(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
            (LOCK_KEY,),
        ).fetchone()
    return int(row[0]) if row else 0


async def rows(database: Database) -> list[int]:
    async with database.transaction() as connection:
        return list((await connection.execute(sa.text("SELECT id FROM deferred_items"))).scalars())


@pytest.mark.parametrize("joined", [False, True], ids=["own", "joined"])
async def test_a_transaction_cancelled_mid_statement_rolls_back_and_leaves_the_pool_usable(
    database, probe_database, caplog, joined
):
    remote = Remote()

    async def work() -> None:
        async with database.transaction() as outer:
            await outer.execute(sa.text("INSERT INTO deferred_items VALUES (7)"))
            remote.write(outer, "a")
            with database.joined(outer):
                async with database.transaction() if joined else contextlib.nullcontext(outer) as connection:
                    await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))

    with psycopg.connect(probe_database, autocommit=True) as locker:
        locker.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        task = asyncio.ensure_future(work())
        await wait_until(lambda: lock_waiters(probe_database) == 1, timeout=10, poll=0.05)
        task.cancel()  # what grpc.aio does when the client cancels or the deadline passes
        with pytest.raises(asyncio.CancelledError):
            await task
        assert lock_waiters(probe_database) == 0  # the statement was cancelled in PostgreSQL too
    assert database.engine.pool.checkedout() == 0
    assert remote.held == []
    assert await rows(database) == []
    # Every connection the pool hands out works.
    await asyncio.gather(*(rows(database) for _ in range(15)))
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("cancels", [1, 2, 5])
async def test_a_cancel_while_releasing_still_rolls_back_and_gives_the_connection_back(database, cancels):
    """The rollback and the release are shielded: further cancels (the client's, then the
    server's at the end of its grace) do not leave the connection half-released."""
    remote = Remote()
    written = asyncio.Event()

    async def work() -> None:
        async with database.transaction() as connection:
            await connection.execute(sa.text("INSERT INTO deferred_items VALUES (8)"))
            remote.write(connection, "a")
            written.set()
            await asyncio.sleep(60)  # e.g. waiting on another service

    task = asyncio.ensure_future(work())
    await written.wait()
    for _ in range(cancels):
        task.cancel()
        await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: database.engine.pool.checkedout() == 0)
    assert database.engine.pool.checkedin() == 1  # given back, not dropped
    assert remote.held == []
    assert await rows(database) == []
