"""Workloads: records, events, the activity sweep, and the log relay (sheet §3.2, §5)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
import sqlalchemy as sa
from agyn_common.db import Database
from agyn_inprocess.runners import ORCHESTRATOR, workload_request
from agyn_runners.events import RunnerEvents
from agyn_runners.sweep import ActivitySweep
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.runner.v1 import runner_pb2, runner_pb2_grpc
from agynio.api.runners.v1 import runners_pb2 as pb

RUNNING = pb.WORKLOAD_STATUS_RUNNING


async def test_create_read_and_update_with_events(runners, cast, nats):
    created = (await runners.stub.CreateWorkload(workload_request(cast), metadata=ORCHESTRATOR)).workload
    workload_id = created.meta.id
    assert created.agent_state == pb.WORKLOAD_AGENT_STATE_PROCESSING
    await runners.stub.UpdateWorkload(
        pb.UpdateWorkloadRequest(id=workload_id, status=RUNNING), metadata=ORCHESTRATOR
    )
    # The same values again change nothing and announce nothing.
    await runners.stub.UpdateWorkload(
        pb.UpdateWorkloadRequest(id=workload_id, status=RUNNING), metadata=ORCHESTRATOR
    )
    got = (
        await runners.stub.GetWorkload(pb.GetWorkloadRequest(id=workload_id), metadata=metadata(cast.owner))
    ).workload
    assert (got.status, got.agent_name, got.runner_name) == (RUNNING, "Reviewer", "edge")
    envelopes = await read_events(
        nats.url,
        f"agyn.rooms.workload.{workload_id}",
        lambda got: len(got) >= 2,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert [envelope.event for envelope in envelopes] == ["workload.updated", "workload.status_changed"]
    assert dict(envelopes[0].payload) == {
        "workload_id": workload_id,
        "status": "running",
        "agent_state": "processing",
    }
    assert list(envelopes[1].rooms) == [f"workload:{workload_id}", "workloads"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "x"}, "id"),
        ({"runner_id": ""}, "runner_id"),
        ({"status": pb.WORKLOAD_STATUS_UNSPECIFIED}, "status"),
        ({"status": 99}, "status"),
        ({"containers": [pb.Container(name="main")]}, "containers[0].role"),
    ],
)
async def test_create_refuses_bad_input(runners, cast, fields, field):
    error = await expect_error(
        runners.stub.CreateWorkload(workload_request(cast, **fields), metadata=ORCHESTRATOR),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert field in (error.details() or "")


async def test_create_conflicts_and_unknown_runner(runners, cast):
    request = workload_request(cast)
    await runners.stub.CreateWorkload(request, metadata=ORCHESTRATOR)
    await expect_error(
        runners.stub.CreateWorkload(request, metadata=ORCHESTRATOR), grpc.StatusCode.ALREADY_EXISTS
    )
    await expect_error(
        runners.stub.CreateWorkload(
            workload_request(cast, runner_id=str(uuid.uuid4())), metadata=ORCHESTRATOR
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        runners.stub.UpdateWorkload(pb.UpdateWorkloadRequest(id=request.id), metadata=ORCHESTRATOR),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_reads_are_checked_against_the_organization(runners, cast):
    workload = (await runners.stub.CreateWorkload(workload_request(cast), metadata=ORCHESTRATOR)).workload
    for who in (cast.member, cast.outsider):  # can_view_workloads: owners
        await expect_error(
            runners.stub.GetWorkload(pb.GetWorkloadRequest(id=workload.meta.id), metadata=metadata(who)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    listed = await runners.stub.ListWorkloadsByThread(
        pb.ListWorkloadsByThreadRequest(thread_id=workload.thread_id), metadata=metadata(cast.member)
    )
    assert [item.meta.id for item in listed.workloads] == [workload.meta.id]
    hidden = await runners.stub.ListWorkloadsByThread(
        pb.ListWorkloadsByThreadRequest(thread_id=workload.thread_id), metadata=metadata(cast.outsider)
    )
    assert not hidden.workloads


@pytest.mark.parametrize(
    "sort_field",
    [
        pb.LIST_WORKLOADS_SORT_FIELD_STARTED,
        pb.LIST_WORKLOADS_SORT_FIELD_STATUS,
        pb.LIST_WORKLOADS_SORT_FIELD_RUNNER,
        pb.LIST_WORKLOADS_SORT_FIELD_AGENT,
        pb.LIST_WORKLOADS_SORT_FIELD_DURATION,
    ],
)
async def test_list_workloads_pages_by_every_sort(runners, cast, sort_field):
    made = {
        (await runners.stub.CreateWorkload(workload_request(cast), metadata=ORCHESTRATOR)).workload.meta.id
        for _ in range(5)
    }
    seen, token = [], ""
    while True:
        page = await runners.stub.ListWorkloads(
            pb.ListWorkloadsRequest(
                organization_id=cast.org,
                page_size=2,
                page_token=token,
                filter=pb.ListWorkloadsFilter(runner_id_in=[cast.runner.meta.id]),
                sort=pb.ListWorkloadsSort(field=sort_field),
            ),
            metadata=metadata(cast.owner),
        )
        seen += [item.meta.id for item in page.workloads]
        token = page.next_page_token
        if not token:
            break
    assert made <= set(seen) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "sort_field", [pb.LIST_WORKLOADS_SORT_FIELD_STARTED, pb.LIST_WORKLOADS_SORT_FIELD_AGENT]
)
async def test_a_bad_page_token_is_refused_even_with_nothing_to_list(runners, cast, sort_field):
    request = pb.ListWorkloadsRequest(
        organization_id=cast.org, page_token="not a token", sort=pb.ListWorkloadsSort(field=sort_field)
    )
    await expect_error(
        runners.stub.ListWorkloads(request, metadata=metadata(cast.owner)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token",
    )


async def test_touch_flips_idle_to_processing_and_the_sweep_back_once(runners, cast, nats):
    workload = (await runners.stub.CreateWorkload(workload_request(cast), metadata=ORCHESTRATOR)).workload
    await runners.stub.UpdateWorkload(
        pb.UpdateWorkloadRequest(id=workload.meta.id, status=RUNNING), metadata=ORCHESTRATOR
    )
    database = Database(runners.service.runtime.settings.database_url)
    events = RunnerEvents(runners.service.runtime.outbox)
    try:
        async with database.transaction() as connection:  # the agent went quiet a minute ago
            await connection.execute(
                sa.text(
                    "UPDATE workloads SET last_activity_at = now() - interval '60 seconds' WHERE id = :id"
                ),
                {"id": uuid.UUID(workload.meta.id)},
            )
        sweepers = [ActivitySweep(database, events, grace=25) for _ in range(2)]
        flipped = await asyncio.gather(
            *(sweeper.once() for sweeper in sweepers), *(sweeper.once() for sweeper in sweepers)
        )
    finally:
        await database.close()
    assert sum(flipped) >= 1
    got = (
        await runners.stub.GetWorkload(pb.GetWorkloadRequest(id=workload.meta.id), metadata=ORCHESTRATOR)
    ).workload
    assert got.agent_state == pb.WORKLOAD_AGENT_STATE_IDLE
    agent = metadata(cast.agent_id, identity_type="agent")
    await expect_error(
        runners.stub.TouchWorkload(
            pb.TouchWorkloadRequest(id=workload.meta.id), metadata=metadata(cast.member)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await runners.stub.TouchWorkload(pb.TouchWorkloadRequest(id=workload.meta.id), metadata=agent)
    await runners.stub.TouchWorkload(pb.TouchWorkloadRequest(id=workload.meta.id), metadata=agent)
    envelopes = await read_events(
        nats.url,
        f"agyn.rooms.workload.{workload.meta.id}",
        lambda got: len(got) >= 4,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    states = [
        dict(envelope.payload)["agent_state"]
        for envelope in envelopes
        if envelope.event == "workload.updated"
    ]
    assert states == ["processing", "idle", "processing"]  # running; swept once; touched once


class LogRunner(runner_pb2_grpc.RunnerServiceServicer):
    """A runner daemon's log stream: two chunks, then the end, or the status it is told to give."""

    def __init__(self) -> None:
        self.requests: list[runner_pb2.StreamWorkloadLogsRequest] = []
        self.fail: grpc.StatusCode | None = None

    async def StreamWorkloadLogs(self, request, context):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        if self.fail is not None:
            await context.abort(self.fail, "no such container")
        for data in (b"one\n", b"two\n"):
            yield runner_pb2.StreamWorkloadLogsResponse(chunk=runner_pb2.LogChunk(data=data))


