"""The latest workload of many (thread, agent) pairs at once, for Chat (DESIGN §2; chat sheet §3.3).

Not part of the upstream contract: WorkloadAccessService answers, in one call, what
ListWorkloadsByThread(thread_id, agent_id, page_size = 1) answers the caller for each pair,
where Chat's GetChats would otherwise make one call per chat and agent.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument
from agyn_common.validation import parse_uuid
from agynio.api.runners.v1 import access_pb2 as pb

from agyn_runners import convert
from agyn_runners.models import workloads
from agyn_runners.permissions import Permissions

MAX_PAIRS = 100


def latest_statement(pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> sa.Select[tuple[object, ...]]:
    """One statement: per pair, its latest workload (created_at DESC, id DESC), by the
    workloads_by_thread index; pairs without a workload yield no row."""
    wanted = sa.values(sa.column("thread_id", sa.Uuid), sa.column("agent_id", sa.Uuid), name="wanted").data(
        pairs
    )
    latest = (
        sa.select(workloads)
        .where(workloads.c.thread_id == wanted.c.thread_id, workloads.c.agent_id == wanted.c.agent_id)
        .order_by(workloads.c.created_at.desc(), workloads.c.id.desc())
        .limit(1)
        .lateral("latest")
    )
    return sa.select(latest).select_from(wanted.join(latest, sa.true()))


class WorkloadAccessHandlers:
    def __init__(self, database: Database, permissions: Permissions) -> None:
        self._db = database
        self._permissions = permissions

    async def latest_thread_workloads(
        self, request: pb.GetLatestThreadWorkloadsRequest
    ) -> pb.GetLatestThreadWorkloadsResponse:
        """In the request's order, a repeated pair once; a workload of an organization the
        caller is not a member of is left out, as ListWorkloadsByThread drops it (§8 #10)."""
        caller = current_caller().require_identity()
        if len(request.pairs) > MAX_PAIRS:
            raise invalid_argument("pairs", f"batch size {len(request.pairs)} exceeds maximum of {MAX_PAIRS}")
        pairs = list(
            dict.fromkeys(
                (
                    parse_uuid(pair.thread_id.strip(), f"pairs[{index}].thread_id"),
                    parse_uuid(pair.agent_id.strip(), f"pairs[{index}].agent_id"),
                )
                for index, pair in enumerate(request.pairs)
            )
        )
        if not pairs:
            return pb.GetLatestThreadWorkloadsResponse()
        async with self._db.read() as connection:
            rows = (await connection.execute(latest_statement(pairs))).all()
        # One membership check per distinct organization (cached by OrganizationAccess).
        visible = await self._permissions.member_of(caller, {row.organization_id for row in rows})
        by_pair = {(row.thread_id, row.agent_id): row for row in rows if row.organization_id in visible}
        return pb.GetLatestThreadWorkloadsResponse(
            latest=[
                pb.LatestThreadWorkload(
                    thread_id=str(thread_id),
                    agent_id=str(agent_id),
                    workload=convert.workload_message(by_pair[thread_id, agent_id]),
                )
                for thread_id, agent_id in pairs
                if (thread_id, agent_id) in by_pair
            ]
        )
