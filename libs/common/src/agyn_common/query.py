"""Statements for the hot paths: written once with SQLAlchemy Core, compiled once, run on the
driver's connection.

SQLAlchemy's async layer costs about 0.1 ms of CPU per statement before PostgreSQL sees it:
building the statement, its cache key, the execution context, the greenlet bridge and the
result. A `Query` pays the compilation once, when the module that defines it is imported, and
then each call is psycopg's own work: bind the parameters, send, read the rows. It runs on
the connection of `Database.transaction()` or `Database.read()`, in that transaction, so the
two kinds of statement mix freely.

It takes only statements whose every parameter is named (`sa.bindparam`), and whose result
columns psycopg loads itself (uuid, text, numbers, booleans, timestamps, arrays, JSON): a
type that needs SQLAlchemy's conversion is refused when the query is built, not wrong later.

`binary=True` sends the parameters in PostgreSQL's binary format. For large arrays it is far
cheaper: psycopg quotes each item of a text array in Python (about 90 ms for the 27 arrays of
512 spans, against 3 ms in binary). A binary value carries its exact type (a str is text, an
int the smallest integer that holds it), where a text one is left for PostgreSQL to infer, so
the statement casts each such parameter to the type it means.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]


def _loaded_by_driver(column_type: sa.types.TypeEngine[Any]) -> bool:
    """Whether psycopg's own value for a column of this type is the one SQLAlchemy would give."""
    implementation = column_type.dialect_impl(_DIALECT)
    if isinstance(implementation, sa.ARRAY):  # a list of its items, as psycopg loads them
        return not implementation.as_tuple and _loaded_by_driver(implementation.item_type)
    try:
        return implementation.result_processor(_DIALECT, None) is None
    except (TypeError, ValueError):  # it needs the column's type code to decide: a conversion
        return False


class Query:
    def __init__(self, statement: sa.ClauseElement, name: str = "Row", *, binary: bool = False) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        self.sql: str = str(compiled)
        # The name each parameter has in the SQL; those given a value when the statement was
        # written (sa.literal, a comparison with a constant) keep it.
        self._required: set[str] = set()
        self._constants: dict[str, Any] = {}
        self._converters: dict[str, Callable[[Any], Any]] = {}
        for bind, key in compiled.bind_names.items():
            if bind.expanding:
                raise ValueError(f"{key}: expanding parameters are not supported; compare with ANY(array)")
            if binary:  # psycopg's placeholder for a binary parameter
                self.sql = self.sql.replace(f"%({key})s", f"%({key})b")
            if bind.required:
                self._required.add(key)
            else:
                self._constants[key] = bind.effective_value
            processor = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if processor is not None:
                self._converters[key] = processor
        columns = list(getattr(statement, "exported_columns", ()))
        for column in columns:
            if not _loaded_by_driver(column.type):
                raise TypeError(
                    f"column {column.key!r} needs SQLAlchemy's conversion; use connection.execute"
                )
        keys = [column.key for column in columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"result columns need distinct names: {keys}")
        row_type: Any = namedtuple(name, keys) if keys else None
        self._row_factory = (lambda cursor: row_type._make) if keys else None

    def _bind(self, values: dict[str, Any]) -> dict[str, Any]:
        bound = {**self._constants, **values}
        missing = self._required - bound.keys()
        if missing:
            raise TypeError(f"missing query parameters: {sorted(missing)}")
        for key, convert in self._converters.items():
            bound[key] = convert(bound[key])
        return bound

    async def _cursor(self, connection: AsyncConnection, values: dict[str, Any]) -> psycopg.AsyncCursor[Any]:
        driver: psycopg.AsyncConnection[Any] = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr,assignment]
        cursor = driver.cursor(row_factory=self._row_factory) if self._row_factory else driver.cursor()
        # A connection the database dropped fails here with psycopg's OperationalError (the
        # pipeline's UNAVAILABLE); SQLAlchemy's pool, failing to reset it, then discards it.
        await cursor.execute(self.sql, self._bind(values))
        return cursor

    async def all(self, connection: AsyncConnection, **values: Any) -> Sequence[Any]:
        """Every row the statement returns."""
        return await (await self._cursor(connection, values)).fetchall()

    async def first(self, connection: AsyncConnection, **values: Any) -> Any:
        """The first row the statement returns, or None."""
        return await (await self._cursor(connection, values)).fetchone()

    async def run(self, connection: AsyncConnection, **values: Any) -> int:
        """Run a statement that returns no rows; how many rows it touched."""
        return (await self._cursor(connection, values)).rowcount