async def test_logs_are_relayed_from_the_runners_address(runners, cast):
    workload = (await runners.stub.CreateWorkload(workload_request(cast), metadata=ORCHESTRATOR)).workload
    request = runner_pb2.StreamWorkloadLogsRequest(
        workload_id=workload.meta.id, container_name="main", follow=True, tail_lines=5
    )
    owner = metadata(cast.owner)
    await expect_error(
        _collect(runners.stub.StreamWorkloadLogs(request, metadata=owner)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "instance_id",
    )
    await runners.stub.UpdateWorkload(
        pb.UpdateWorkloadRequest(id=workload.meta.id, instance_id="pod-1"), metadata=ORCHESTRATOR
    )
    await expect_error(
        _collect(runners.stub.StreamWorkloadLogs(request, metadata=owner)),
        grpc.StatusCode.FAILED_PRECONDITION,
        cast.runner.meta.id,
    )
    daemon = LogRunner()
    server = grpc.aio.server()
    runner_pb2_grpc.add_RunnerServiceServicer_to_server(daemon, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    database = Database(runners.service.runtime.settings.database_url)
    try:
        async with database.transaction() as connection:  # what EnrollRunner records from x-runner-address
            await connection.execute(
                sa.text("UPDATE runners SET address = :address WHERE id = :id"),
                {"address": f"127.0.0.1:{port}", "id": uuid.UUID(cast.runner.meta.id)},
            )
        chunks = await _collect(runners.stub.StreamWorkloadLogs(request, metadata=owner))
        assert [chunk.chunk.data for chunk in chunks] == [b"one\n", b"two\n"]
        forwarded = daemon.requests[-1]
        assert (forwarded.workload_id, forwarded.container_name, forwarded.follow, forwarded.tail_lines) == (
            "pod-1",
            "main",
            True,
            5,
        )
        daemon.fail = grpc.StatusCode.NOT_FOUND
        await expect_error(
            _collect(runners.stub.StreamWorkloadLogs(request, metadata=owner)), grpc.StatusCode.NOT_FOUND
        )
        await expect_error(
            _collect(runners.stub.StreamWorkloadLogs(request, metadata=metadata(cast.member))),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    finally:
        await database.close()
        await server.stop(0)


async def _collect(call):  # type: ignore[no-untyped-def]
    return [message async for message in call]
