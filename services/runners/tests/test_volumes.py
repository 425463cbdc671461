"""Volumes: records, their checks, listings under every sort, names and attachments from
Agents, and the `volume.updated` events (sheet §3.3, §4, §5, §8 #14)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from agyn_inprocess.agents import pb as agents_pb
from agyn_inprocess.runners import ORCHESTRATOR, volume_request
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.runners.v1 import runners_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

BAD = grpc.StatusCode.INVALID_ARGUMENT
ACTIVE = pb.VOLUME_STATUS_ACTIVE
DELETED = pb.VOLUME_STATUS_DELETED


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def definition(agents, cast, **fields: Any) -> str:
    """A volume definition in Agents, in the cast's organization."""
    reply = await agents.stub.CreateVolume(
        agents_pb.CreateVolumeRequest(organization_id=cast.org, mount_path="/data", **fields),
        metadata=metadata(cast.owner),
    )
    return str(reply.volume.meta.id)


async def create(runners, cast, **fields: Any) -> pb.Volume:
    reply = await runners.stub.CreateVolume(volume_request(cast, **fields), metadata=ORCHESTRATOR)
    return reply.volume


async def update(runners, volume_id: str, **fields: Any) -> pb.Volume:
    reply = await runners.stub.UpdateVolume(
        pb.UpdateVolumeRequest(id=volume_id, **fields), metadata=ORCHESTRATOR
    )
    return reply.volume


async def test_updates_announce_what_changed_to_the_organization_and_the_volume(runners, cast, nats):
    volume = await create(runners, cast, size_gb=" 1.5 ")
    assert (volume.size_gb, volume.status, volume.volume_name) == ("1.5", pb.VOLUME_STATUS_PROVISIONING, "")
    await update(runners, volume.meta.id, status=ACTIVE, instance_id=" pvc-1 ")
    # Neither the same values again nor a metering time is news.
    await update(runners, volume.meta.id, status=ACTIVE, instance_id="pvc-1")
    await update(runners, volume.meta.id, last_metering_sampled_at=at(datetime.now(UTC)))
    removed = await update(runners, volume.meta.id, status=DELETED, removed_at=at(datetime.now(UTC)))
    assert (removed.instance_id, removed.HasField("removed_at")) == ("pvc-1", True)
    envelopes = await read_events(
        nats.url,
        f"agyn.rooms.volume.{volume.meta.id}",
        lambda got: any(envelope.payload["status"] == "deleted" for envelope in got),
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert [(envelope.event, dict(envelope.payload)) for envelope in envelopes] == [
        ("volume.updated", {"volume_id": volume.meta.id, "status": status})
        for status in ("active", "deleted")
    ]
    assert list(envelopes[0].rooms) == [f"organization:{cast.org}", f"volume:{volume.meta.id}"]


async def test_reads_carry_the_definitions_name_and_attachments(runners, agents, cast):
    owner = metadata(cast.owner)
    named = await definition(agents, cast, description="Scratch space")
    mcp = await agents.stub.CreateMcp(
        agents_pb.CreateMcpRequest(agent_id=cast.agent_id, name="files"), metadata=owner
    )
    hook = await agents.stub.CreateHook(
        agents_pb.CreateHookRequest(agent_id=cast.agent_id, event="start"), metadata=owner
    )
    for target in ({"agent_id": cast.agent_id}, {"mcp_id": mcp.mcp.meta.id}, {"hook_id": hook.hook.meta.id}):
        await agents.stub.CreateVolumeAttachment(
            agents_pb.CreateVolumeAttachmentRequest(volume_id=named, **target), metadata=owner
        )
    unnamed = await definition(agents, cast)  # no description: its mount path names it
    volumes = {
        key: (await create(runners, cast, volume_id=value)).meta.id
        for key, value in (("named", named), ("unnamed", unnamed), ("missing", str(uuid.uuid4())))
    }
    got = {
        key: (await runners.stub.GetVolume(pb.GetVolumeRequest(id=value), metadata=owner)).volume
        for key, value in volumes.items()
    }
    assert {key: volume.volume_name for key, volume in got.items()} == {
        "named": "Scratch space",
        "unnamed": "/data",
        "missing": "unknown",
    }
    assert sorted((item.kind, item.id, item.name) for item in got["named"].attachments) == [
        (pb.ATTACHMENT_KIND_AGENT, cast.agent_id, "Reviewer"),
        (pb.ATTACHMENT_KIND_MCP, mcp.mcp.meta.id, "files"),
        (pb.ATTACHMENT_KIND_HOOK, hook.hook.meta.id, "start"),
    ]
    assert not got["unnamed"].attachments and not got["missing"].attachments
    listed = await runners.stub.ListVolumes(pb.ListVolumesRequest(organization_id=cast.org), metadata=owner)
    assert {volume.meta.id: volume for volume in listed.volumes} == {
        got[key].meta.id: got[key] for key in got
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "x"}, "id"),
        ({"volume_id": ""}, "volume_id"),
        ({"thread_id": "not-a-uuid"}, "thread_id"),
        ({"runner_id": " "}, "runner_id"),
        ({"agent_id": "1"}, "agent_id"),
        ({"organization_id": ""}, "organization_id"),
        ({"status": pb.VOLUME_STATUS_UNSPECIFIED}, "status"),
        ({"status": 99}, "status"),
        ({"size_gb": " "}, "size_gb"),
        ({"size_gb": "-1"}, "size_gb"),
        ({"size_gb": "1e3"}, "size_gb"),
        ({"size_gb": "10Gi"}, "size_gb"),
        ({"size_gb": "1.2.3"}, "size_gb"),
    ],
)
async def test_create_refuses_bad_input_naming_the_field(runners, cast, fields, field):
    await expect_error(
        runners.stub.CreateVolume(volume_request(cast, **fields), metadata=ORCHESTRATOR), BAD, field
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "at least one field"),
        ({"status": pb.VOLUME_STATUS_UNSPECIFIED}, "status"),
        ({"status": 42}, "status"),
        ({"instance_id": "  "}, "instance_id"),
        ({"id": "x", "status": ACTIVE}, "id"),
    ],
)
async def test_update_refuses_bad_input_naming_the_field(runners, cast, fields, field):
    volume = await create(runners, cast)
    request = pb.UpdateVolumeRequest(**{"id": volume.meta.id, **fields})
    await expect_error(runners.stub.UpdateVolume(request, metadata=ORCHESTRATOR), BAD, field)


