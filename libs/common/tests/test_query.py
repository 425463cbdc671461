"""`Query` (statements compiled once, run on psycopg) and `Database.read()` against real
PostgreSQL: the rows are what SQLAlchemy's own execution gives, a Query takes part in the
transaction it runs in, reads commit nothing, and what a Query cannot run right is refused
when it is built."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import psycopg
import pytest
import sqlalchemy as sa
from agyn_common.db import Database
from agyn_common.query import Query
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()
items = sa.Table(
    "query_items",
    metadata,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("tags", postgresql.ARRAY(sa.Text), nullable=False),
    sa.Column("extra", postgresql.JSONB, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
_ID = sa.bindparam("id", type_=items.c.id.type)
INSERT = Query(
    items.insert()
    .values(
        id=_ID,
        name=sa.bindparam("name", type_=sa.Text),
        tags=sa.bindparam("tags", type_=items.c.tags.type),
        extra=sa.bindparam("extra", type_=postgresql.JSONB),
        count=sa.bindparam("count", type_=sa.Integer),
    )
    .returning(*items.c)
)
BY_ID = Query(sa.select(items).where(items.c.id == _ID))
NAMED = Query(sa.select(items.c.name).where(items.c.name.like(sa.bindparam("pattern", type_=sa.Text))))
COUNT = Query(sa.select(sa.func.count().label("rows")).select_from(items).where(items.c.count > 1))


@pytest.fixture
async def database(probe_database) -> AsyncIterator[Database]:
    db = Database(probe_database)
    async with db.transaction() as connection:
        await connection.run_sync(metadata.create_all)
    yield db
    async with db.transaction() as connection:
        await connection.run_sync(metadata.drop_all)
    await db.close()


async def insert(db: Database, name: str = "first", count: int = 2) -> tuple[uuid.UUID, object]:
    item = uuid.uuid4()
    async with db.transaction() as connection:
        row = await INSERT.first(
            connection, id=item, name=name, tags=["a", "b"], extra={"k": [1, None]}, count=count
        )
    return item, row


async def test_rows_are_what_sqlalchemy_gives(database):
    item, inserted = await insert(database)
    async with database.read() as connection:
        fast = await BY_ID.first(connection, id=item)
        slow = (await connection.execute(sa.select(items).where(items.c.id == item))).one()
    assert tuple(fast) == tuple(slow) == tuple(inserted)
    assert fast.id == item and fast.tags == ["a", "b"] and fast.extra == {"k": [1, None]}
    assert isinstance(fast.created_at, datetime) and fast.created_at.tzinfo is not None
    assert fast._fields == tuple(items.c.keys())


async def test_first_is_none_all_is_every_row_and_constants_stay_in_the_statement(database):
    await insert(database, "apple", count=1)
    await insert(database, "apricot", count=5)
    async with database.read() as connection:
        assert await BY_ID.first(connection, id=uuid.uuid4()) is None
        names = sorted(row.name for row in await NAMED.all(connection, pattern="ap%"))
        counted = await COUNT.first(connection)  # `> 1` was written into the statement
    assert names == ["apple", "apricot"]
    assert counted.rows == 1


async def test_a_query_rolls_back_with_its_transaction(database):
    item = uuid.uuid4()

    async def fail_after_the_insert() -> None:
        async with database.transaction() as connection:
            await INSERT.first(connection, id=item, name="gone", tags=[], extra={}, count=0)
            raise RuntimeError("the call failed after the insert")

    with pytest.raises(RuntimeError):
        await fail_after_the_insert()
    async with database.read() as connection:
        assert await BY_ID.first(connection, id=item) is None


async def test_read_commits_nothing_it_did_not_write_alone_and_sees_committed_rows(database):
    async with database.read() as reader:
        assert await COUNT.first(reader) == (0,)
        item, _ = await insert(database, count=3)  # committed meanwhile, by another connection
        assert await COUNT.first(reader) == (1,)  # each statement sees what is committed
        raw = reader.sync_connection.connection.driver_connection
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # no BEGIN was sent
    async with database.read() as connection:
        assert (await BY_ID.first(connection, id=item)).count == 3


async def test_a_joined_read_is_the_enclosing_transaction(database):
    item = uuid.uuid4()
    async with database.transaction() as connection:
        await INSERT.first(connection, id=item, name="inside", tags=[], extra={}, count=0)
        with database.joined(connection):
            async with database.read() as reader:
                assert (await BY_ID.first(reader, id=item)).name == "inside"  # not yet committed


async def test_a_missing_parameter_is_named(database):
    async with database.read() as connection:
        with pytest.raises(TypeError, match=r"missing query parameters: \['id'\]"):
            await BY_ID.first(connection)


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (sa.select(sa.cast(items.c.name, sa.Enum("x", "y", name="letters")).label("letter")), TypeError),
        (sa.select(sa.cast(items.c.count, sa.Numeric).label("amount")), TypeError),
        (sa.select(items.c.id).where(items.c.id.in_(sa.bindparam("ids", expanding=True))), ValueError),
        (sa.select(items.c.id, items.c.name.label("id")), ValueError),
    ],
    ids=["enum-result", "numeric-result", "expanding-parameter", "duplicate-column"],
)
def test_what_a_query_cannot_run_right_is_refused_when_built(statement, problem):
    with pytest.raises(problem):
        Query(statement)


async def test_a_connection_the_database_dropped_is_not_handed_out_again(probe_database, database):
    single = Database(probe_database, pool_size=1)  # the next read would get the same connection
    try:
        async with single.read() as connection:
            killed = connection.sync_connection.connection.driver_connection.info.backend_pid
            async with database.read() as other:
                await other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
            with pytest.raises(psycopg.OperationalError):
                await COUNT.first(connection)
        async with single.read() as connection:
            assert await COUNT.first(connection) == (0,)
            assert connection.sync_connection.connection.driver_connection.info.backend_pid != killed
    finally:
        await single.close()


# Each parameter cast to the type it means: a binary value carries its own (ints the smallest
# that hold them), which PostgreSQL does not convert implicitly.
UNNESTED = Query(
    sa.text(
        "SELECT u.name, u.blob, u.count, CAST(u.doc AS jsonb) AS doc FROM unnest("
        "CAST(:names AS text[]), CAST(:blobs AS bytea[]), CAST(:counts AS bigint[]), CAST(:docs AS text[])"
        ") WITH ORDINALITY AS u(name, blob, count, doc, n) ORDER BY u.n"
    ).columns(
        sa.column("name", sa.Text),
        sa.column("blob", sa.LargeBinary),
        sa.column("count", sa.BigInteger),
        sa.column("doc", postgresql.JSONB),
    ),
    binary=True,
)


async def test_binary_parameters_arrive_as_they_were_given(database):
    names = ['quo"te', "back\\slash", "{braces, comma}", "NULL", None, "ünïcode ✓"]
    blobs = [b"\x00\x01", b"", None, b"\\x", b"{}", b"\xff" * 3]
    counts = [1, -(2**15), 2**31, 2**63 - 1, None, 0]  # int2 to int8 in one array
    docs = ['{"a": [1, "x\\"y"]}', "[]", None, '"s"', "null", "{}"]
    async with database.read() as connection:
        rows = await UNNESTED.all(connection, names=names, blobs=blobs, counts=counts, docs=docs)
        nothing = await UNNESTED.all(connection, names=[None], blobs=[None], counts=[None], docs=[None])
    assert [row.name for row in rows] == names
    assert [row.blob for row in rows] == blobs
    assert [row.count for row in rows] == counts
    assert [row.doc for row in rows] == [{"a": [1, 'x"y']}, [], None, "s", None, {}]
    assert [tuple(row) for row in nothing] == [(None, None, None, None)]
