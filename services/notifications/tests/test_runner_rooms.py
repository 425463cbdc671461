"""Workload and volume rooms (runners sheet §5, §8 #20): for members of the record's
organization, which Notifications asks of Runners; refused to others and for records Runners
does not know; UNAVAILABLE while Runners is away."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from agyn_common.embedded import free_port
from agyn_inprocess.notifications import read
from agyn_inprocess.runners import ORCHESTRATOR, Cast, new_cast, volume_request, workload_request
from agyn_testkit.calls import expect_error
from agynio.api.runners.v1 import runners_pb2 as pb

DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass(frozen=True)
class Kind:
    """A kind of runtime record: how the orchestrator creates one and changes its status."""

    room: str
    create: Callable[[Any, Cast], Awaitable[str]]
    change: Callable[[Any, str], Awaitable[Any]]
    event: str
    payload: Callable[[str], dict[str, str]]


async def _create_workload(runners, cast: Cast) -> str:
    reply = await runners.stub.CreateWorkload(workload_request(cast), metadata=ORCHESTRATOR)
    return str(reply.workload.meta.id)


async def _run_workload(runners, record_id: str) -> Any:
    request = pb.UpdateWorkloadRequest(id=record_id, status=pb.WORKLOAD_STATUS_RUNNING)
    return await runners.stub.UpdateWorkload(request, metadata=ORCHESTRATOR)


async def _create_volume(runners, cast: Cast) -> str:
    reply = await runners.stub.CreateVolume(volume_request(cast), metadata=ORCHESTRATOR)
    return str(reply.volume.meta.id)


async def _activate_volume(runners, record_id: str) -> Any:
    request = pb.UpdateVolumeRequest(id=record_id, status=pb.VOLUME_STATUS_ACTIVE)
    return await runners.stub.UpdateVolume(request, metadata=ORCHESTRATOR)


KINDS = [
    Kind(
        "workload",
        _create_workload,
        _run_workload,
        "workload.updated",
        lambda record_id: {"workload_id": record_id, "status": "running", "agent_state": "processing"},
    ),
    Kind(
        "volume",
        _create_volume,
        _activate_volume,
        "volume.updated",
        lambda record_id: {"volume_id": record_id, "status": "active"},
    ),
]


@pytest.fixture
async def cast(agents, runners) -> Cast:
    return await new_cast(agents, runners)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.room)
async def test_members_follow_a_records_room_and_see_it_change(notifications, runners, cast, kind):
    record_id = await kind.create(runners, cast)
    room = f"{kind.room}:{record_id}"
    calls = [await notifications.open(identity, [room]) for identity in (cast.owner, cast.member)]
    await expect_error(notifications.subscribe(cast.outsider, [room]).read(), DENIED, room)
    await kind.change(runners, record_id)
    for call in calls:
        [response] = await read(call)  # the first of what the change announces
        envelope = response.envelope
        assert (envelope.event, dict(envelope.payload)) == (kind.event, kind.payload(record_id))
        assert room in envelope.rooms
        call.cancel()


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.room)
async def test_a_record_runners_does_not_know_is_refused(notifications, runners, cast, kind):
    # Another kind's id: a real record, but not of this kind.
    other = next(item for item in KINDS if item is not kind)
    room = f"{kind.room}:{await other.create(runners, cast)}"
    await expect_error(notifications.subscribe(cast.owner, [room]).read(), DENIED, room)


async def test_the_cluster_wide_workloads_room_is_for_platform_callers_only(notifications, cast):
    await expect_error(notifications.subscribe(cast.owner, ["workloads"]).read(), DENIED, "workloads")


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.room)
async def test_runners_away_is_unavailable_not_denied(notifications_with, agents, runners, cast, kind):
    room = f"{kind.room}:{await kind.create(runners, cast)}"
    away = f"127.0.0.1:{free_port()}"
    async with notifications_with(agents_address=agents.service.address, runners_address=away) as without:
        await expect_error(
            without.subscribe(cast.member, [room]).read(), grpc.StatusCode.UNAVAILABLE, "runners"
        )