async def test_conflicts_and_missing_records(runners, cast):
    request = volume_request(cast)
    await runners.stub.CreateVolume(request, metadata=ORCHESTRATOR)
    await expect_error(
        runners.stub.CreateVolume(request, metadata=ORCHESTRATOR), grpc.StatusCode.ALREADY_EXISTS
    )
    missing = str(uuid.uuid4())
    for call in (
        runners.stub.CreateVolume(volume_request(cast, runner_id=missing), metadata=ORCHESTRATOR),
        runners.stub.UpdateVolume(pb.UpdateVolumeRequest(id=missing, status=ACTIVE), metadata=ORCHESTRATOR),
        runners.stub.GetVolume(pb.GetVolumeRequest(id=missing), metadata=metadata(cast.owner)),
    ):
        await expect_error(call, grpc.StatusCode.NOT_FOUND)


async def test_reads_are_checked_against_the_organization(runners, agents, cast):
    volume = await create(runners, cast)
    for who in (cast.owner, await agents.platform.admin()):  # can_view_volumes
        got = await runners.stub.GetVolume(pb.GetVolumeRequest(id=volume.meta.id), metadata=metadata(who))
        listed = await runners.stub.ListVolumes(
            pb.ListVolumesRequest(organization_id=cast.org), metadata=metadata(who)
        )
        assert [got.volume.meta.id] == [item.meta.id for item in listed.volumes] == [volume.meta.id]
    for who in (cast.member, cast.outsider):
        await expect_error(
            runners.stub.GetVolume(pb.GetVolumeRequest(id=volume.meta.id), metadata=metadata(who)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
        await expect_error(
            runners.stub.ListVolumes(pb.ListVolumesRequest(organization_id=cast.org), metadata=metadata(who)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    # A platform caller (no identity) reads any record, across organizations.
    got = await runners.stub.GetVolume(pb.GetVolumeRequest(id=volume.meta.id), metadata=ORCHESTRATOR)
    assert got.volume.meta.id == volume.meta.id
    everywhere = await runners.stub.ListVolumes(
        pb.ListVolumesRequest(filter=pb.ListVolumesFilter(runner_id_in=[cast.runner.meta.id])),
        metadata=ORCHESTRATOR,
    )
    assert [item.meta.id for item in everywhere.volumes] == [volume.meta.id]
    # The thread's rows: members see them; others get a page without them.
    by_thread = pb.ListVolumesByThreadRequest(thread_id=volume.thread_id)
    seen = {
        who: [
            item.meta.id
            for item in (await runners.stub.ListVolumesByThread(by_thread, metadata=metadata(who))).volumes
        ]
        for who in (cast.member, cast.outsider)
    }
    assert seen == {cast.member: [volume.meta.id], cast.outsider: []}


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({}, "organization_id"),  # required with an identity
        ({"organization_id": "nope"}, "organization_id"),
        ({"filter": pb.ListVolumesFilter(attached_to_kind_in=[0])}, "filter.attached_to_kind_in[0]"),
        ({"filter": pb.ListVolumesFilter(runner_id_in=["x"])}, "filter.runner_id_in"),
        ({"filter": pb.ListVolumesFilter(status_in=[0])}, "filter.status_in[0]"),
        ({"statuses": [77]}, "statuses[0]"),
        ({"sort": pb.ListVolumesSort(field=99)}, "sort.field"),
        ({"sort": pb.ListVolumesSort(direction=9)}, "sort.direction"),
        ({"page_token": "not a token"}, "page_token"),
    ],
)
async def test_list_refuses_bad_input_naming_the_field(runners, cast, request_fields, field):
    fields = {"organization_id": cast.org, **request_fields} if request_fields else {}
    request = pb.ListVolumesRequest(**fields)
    await expect_error(runners.stub.ListVolumes(request, metadata=metadata(cast.owner)), BAD, field)


def status_text(status: int) -> str:
    return pb.VolumeStatus.Name(status).removeprefix("VOLUME_STATUS_").lower()


SORT_KEYS = {
    pb.LIST_VOLUMES_SORT_FIELD_UNSPECIFIED: lambda volume: volume.volume_name.strip().lower(),
    pb.LIST_VOLUMES_SORT_FIELD_NAME: lambda volume: volume.volume_name.strip().lower(),
    pb.LIST_VOLUMES_SORT_FIELD_SIZE: lambda volume: Decimal(volume.size_gb),
    pb.LIST_VOLUMES_SORT_FIELD_STATUS: lambda volume: status_text(volume.status),
    pb.LIST_VOLUMES_SORT_FIELD_CREATED: lambda volume: volume.meta.created_at.ToDatetime(),
}


async def page_through(call, request: Any, field: str) -> list[Any]:
    """Every item of a listing, page by page; each page at most its size."""
    items, token = [], ""
    while True:
        request.page_token = token
        page = await call(request)
        assert len(getattr(page, field)) <= request.page_size
        items += list(getattr(page, field))
        token = page.next_page_token
        if not token:
            return items


@pytest.mark.parametrize(
    "direction", [pb.SORT_DIRECTION_UNSPECIFIED, pb.SORT_DIRECTION_ASC, pb.SORT_DIRECTION_DESC]
)
@pytest.mark.parametrize("sort_field", list(SORT_KEYS))
async def test_list_volumes_pages_in_the_order_of_every_sort(runners, agents, cast, sort_field, direction):
    names = ["bravo", "Alpha", " charlie"]
    definitions = [await definition(agents, cast, description=name) for name in names]
    # Two records of one definition and one of none ("unknown") make ties broken by id.
    made = [
        await create(runners, cast, volume_id=volume_id, size_gb=size, status=status)
        for volume_id, size, status in zip(
            [*definitions, definitions[0], str(uuid.uuid4())],
            ["10", "9.5", "100", "0.25", "10"],
            [ACTIVE, pb.VOLUME_STATUS_PROVISIONING, ACTIVE, pb.VOLUME_STATUS_FAILED, DELETED],
            strict=True,
        )
    ]
    owner = metadata(cast.owner)
    request = pb.ListVolumesRequest(
        organization_id=cast.org, page_size=2, sort=pb.ListVolumesSort(field=sort_field, direction=direction)
    )
    seen = await page_through(lambda sent: runners.stub.ListVolumes(sent, metadata=owner), request, "volumes")
    descending = direction == pb.SORT_DIRECTION_DESC  # every sort of volumes is ascending by default
    by_id = sorted(seen, key=lambda volume: volume.meta.id)
    expected = sorted(by_id, key=SORT_KEYS[sort_field], reverse=descending)  # ties stay by id
    assert [volume.meta.id for volume in seen] == [volume.meta.id for volume in expected]
    assert sorted(volume.meta.id for volume in seen) == sorted(volume.meta.id for volume in made)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (pb.ListVolumesFilter(volume_name_substring=" ALP "), {"alpha"}),
        (pb.ListVolumesFilter(attached_to_kind_in=[pb.VOLUME_ATTACHMENT_FILTER_KIND_AGENT]), {"alpha"}),
        (pb.ListVolumesFilter(attached_to_kind_in=[pb.VOLUME_ATTACHMENT_FILTER_KIND_MCP]), set()),
        (
            pb.ListVolumesFilter(attached_to_kind_in=[pb.VOLUME_ATTACHMENT_FILTER_KIND_UNATTACHED]),
            {"beta", "unknown"},
        ),
        (pb.ListVolumesFilter(status_in=[ACTIVE]), {"beta"}),
        (pb.ListVolumesFilter(), {"alpha", "beta", "unknown"}),
    ],
)
async def test_list_volumes_filters(runners, agents, cast, given, expected):
    alpha, beta = [await definition(agents, cast, description=name) for name in ("alpha", "beta")]
    await agents.stub.CreateVolumeAttachment(
        agents_pb.CreateVolumeAttachmentRequest(volume_id=alpha, agent_id=cast.agent_id),
        metadata=metadata(cast.owner),
    )
    await create(runners, cast, volume_id=alpha)
    await create(runners, cast, volume_id=beta, status=ACTIVE)
    await create(runners, cast)  # a definition Agents does not know
    request = pb.ListVolumesRequest(organization_id=cast.org, page_size=1, filter=given)
    seen = await page_through(
        lambda sent: runners.stub.ListVolumes(sent, metadata=metadata(cast.owner)), request, "volumes"
    )
    assert sorted(volume.volume_name for volume in seen) == sorted(expected)


