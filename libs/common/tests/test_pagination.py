"""Keyset pages and load-or-NOT_FOUND against real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from agyn_common.db import Database, one_or_not_found
from agyn_common.errors import ServiceError
from agyn_common.pagination import KeysetPage
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()
items = sa.Table(
    "keyset_items",
    metadata,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
)
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def database(probe_database) -> AsyncIterator[Database]:
    db = Database(probe_database)
    async with db.transaction() as connection:
        await connection.run_sync(metadata.create_all)
        # Seven rows of which three share one instant and three another: ties go by id.
        moments = [
            START,
            START + timedelta(microseconds=1),
            *[START + timedelta(seconds=1)] * 3,
            START,
            START,
        ]
        await connection.execute(
            items.insert(),
            [{"id": uuid.uuid4(), "created_at": moment, "owner": "ada"} for moment in moments]
            + [{"id": uuid.uuid4(), "created_at": START, "owner": "bob"}],
        )
    yield db
    await db.close()


async def every_page(
    db: Database, *, descending: bool, size: int, key_descending: bool | None = None
) -> list[list[uuid.UUID]]:
    pages, token = [], ""
    while True:
        page = KeysetPage(
            token,
            size,
            scope="owner:ada",
            sort=items.c.created_at,
            key=items.c.id,
            descending=descending,
            key_descending=key_descending,
        )
        async with db.transaction() as connection:
            query = page.query(sa.select(items).where(items.c.owner == "ada"))
            rows, token = page.split((await connection.execute(query)).all())
        pages.append([row.id for row in rows])
        if not token:
            return pages


@pytest.mark.parametrize("descending", [False, True])
async def test_pages_cover_every_row_once_in_order(database, descending):
    async with database.transaction() as connection:
        order = (items.c.created_at, items.c.id)
        everything = (
            (
                await connection.execute(
                    sa.select(items.c.id)
                    .where(items.c.owner == "ada")
                    .order_by(*(column.desc() if descending else column for column in order))
                )
            )
            .scalars()
            .all()
        )
    pages = await every_page(database, descending=descending, size=2)
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [row for page in pages for row in page] == everything


@pytest.mark.parametrize("descending", [False, True])
async def test_ties_can_go_the_other_way_than_the_sort(database, descending):
    async with database.transaction() as connection:
        everything = (
            (
                await connection.execute(
                    sa.select(items.c.id)
                    .where(items.c.owner == "ada")
                    .order_by(
                        items.c.created_at.desc() if descending else items.c.created_at,
                        items.c.id if descending else items.c.id.desc(),
                    )
                )
            )
            .scalars()
            .all()
        )
    pages = await every_page(database, descending=descending, key_descending=not descending, size=2)
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [row for page in pages for row in page] == everything


async def test_a_token_of_another_listing_or_garbage_is_invalid_argument(database):
    first = KeysetPage("", 2, scope="owner:ada", sort=items.c.created_at, key=items.c.id)
    async with database.transaction() as connection:
        _, token = first.split((await connection.execute(first.query(sa.select(items)))).all())
    assert token
    for bad, scope in ((token, "owner:bob"), ("!!", "owner:ada"), ("bm90LWEtY3Vyc29y", "owner:ada")):
        with pytest.raises(ServiceError) as caught:
            KeysetPage(bad, 2, scope=scope, sort=items.c.created_at, key=items.c.id)
        assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.message.startswith("page_token:")


async def test_page_sizes_are_bounded():
    assert KeysetPage("", 0, scope="s", sort=items.c.created_at, key=items.c.id).size == 50
    assert KeysetPage("", 10_000, scope="s", sort=items.c.created_at, key=items.c.id).size == 100


async def test_one_or_not_found(database):
    async with database.transaction() as connection:
        row = await one_or_not_found(connection, sa.select(items).where(items.c.owner == "bob"), "item")
        assert row.owner == "bob"
        with pytest.raises(ServiceError) as caught:
            await one_or_not_found(connection, sa.select(items).where(items.c.owner == "eve"), "item")
    assert caught.value.code is grpc.StatusCode.NOT_FOUND
    assert caught.value.message == "item not found"
