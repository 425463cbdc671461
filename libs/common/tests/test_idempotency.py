"""Idempotency keys against real PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import grpc
import pytest
import sqlalchemy as sa
from agyn_common.db import Database
from agyn_common.errors import ServiceError
from agyn_common.idempotency import MAX_KEY_LENGTH, Idempotency, idempotency_key, idempotency_table
from google.protobuf import wrappers_pb2

keys = idempotency_table(sa.MetaData())


@pytest.fixture
async def database(probe_database) -> AsyncIterator[Database]:
    db = Database(probe_database)
    yield db
    await db.close()


class Creator:
    """Stands in for a create handler: each real run makes a new, numbered response."""

    def __init__(self) -> None:
        self.runs = itertools.count(1)
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> wrappers_pb2.StringValue:
        self.started.set()
        await self.release.wait()
        return wrappers_pb2.StringValue(value=f"created #{next(self.runs)}")


async def create(db: Database, creator: Creator, key: str, request: str = "a", caller: str = "alice") -> str:
    response = await Idempotency(db, sa.MetaData()).run(
        key=key,
        caller=caller,
        method="/probe/Create",
        request=wrappers_pb2.StringValue(value=request),
        response_type=wrappers_pb2.StringValue,
        work=creator,
    )
    assert isinstance(response, wrappers_pb2.StringValue)
    return response.value


async def test_same_key_replays_the_first_response(database):
    creator = Creator()
    assert await create(database, creator, "k1") == "created #1"
    assert await create(database, creator, "k1") == "created #1"
    assert await create(database, creator, "k2") == "created #2"


async def test_same_key_different_request_is_failed_precondition(database):
    creator = Creator()
    await create(database, creator, "k1", request="a")
    with pytest.raises(ServiceError) as caught:
        await create(database, creator, "k1", request="b")
    assert caught.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.details[0].reason == "IDEMPOTENCY_KEY_REUSED"


async def test_keys_are_per_caller(database):
    creator = Creator()
    assert await create(database, creator, "k1", caller="alice") == "created #1"
    assert await create(database, creator, "k1", caller="bob") == "created #2"


async def test_a_failed_call_leaves_no_key(database):
    creator = Creator()

    async def create_then_fail() -> wrappers_pb2.StringValue:
        await creator()
        raise RuntimeError("the rest of the handler failed")

    async def run_failing() -> None:
        await Idempotency(database, sa.MetaData()).run(
            key="k1",
            caller="alice",
            method="/probe/Create",
            request=wrappers_pb2.StringValue(value="a"),
            response_type=wrappers_pb2.StringValue,
            work=create_then_fail,
        )

    with pytest.raises(RuntimeError):
        await run_failing()
    assert await create(database, creator, "k1") == "created #2"


async def test_a_concurrent_duplicate_waits_and_replays(database):
    creator = Creator()
    creator.release.clear()
    first = asyncio.create_task(create(database, creator, "k1"))
    await creator.started.wait()  # the first call holds the key, uncommitted
    second = asyncio.create_task(create(database, creator, "k1"))
    await asyncio.sleep(0.3)
    assert not second.done()  # blocked on the first call's row
    creator.release.set()
    assert await asyncio.gather(first, second) == ["created #1", "created #1"]


async def test_expired_keys_are_purged_and_can_be_reused(database):
    creator = Creator()
    await create(database, creator, "old")
    await create(database, creator, "live")
    async with database.transaction() as connection:
        await connection.execute(
            keys.update()
            .where(keys.c.key == "old")
            .values(created_at=sa.func.now() - sa.text("interval '25 hours'"))
        )
    # An expired key is taken over by a new request rather than refused.
    assert await create(database, creator, "old", request="other") == "created #3"
    async with database.transaction() as connection:
        await connection.execute(
            keys.update().values(created_at=sa.func.now() - sa.text("interval '25 hours'"))
        )
        await connection.execute(keys.insert().values(caller="c", method="m", key="fresh", request_hash=b"h"))
    assert await Idempotency(database, sa.MetaData()).purge_expired() == 2
    async with database.transaction() as connection:
        remaining = (await connection.execute(sa.select(keys.c.key))).scalars().all()
    assert remaining == ["fresh"]


def test_key_from_metadata():
    assert idempotency_key(()) is None
    assert idempotency_key((("idempotency-key", ""),)) is None
    assert idempotency_key((("idempotency-key", "abc"),)) == "abc"
    with pytest.raises(ServiceError) as caught:
        idempotency_key((("idempotency-key", "x" * (MAX_KEY_LENGTH + 1)),))
    assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.message.startswith("idempotency-key:")
    assert idempotency_key((("idempotency-key", "x" * MAX_KEY_LENGTH),)) == "x" * MAX_KEY_LENGTH
    assert idempotency_key((("idempotency-key", "~ !a-Z_0.9:"),)) == "~ !a-Z_0.9:"
    for bad in ("caf\u00e9", "tab\there", "line\nbreak", "\x7f"):
        with pytest.raises(ServiceError) as caught:
            idempotency_key((("idempotency-key", bad),))
        assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT, bad
        assert caught.value.message == "idempotency-key: must be printable ASCII"