async def test_list_by_thread_pages_by_id_without_names(runners, agents, cast):
    thread = str(uuid.uuid4())
    named = await definition(agents, cast, description="named")
    made = [(await create(runners, cast, thread_id=thread, volume_id=named)).meta.id for _ in range(5)]
    await create(runners, cast)  # another thread's
    request = pb.ListVolumesByThreadRequest(thread_id=thread, page_size=2)
    for caller in (ORCHESTRATOR, metadata(cast.member)):
        seen = await page_through(
            lambda sent, caller=caller: runners.stub.ListVolumesByThread(sent, metadata=caller),
            request,
            "volumes",
        )
        assert [volume.meta.id for volume in seen] == sorted(made)
        assert {(volume.volume_name, len(volume.attachments)) for volume in seen} == {("", 0)}


async def test_sampled_at_batches_and_pending_sample(runners, cast):
    first, second = await create(runners, cast), await create(runners, cast)
    now = datetime.now(UTC).replace(microsecond=0)
    await update(runners, second.meta.id, status=DELETED, removed_at=at(now - timedelta(hours=1)))
    entries = [
        pb.SampledAtEntry(id=second.meta.id, sampled_at=at(now - timedelta(hours=2))),
        pb.SampledAtEntry(id=str(uuid.uuid4()), sampled_at=at(now)),  # unknown: ignored
        pb.SampledAtEntry(id=second.meta.id, sampled_at=at(now)),  # the last of an id wins
    ]
    await runners.stub.BatchUpdateVolumeSampledAt(
        pb.BatchUpdateVolumeSampledAtRequest(entries=entries), metadata=ORCHESTRATOR
    )
    got = await runners.stub.GetVolume(pb.GetVolumeRequest(id=second.meta.id), metadata=ORCHESTRATOR)
    assert got.volume.last_metering_sampled_at.ToDatetime(tzinfo=UTC) == now
    # Sampled after its removal: nothing left to meter; the live one always is.
    pending = {}
    for wanted in (True, False):
        listed = await runners.stub.ListVolumes(
            pb.ListVolumesRequest(
                filter=pb.ListVolumesFilter(runner_id_in=[cast.runner.meta.id], pending_sample=wanted)
            ),
            metadata=ORCHESTRATOR,
        )
        pending[wanted] = [volume.meta.id for volume in listed.volumes]
    assert pending == {True: [first.meta.id], False: [second.meta.id]}


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([pb.SampledAtEntry(id="x")], "entries[1].id"),
        (
            [
                pb.SampledAtEntry(id=str(uuid.uuid4()), sampled_at=Timestamp()),
                pb.SampledAtEntry(id=str(uuid.uuid4())),
            ],
            "entries[2].sampled_at",
        ),
    ],
)
async def test_sampled_at_refuses_bad_entries_and_writes_none(runners, cast, entries, field):
    volume = await create(runners, cast)
    # A valid entry first: nothing is written when a later one is bad.
    valid = pb.SampledAtEntry(id=volume.meta.id, sampled_at=at(datetime.now(UTC)))
    entries = [valid, *entries]
    await expect_error(
        runners.stub.BatchUpdateVolumeSampledAt(
            pb.BatchUpdateVolumeSampledAtRequest(entries=entries), metadata=ORCHESTRATOR
        ),
        BAD,
        field,
    )
    got = await runners.stub.GetVolume(pb.GetVolumeRequest(id=volume.meta.id), metadata=ORCHESTRATOR)
    assert not got.volume.HasField("last_metering_sampled_at")
