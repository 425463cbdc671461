"""Retention (files-tracing B.8-4): a trace's spans are deleted once its newest span was last
written more than RETENTION_DAYS ago; a trace with one recent span is kept whole.

Every replica runs the sweep. A run walks the expired spans oldest first along the updated_at
index, a batch at a time, and deletes the traces among them that have no recent span. Each
batch is one transaction that first takes a transaction advisory lock without waiting, so one
replica deletes at a time and the others leave the round to it; a batch deletes the traces of
at most BATCH_SPANS expired spans, so no statement holds many row locks for long. A trace kept
for a recent span (a long-running workload's, B.8-12) is probed once per run, not at every
batch.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from agyn_common.db import Database
from agyn_common.metrics import Metrics
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.dml import ReturningDelete

from agyn_tracing.models import spans

BATCH_SPANS = 500
# Names the sweep among the advisory locks of the tracing database.
LOCK_KEY = zlib.crc32(b"agyn-tracing:retention")
_KEYSET = (spans.c.updated_at, spans.c.trace_id, spans.c.span_id)


def expired_after(cutoff: datetime, after: tuple[Any, ...] | None, batch: int) -> sa.Select[Any]:
    """The next `batch` spans written before the cutoff, after the keyset position `after`."""
    query = sa.select(*_KEYSET).where(spans.c.updated_at < cutoff)
    if after is not None:  # the first condition lets the index start at the position
        query = query.where(spans.c.updated_at >= after[0], sa.tuple_(*_KEYSET) > sa.tuple_(*after))
    return query.order_by(*_KEYSET).limit(batch)


def delete_unwritten_since(cutoff: datetime) -> ReturningDelete[tuple[bytes]]:
    """Delete the spans of the traces in :traces none of whose spans was written since the
    cutoff; returns the trace id of each deleted span."""
    candidates = (
        sa.func.unnest(sa.bindparam("traces", type_=ARRAY(sa.LargeBinary)))
        .table_valued("trace_id")
        .render_derived()
    )
    recent = spans.alias("recent")
    written = sa.exists().where(recent.c.trace_id == candidates.c.trace_id, recent.c.updated_at >= cutoff)
    doomed = sa.select(candidates.c.trace_id).where(~written)
    return sa.delete(spans).where(spans.c.trace_id.in_(doomed)).returning(spans.c.trace_id)


class Retention:
    def __init__(self, database: Database, metrics: Metrics, *, days: int, batch: int = BATCH_SPANS) -> None:
        self._db = database
        self._age = timedelta(days=days)
        self._batch = batch
        self._deleted = metrics.counter(
            "agyn_tracing_spans_expired_total", "Spans deleted by retention (RETENTION_DAYS)."
        )

    async def once(self) -> int:
        """One run; how many spans this sweeper deleted. It stops early when another replica
        holds the lock (that one carries on to the end)."""
        async with self._db.read() as connection:
            cutoff: datetime = (await connection.execute(sa.select(sa.func.now() - self._age))).scalar_one()
        delete = delete_unwritten_since(cutoff)
        after: tuple[Any, ...] | None = None
        kept: set[bytes] = set()
        total = 0
        while True:
            async with self._db.transaction() as connection:
                if not await connection.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(LOCK_KEY))):
                    return total
                expired = (await connection.execute(expired_after(cutoff, after, self._batch))).all()
                if not expired:
                    return total
                after = tuple(expired[-1])
                traces = {row.trace_id for row in expired} - kept
                deleted = (await connection.execute(delete, {"traces": list(traces)})).scalars().all()
            kept |= traces - set(deleted)
            total += len(deleted)
            self._deleted.inc(len(deleted))
