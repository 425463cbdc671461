"""Workloads: the records the orchestrator writes, their reads, activity and logs (sheet §3.2).

The orchestrator (no identity) writes; clients read through the Gateway with an identity,
checked against the workload's organization; platform readers call without one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import grpc
import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.clients import ServiceChannels
from agyn_common.db import Database
from agyn_common.errors import ServiceError, failed_precondition, invalid_argument, permission_denied
from agyn_common.pagination import KeysetPage
from agyn_common.validation import check_length, parse_uuid, parse_uuid_list
from agynio.api.runner.v1 import runner_pb2, runner_pb2_grpc
from agynio.api.runners.v1 import runners_pb2 as pb

from agyn_runners import convert, store
from agyn_runners.events import RunnerEvents
from agyn_runners.models import runners, workloads
from agyn_runners.names import NameSource
from agyn_runners.permissions import CAN_VIEW_WORKLOADS, Permissions
from agyn_runners.rpc.listing import (
    MAX_IDS,
    checked_sort,
    common_filters,
    direction,
    keyset,
    scope,
    sort_by_name,
)
from agyn_runners.rpc.sampled import sampled_entries

MAX_TEXT = 4096


def _status(value: int, field: str = "status") -> str:
    return convert.enum_text(convert.WORKLOAD_STATUS, value, field)


def _statuses(values: Any, field: str) -> list[str]:
    if len(values) > len(convert.WORKLOAD_STATUS):
        raise invalid_argument(field, "too many statuses")
    return [_status(value, f"{field}[{index}]") for index, value in enumerate(values)]


def _running_resets_activity(before: Any, values: dict[str, Any]) -> None:
    """starting → running restarts the activity clock (sheet §3.2)."""
    if before.status == "starting" and values.get("status") == "running":
        values["last_activity_at"] = sa.func.now()


class WorkloadHandlers:
    def __init__(
        self,
        database: Database,
        permissions: Permissions,
        events: RunnerEvents,
        names: NameSource,
        channels: ServiceChannels,
    ) -> None:
        self._db = database
        self._permissions = permissions
        self._events = events
        self._names = names
        self._channels = channels

    async def create(self, request: pb.CreateWorkloadRequest) -> pb.CreateWorkloadResponse:
        values: dict[str, Any] = {
            field: parse_uuid(getattr(request, field).strip(), field)
            for field in ("id", "runner_id", "thread_id", "agent_id", "organization_id")
        }
        values.update(
            status=_status(request.status),
            containers=convert.containers_json(request.containers),
            ziti_identity_id=check_length(
                request.ziti_identity_id.strip(), "ziti_identity_id", max_chars=MAX_TEXT
            ),
            allocated_cpu_millicores=request.allocated_cpu_millicores,
            allocated_ram_bytes=request.allocated_ram_bytes,
            agent_state="processing",
        )
        async with self._db.transaction() as connection:
            row = await store.insert(connection, "workload", values)
        return pb.CreateWorkloadResponse(workload=convert.workload_message(row))

    async def update(self, request: pb.UpdateWorkloadRequest) -> pb.UpdateWorkloadResponse:
        workload_id = parse_uuid(request.id.strip(), "id")
        values: dict[str, Any] = {}
        if request.HasField("status"):
            values["status"] = _status(request.status)
        if request.containers:  # empty: not supplied
            values["containers"] = convert.containers_json(request.containers)
        if request.HasField("instance_id"):
            values["instance_id"] = check_length(
                request.instance_id.strip(), "instance_id", max_chars=MAX_TEXT, required=True
            )
        for field in ("removed_at", "last_metering_sampled_at"):
            if request.HasField(field):
                values[field] = getattr(request, field).ToDatetime(tzinfo=UTC)
        if request.HasField("failure_reason"):
            values["failure_reason"] = convert.enum_text(
                convert.FAILURE_REASON, request.failure_reason, "failure_reason"
            )
        if request.HasField("failure_message"):
            values["failure_message"] = check_length(
                request.failure_message.strip(), "failure_message", max_chars=MAX_TEXT
            )
        if not values:
            raise invalid_argument("id", "at least one field must be provided")
        row = await self._write(workload_id, values)
        return pb.UpdateWorkloadResponse(workload=convert.workload_message(row))

    async def update_status(self, request: pb.UpdateWorkloadStatusRequest) -> pb.UpdateWorkloadStatusResponse:
        workload_id = parse_uuid(request.id.strip(), "id")
        values = {
            "status": _status(request.status),
            "containers": convert.containers_json(request.containers),
        }
        row = await self._write(workload_id, values)  # same events as UpdateWorkload (§8 #8)
        return pb.UpdateWorkloadStatusResponse(workload=convert.workload_message(row))

    async def delete(self, request: pb.DeleteWorkloadRequest) -> pb.DeleteWorkloadResponse:
        workload_id = parse_uuid(request.id.strip(), "id")
        # A soft delete; the events tell of the status change when there is one (§8 #7).
        await self._write(workload_id, {"status": "stopped", "removed_at": sa.func.now()})
        return pb.DeleteWorkloadResponse()

    async def _write(self, workload_id: uuid.UUID, values: dict[str, Any]) -> Any:
        async with self._db.transaction() as connection:
            before = await store.load(connection, "workload", workload_id, lock=True)
            _running_resets_activity(before, values)
            row = await store.update(connection, "workload", workload_id, values)
            await self._events.workload_changed(connection, before, row)
        return row

    async def touch(self, request: pb.TouchWorkloadRequest) -> pb.TouchWorkloadResponse:
        caller = current_caller().require_identity()
        workload_id = parse_uuid(request.id.strip(), "id")
        async with self._db.transaction() as connection:
            row = (await connection.execute(store.touch_statement(workload_id, caller))).first()
            if row is None:
                await store.load(connection, "workload", workload_id)  # NOT_FOUND when missing
                raise permission_denied("permission denied")  # another agent's
            if row.previous_state == "idle":
                await self._events.workload_changed(connection, None, row)
        return pb.TouchWorkloadResponse()

    async def get(self, request: pb.GetWorkloadRequest) -> pb.GetWorkloadResponse:
        workload_id = parse_uuid(request.id.strip(), "id")
        caller = current_caller().identity_id
        async with self._db.read() as connection:
            row = await store.load(connection, "workload", workload_id)
            runner_names = await store.runner_names(connection, [row.runner_id])
        if caller is not None:
            await self._permissions.require(caller, CAN_VIEW_WORKLOADS, row.organization_id)
        agent_name = await self._names().agent(row.agent_id)
        return pb.GetWorkloadResponse(
            workload=convert.workload_message(
                row, agent_name=agent_name, runner_name=runner_names.get(row.runner_id, "")
            )
        )

    async def list_by_thread(
        self, request: pb.ListWorkloadsByThreadRequest
    ) -> pb.ListWorkloadsByThreadResponse:
        caller = current_caller().identity_id
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        query = sa.select(workloads).where(workloads.c.thread_id == thread_id)
        agent_scope = ""
        if request.HasField("agent_id"):
            agent_id = parse_uuid(request.agent_id.strip(), "agent_id")
            query = query.where(workloads.c.agent_id == agent_id)
            agent_scope = str(agent_id)
        statuses = _statuses(request.statuses, "statuses")
        if statuses:
            query = query.where(workloads.c.status.in_(statuses))
        page = KeysetPage(
            request.page_token,
            request.page_size,
            scope=scope("workloads-by-thread", str(thread_id), agent_scope, *sorted(statuses)),
            sort=workloads.c.created_at,
            key=workloads.c.id,
            descending=True,
        )
        async with self._db.read() as connection:
            rows, token = page.split((await connection.execute(page.query(query))).all())
        if caller is not None:
            # Rows of organizations the caller is not in are dropped after paging (§8 #10).
            visible = await self._permissions.member_of(caller, {row.organization_id for row in rows})
            rows = [row for row in rows if row.organization_id in visible]
        return pb.ListWorkloadsByThreadResponse(
            workloads=[convert.workload_message(row) for row in rows], next_page_token=token
        )

    async def list(self, request: pb.ListWorkloadsRequest) -> pb.ListWorkloadsResponse:
        caller = current_caller().identity_id
        given = request.filter
        statuses = _statuses(given.status_in, "filter.status_in") + _statuses(request.statuses, "statuses")
        filtered = common_filters(workloads, request, statuses, with_identity=caller is not None)
        conditions, organization_id, runner_ids = (
            filtered.conditions,
            filtered.organization_id,
            filtered.runner_ids,
        )
        agent_ids = parse_uuid_list(given.agent_id_in, "filter.agent_id_in", max_items=MAX_IDS)
        if agent_ids:
            conditions.append(workloads.c.agent_id.in_(agent_ids))
        if given.HasField("started_after"):
            conditions.append(workloads.c.created_at >= given.started_after.ToDatetime(tzinfo=UTC))
        if given.HasField("started_before"):
            conditions.append(workloads.c.created_at < given.started_before.ToDatetime(tzinfo=UTC))
        field = checked_sort(request.sort, pb.ListWorkloadsSortField)
        descending = direction(request.sort.direction, default_descending=True)
        if caller is not None and organization_id is not None:
            await self._permissions.require(caller, CAN_VIEW_WORKLOADS, organization_id)
        names = self._names()
        kind_scope = scope(
            "workloads", str(organization_id), given, request.sort, *sorted(statuses), *map(str, runner_ids)
        )
        joined: Any = workloads.join(runners, runners.c.id == workloads.c.runner_id)
        sort: Any = workloads.c.created_at
        if field == pb.LIST_WORKLOADS_SORT_FIELD_DURATION:
            descending = not descending  # the longest-lived first for DESC (sheet §3.2)
        elif field == pb.LIST_WORKLOADS_SORT_FIELD_STATUS:
            sort = workloads.c.status
        elif field == pb.LIST_WORKLOADS_SORT_FIELD_RUNNER:
            sort = sa.func.lower(runners.c.name).label("sort_key")
        elif field == pb.LIST_WORKLOADS_SORT_FIELD_AGENT:
            by_name = await sort_by_name(
                self._db, workloads.c.agent_id, conditions, names.agents, request.page_token, kind_scope
            )
            if by_name is None:
                return pb.ListWorkloadsResponse()
            named, sort = by_name
            joined = joined.outerjoin(named, named.c.id == workloads.c.agent_id)
        page = keyset(
            request.page_token, request.page_size, kind_scope, sort, workloads.c.id, descending=descending
        )
        query = (
            sa.select(workloads, runners.c.name.label("runner_name"), sort)
            .select_from(joined)
            .where(*conditions)
        )
        async with self._db.read() as connection:
            rows, token = page.split((await connection.execute(page.query(query))).all())
        agent_names = await names.agents({row.agent_id for row in rows})
        return pb.ListWorkloadsResponse(
            workloads=[
                convert.workload_message(
                    row, agent_name=agent_names[row.agent_id], runner_name=row.runner_name
                )
                for row in rows
            ],
            next_page_token=token,
        )

    async def sampled_at(
        self, request: pb.BatchUpdateWorkloadSampledAtRequest
    ) -> pb.BatchUpdateWorkloadSampledAtResponse:
        entries = sampled_entries(request.entries)
        async with self._db.transaction() as connection:
            await store.sampled_at(connection, "workload", entries)
        return pb.BatchUpdateWorkloadSampledAtResponse()

    async def stream_logs(
        self, request: runner_pb2.StreamWorkloadLogsRequest
    ) -> AsyncIterator[runner_pb2.StreamWorkloadLogsResponse]:
        """Relay the log stream of the runner hosting the workload (sheet §3.2; DESIGN §3:
        the runner is dialled at the address it told at enrollment)."""
        caller = current_caller().require_identity()
        workload_id = parse_uuid(request.workload_id.strip(), "workload_id")
        check_length(request.container_name.strip(), "container_name", max_chars=MAX_TEXT, required=True)
        async with self._db.read() as connection:
            row = await store.load(connection, "workload", workload_id)
        await self._permissions.require(caller, CAN_VIEW_WORKLOADS, row.organization_id)
        if not (row.instance_id or "").strip():
            raise failed_precondition("workload instance_id is required", "WORKLOAD_NOT_STARTED")
        async with self._db.read() as connection:
            runner = await store.load(connection, "runner", row.runner_id)
        if not runner.address:
            raise failed_precondition(
                f"runner {runner.id} has not told its address",
                "RUNNER_ADDRESS_UNKNOWN",
                runner_id=str(runner.id),
            )
        forwarded = runner_pb2.StreamWorkloadLogsRequest()
        forwarded.CopyFrom(request)
        forwarded.workload_id = row.instance_id  # the runner's own name for it
        stub = runner_pb2_grpc.RunnerServiceStub(self._channels.channel(runner.address))
        call = stub.StreamWorkloadLogs(forwarded)
        try:
            async for message in call:
                yield message
        except grpc.aio.AioRpcError as error:
            # The runner's answer is the caller's (NOT_FOUND, UNAVAILABLE, ...).
            raise ServiceError(
                error.code(), error.details() or f"runner {runner.id}: {error.code().name}"
            ) from None
        finally:
            call.cancel()  # the client went away: so does the upstream call
