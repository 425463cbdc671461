"""The service's PostgreSQL: an async SQLAlchemy engine (psycopg 3) and transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# Keys a transaction sets in `connection.info` to ask for work after it commits.
AFTER_COMMIT_KEY = "agyn.after_commit"


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
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Callbacks registered with `after_commit` run once the commit has succeeded.
        """
        async with self.engine.connect() as connection:
            callbacks: list[Callable[[], None]] = []
            connection.info[AFTER_COMMIT_KEY] = callbacks
            try:
                async with connection.begin():
                    yield connection
            finally:
                connection.info.pop(AFTER_COMMIT_KEY, None)
            for callback in callbacks:
                callback()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def after_commit(connection: AsyncConnection, callback: Callable[[], None]) -> None:
    """Run `callback` after the current `Database.transaction` commits (once per callback)."""
    callbacks: list[Callable[[], None]] = connection.info[AFTER_COMMIT_KEY]
    if callback not in callbacks:
        callbacks.append(callback)
