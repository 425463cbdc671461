"""Undos of work done elsewhere (`on_rollback`) against real PostgreSQL: they run exactly when
the transaction does not commit, the enclosing (joined) one and a failing commit included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from agyn_common.db import Database, on_rollback
from sqlalchemy.exc import IntegrityError


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
