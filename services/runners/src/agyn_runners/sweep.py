"""The agent activity sweep (sheet §5): running workloads whose agent went quiet become idle.

Every replica runs it. One UPDATE … RETURNING flips the rows and the events are queued in the
same transaction, so replicas racing flip each row once and announce it once.
"""

from __future__ import annotations

from agyn_common.db import Database

from agyn_runners import store
from agyn_runners.events import RunnerEvents


class ActivitySweep:
    def __init__(self, database: Database, events: RunnerEvents, *, grace: float) -> None:
        self._db = database
        self._events = events
        self._statement = store.sweep_statement(grace)

    async def once(self) -> int:
        """Flip what is due; how many rows this sweeper flipped."""
        async with self._db.transaction() as connection:
            rows = (await connection.execute(self._statement)).all()
            for row in rows:
                await self._events.workload_changed(connection, None, row)
        return len(rows)
