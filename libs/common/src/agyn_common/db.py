"""The service's PostgreSQL: an async SQLAlchemy engine (psycopg 3) and transactions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from agyn_common.errors import not_found
from agyn_common.metrics import Metrics

log = logging.getLogger(__name__)

# Keys a transaction sets in `connection.info`: work after it commits, and the undo of work
# done elsewhere (another service) should it not commit.
AFTER_COMMIT_KEY = "agyn.after_commit"
ON_ROLLBACK_KEY = "agyn.on_rollback"
Undo = Callable[[], Awaitable[None]]


def sqlalchemy_url(database_url: str) -> str:
    """Accept plain `postgresql://` DSNs (as operators write them) and pick the psycopg driver."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        url = url.set(drivername="postgresql+psycopg")
    else:
        raise ValueError(f"unsupported database URL scheme {url.drivername!r}; expected postgresql://")
    return url.render_as_string(hide_password=False)


class Database:
    def __init__(self, database_url: str, *, pool_size: int = 10) -> None:
        # pool_size connections kept open, and as many more opened while all of them are busy.
        self._most_connections = 2 * pool_size
        self._wait_time: Histogram | None = None  # set by `measure_with`
        # No ping on checkout: it was a round trip on every call. A connection the database
        # dropped fails its first statement instead, which the pipeline answers UNAVAILABLE
        # (retryable), and SQLAlchemy then replaces every pooled connection older than it.
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=pool_size
        )
        # Reads run in autocommit: no BEGIN and no COMMIT round trip. Each statement sees the
        # data committed when it starts, as it would in a READ COMMITTED transaction.
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # Set while an enclosing transaction (the pipeline's idempotent call) takes in the
        # handler's own: each RPC runs in its own task, so this never leaks between calls.
        self._joined: ContextVar[AsyncConnection | None] = ContextVar("joined_transaction", default=None)

    @contextmanager
    def joined(self, connection: AsyncConnection) -> Iterator[None]:
        """Inside this block, `transaction()` is a savepoint of `connection`'s transaction, so
        that everything commits (or rolls back) together with it."""
        token = self._joined.set(connection)
        try:
            yield
        finally:
            self._joined.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Callbacks registered with `after_commit` run once the commit has succeeded (for a
        joined transaction: once the enclosing one has). Undos registered with `on_rollback`
        run if it does not commit: the block raises, or the commit fails (for a joined
        transaction: its own block raises, or the enclosing transaction does not commit).

        A block whose task is cancelled (its call's client gave up, or its deadline passed)
        rolls back like one that raises; the rollback, the undos and the connection's return
        to the pool run shielded, so that a further cancel cannot interrupt them. A cancel in
        the middle of a statement makes SQLAlchemy close that connection instead (the pool
        opens another).
        """
        enclosing = self._joined.get()
        if enclosing is not None:
            enclosing_undos: list[tuple[str, Undo]] = enclosing.info[ON_ROLLBACK_KEY]
            mark = len(enclosing_undos)
            try:
                async with enclosing.begin_nested():
                    yield enclosing
            except BaseException:
                await _undo(enclosing_undos, mark)
                raise
            return
        connection = await self._connect(self.engine)
        callbacks: list[Callable[[], None]] = []
        undos: list[tuple[str, Undo]] = []
        # Kept here, not read back from the connection when it fails: after a cancel in the
        # middle of a statement SQLAlchemy invalidates the connection, and reading its `info`
        # then would check out a new one outside SQLAlchemy's greenlet (MissingGreenlet).
        info = connection.info
        info[AFTER_COMMIT_KEY] = callbacks
        info[ON_ROLLBACK_KEY] = undos
        committed = False
        try:
            transaction = await connection.begin()
            yield connection
            await transaction.commit()
            committed = True
        finally:
            info.pop(AFTER_COMMIT_KEY, None)
            info.pop(ON_ROLLBACK_KEY, None)
            # Shielded: a second cancel (or the server's grace running out) while the
            # connection is rolled back and given back must not leave it half-released.
            await asyncio.shield(_release(connection, undos, committed))
        for callback in callbacks:
            callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading, in autocommit: a call that answers with one statement
        makes one round trip. Nothing written through it waits for the others (each
        statement commits alone), so a call that writes uses `transaction()`. Inside an
        enclosing transaction (`joined`), that transaction's connection."""
        enclosing = self._joined.get()
        if enclosing is not None:
            yield enclosing
            return
        connection = await self._connect(self._autocommit)
        try:
            yield connection
        finally:
            await asyncio.shield(connection.close())

    async def _connect(self, engine: AsyncEngine) -> AsyncConnection:
        if self._wait_time is None:
            return await engine.connect()
        started = time.perf_counter()
        connection = await engine.connect()
        self._wait_time.observe(time.perf_counter() - started)
        return connection

    def measure_with(self, metrics: Metrics) -> None:
        """Report the pool in `metrics`: its connections by state, the most it opens, and how
        long calls wait for one."""
        metrics.collect_with(_PoolCollector(self.engine.sync_engine.pool, self._most_connections))
        self._wait_time = metrics.histogram(
            "db_client_connection_wait_time_seconds", "Time a call waited for a connection of the pool."
        )

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


class _PoolCollector(Collector):
    """The pool's connections, read at each scrape (from the metrics thread: counters only)."""

    def __init__(self, pool: Any, most: int) -> None:
        self._pool = pool
        self._most = most

    def collect(self) -> Iterator[GaugeMetricFamily]:
        count = GaugeMetricFamily(
            "db_client_connection_count", "Connections of the pool, by state.", labels=["state"]
        )
        count.add_metric(["used"], self._pool.checkedout())
        count.add_metric(["idle"], self._pool.checkedin())
        yield count
        yield GaugeMetricFamily(
            "db_client_connection_max", "The most connections the pool opens.", value=self._most
        )


def after_commit(connection: AsyncConnection, callback: Callable[[], None]) -> None:
    """Run `callback` after the current `Database.transaction` commits (once per callback)."""
    callbacks: list[Callable[[], None]] = connection.info[AFTER_COMMIT_KEY]
    if callback not in callbacks:
        callbacks.append(callback)


def on_rollback(connection: AsyncConnection, what: str, undo: Undo) -> None:
    """Run `undo` if the current `Database.transaction` does not commit: the compensation of a
    write made in another service on behalf of this transaction. Undos run newest first; one
    that fails is logged (naming `what`) and the others still run."""
    undos: list[tuple[str, Undo]] = connection.info[ON_ROLLBACK_KEY]
    undos.append((what, undo))


async def _release(connection: AsyncConnection, undos: list[tuple[str, Undo]], committed: bool) -> None:
    """Give `connection` back to the pool: rolled back first, and its undos run, when its
    transaction did not commit. A connection that fails to roll back is closed instead (the
    pool replaces it); the block's own error is what the caller sees."""
    try:
        if not committed:
            try:
                await connection.rollback()
            except Exception as error:
                log.warning("rolling back failed; dropping the connection: %s", error)
                await connection.invalidate()
            await _undo(undos, 0)
    finally:
        await connection.close()


async def _undo(undos: list[tuple[str, Undo]], mark: int) -> None:
    """Run and forget the undos registered after `mark`, newest first; shielded, so that a
    cancelled call still undoes what it did."""

    async def run() -> None:
        while len(undos) > mark:
            what, undo = undos.pop()
            try:
                await undo()
            except Exception as error:
                log.error("could not undo %s: %s", what, error)

    await asyncio.shield(run())


async def one_or_not_found(connection: AsyncConnection, query: sa.Select[Any], what: str) -> Any:
    """The one row `query` selects; NOT_FOUND "<what> not found" when there is none."""
    row = (await connection.execute(query)).first()
    if row is None:
        raise not_found(f"{what} not found")
    return row


def violated_index(error: IntegrityError) -> str | None:
    """The constraint or unique index a write violated, to tell one conflict from another."""
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
