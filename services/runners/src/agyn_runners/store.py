"""Queries of the runners database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from agyn_common.db import one_or_not_found, violated_index
from agyn_common.errors import already_exists, not_found
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_runners.models import runners, volumes, workloads

RECORDS = {"runner": runners, "workload": workloads, "volume": volumes}


async def load(connection: AsyncConnection, what: str, record_id: uuid.UUID, *, lock: bool = False) -> Any:
    """The row, or NOT_FOUND "<what> not found"."""
    table = RECORDS[what]
    query = sa.select(table).where(table.c.id == record_id)
    return await one_or_not_found(connection, query.with_for_update() if lock else query, what)


async def insert(connection: AsyncConnection, what: str, values: Mapping[str, Any]) -> Any:
    """Insert and return the row: ALREADY_EXISTS for a taken id, NOT_FOUND for an unknown runner."""
    table = RECORDS[what]
    try:
        async with connection.begin_nested():
            return (await connection.execute(table.insert().values(**values).returning(table))).one()
    except IntegrityError as error:
        if violated_index(error) in (f"{table.name}_pkey",):
            raise already_exists(f"{what} {values['id']} already exists") from None
        if "foreign key" in str(error.orig).lower():
            raise not_found("runner not found") from None
        raise


async def update(
    connection: AsyncConnection, what: str, record_id: uuid.UUID, values: Mapping[str, Any]
) -> Any:
    table = RECORDS[what]
    statement = (
        table.update()
        .where(table.c.id == record_id)
        .values(**values, updated_at=sa.func.now())
        .returning(table)
    )
    row = (await connection.execute(statement)).first()
    if row is None:
        raise not_found(f"{what} not found")
    return row


async def delete_runner(connection: AsyncConnection, runner_id: uuid.UUID) -> None:
    deleted = await connection.execute(
        runners.delete().where(runners.c.id == runner_id).returning(runners.c.id)
    )
    if deleted.first() is None:
        raise not_found("runner not found")


async def live_workloads(connection: AsyncConnection, runner_id: uuid.UUID) -> int:
    count = await connection.scalar(
        sa.select(sa.func.count())
        .select_from(workloads)
        .where(workloads.c.runner_id == runner_id, workloads.c.status.not_in(["stopped", "failed"]))
    )
    return int(count or 0)


async def runner_by_token_hash(connection: AsyncConnection, token_hash: str, *, lock: bool = False) -> Any:
    query = sa.select(runners).where(runners.c.service_token_hash == token_hash)
    return await one_or_not_found(connection, query.with_for_update() if lock else query, "runner")


async def runner_names(connection: AsyncConnection, runner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await connection.execute(
        sa.select(runners.c.id, runners.c.name).where(runners.c.id.in_(sorted(set(runner_ids))))
    )
    return {row.id: row.name for row in rows}


async def sampled_at(connection: AsyncConnection, what: str, entries: Mapping[uuid.UUID, datetime]) -> None:
    """One statement sets last_metering_sampled_at of every listed id; unknown ids are skipped."""
    if not entries:
        return
    table = RECORDS[what]
    given = sa.values(
        sa.column("id", sa.Uuid), sa.column("at", sa.DateTime(timezone=True)), name="given"
    ).data(list(entries.items()))
    await connection.execute(
        table.update()
        .where(table.c.id == given.c.id)
        .values(last_metering_sampled_at=given.c.at, updated_at=sa.func.now())
    )


def pending_sample(table: sa.Table) -> sa.ColumnElement[bool]:
    """Records the metering loop has not sampled since they last ran (sheet §3.2)."""
    return sa.or_(
        table.c.removed_at.is_(None),
        table.c.last_metering_sampled_at.is_(None),
        table.c.removed_at > table.c.last_metering_sampled_at,
    )


def touch_statement(workload_id: uuid.UUID, agent_id: uuid.UUID) -> sa.Update:
    """Sheet §3.2 TouchWorkload: the agent's own workload gets fresh activity, and processing
    when it was idle. The row is locked before its old state is read, so of two touches
    racing only one sees `idle` (and announces the flip)."""
    old = (
        sa.select(workloads.c.id, workloads.c.agent_state)
        .where(workloads.c.id == workload_id)
        .with_for_update()
        .cte("old")
    )
    return (
        workloads.update()
        .where(workloads.c.id == old.c.id, workloads.c.agent_id == agent_id)
        .values(last_activity_at=sa.func.now(), agent_state="processing")
        .returning(workloads, old.c.agent_state.label("previous_state"))
    )


def sweep_statement(grace_seconds: float) -> sa.Update:
    """Sheet §5: every running workload quiet for longer than the grace goes idle, each once
    (replicas racing flip disjoint rows: the update locks what it changes)."""
    return (
        workloads.update()
        .where(
            workloads.c.status == "running",
            workloads.c.agent_state == "processing",
            workloads.c.removed_at.is_(None),
            workloads.c.last_activity_at
            < sa.func.now() - sa.text(f"interval '{float(grace_seconds)} seconds'"),
        )
        .values(agent_state="idle", updated_at=sa.func.now())
        .returning(workloads)
    )
