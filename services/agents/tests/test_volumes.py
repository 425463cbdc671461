"""Volumes (sheet §3.4): validation, who may write and read them, pages, and the agents a
volume change reaches."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.agents import pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def volume_request(org: str, **fields) -> pb.CreateVolumeRequest:
    return pb.CreateVolumeRequest(**{"organization_id": org, "mount_path": "/data", **fields})


async def create(agents, caller, org, **fields) -> pb.Volume:
    reply = await agents.stub.CreateVolume(volume_request(org, **fields), metadata=metadata(caller))
    return reply.volume


async def test_create_and_get(agents, cast):
    volume = await create(
        agents, cast.org_owner, cast.org, persistent=True, size="10Gi", description="cache", ttl="7d"
    )
    assert (volume.persistent, volume.mount_path, volume.size, volume.description, volume.ttl) == (
        True,
        "/data",
        "10Gi",
        "cache",
        "7d",
    )
    scratch = await create(agents, cast.org_owner, cast.org, ttl="")
    assert not scratch.HasField("ttl") and not scratch.persistent and scratch.size == ""
    for caller in (cast.org_owner, cast.agent_owner, cast.member):
        got = await agents.stub.GetVolume(pb.GetVolumeRequest(id=volume.meta.id), metadata=metadata(caller))
        assert got.volume == volume
    got = await agents.stub.GetVolume(
        pb.GetVolumeRequest(id=volume.meta.id), metadata=metadata(caller="agents-orchestrator")
    )
    assert got.volume == volume
    await expect_error(
        agents.stub.GetVolume(pb.GetVolumeRequest(id=volume.meta.id), metadata=metadata(cast.outsider)),
        DENIED,
    )
    await expect_error(
        agents.stub.GetVolume(pb.GetVolumeRequest(id=str(uuid.uuid4())), metadata=metadata(cast.member)),
        NOT_FOUND,
    )
    await expect_error(
        agents.stub.GetVolume(pb.GetVolumeRequest(id="v"), metadata=metadata(cast.member)), INVALID
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"organization_id": "acme"}, "organization_id"),
        ({"mount_path": ""}, "mount_path"),
        ({"mount_path": "data"}, "mount_path"),
        ({"mount_path": "/" + "d" * 1024}, "mount_path"),
        ({"persistent": True}, "size"),
        ({"size": "ten gigs"}, "size"),
        ({"description": "d" * 4097}, "description"),
        ({"ttl": "week"}, "ttl"),
        ({"ttl": "0d"}, "ttl"),
    ],
)
async def test_create_refuses_bad_fields(agents, cast, fields, field):
    error = await expect_error(
        agents.stub.CreateVolume(volume_request(cast.org, **fields), metadata=metadata(cast.org_owner)),
        INVALID,
    )
    assert error.details().startswith(field)


async def test_only_organization_owners_write_volumes(agents, cast):
    volume = await create(agents, cast.org_owner, cast.org)
    for caller in (cast.agent_owner, cast.maintainer, cast.participant, cast.member, cast.outsider):
        call = metadata(caller)
        await expect_error(agents.stub.CreateVolume(volume_request(cast.org), metadata=call), DENIED, "owner")
        await expect_error(
            agents.stub.UpdateVolume(
                pb.UpdateVolumeRequest(id=volume.meta.id, description="x"), metadata=call
            ),
            DENIED,
        )
        await expect_error(
            agents.stub.DeleteVolume(pb.DeleteVolumeRequest(id=volume.meta.id), metadata=call), DENIED
        )


async def test_update_checks_the_resulting_volume(agents, cast):
    volume = await create(agents, cast.org_owner, cast.org)
    owner = metadata(cast.org_owner)
    for fields, field in (
        ({}, "id"),
        ({"persistent": True}, "size"),  # a persistent volume needs a size, given or stored
        ({"mount_path": "rel"}, "mount_path"),
        ({"ttl": "1y"}, "ttl"),
    ):
        error = await expect_error(
            agents.stub.UpdateVolume(pb.UpdateVolumeRequest(id=volume.meta.id, **fields), metadata=owner),
            INVALID,
        )
        assert error.details().startswith(field)
    sized = await agents.stub.UpdateVolume(
        pb.UpdateVolumeRequest(id=volume.meta.id, size="1Gi", ttl="24h"), metadata=owner
    )
    persistent = await agents.stub.UpdateVolume(
        pb.UpdateVolumeRequest(id=volume.meta.id, persistent=True), metadata=owner
    )
    assert (persistent.volume.persistent, persistent.volume.size, persistent.volume.ttl) == (
        True,
        "1Gi",
        "24h",
    )
    assert persistent.volume.meta.updated_at.ToDatetime() > sized.volume.meta.updated_at.ToDatetime()
    cleared = await agents.stub.UpdateVolume(
        pb.UpdateVolumeRequest(id=volume.meta.id, ttl=""), metadata=owner
    )
    assert not cleared.volume.HasField("ttl")
    await expect_error(
        agents.stub.UpdateVolume(pb.UpdateVolumeRequest(id=str(uuid.uuid4()), size="1Gi"), metadata=owner),
        NOT_FOUND,
    )


async def test_an_update_reaches_the_agents_the_volume_is_attached_to(agents, cast, nats):
    volume = await create(agents, cast.org_owner, cast.org)
    await agents.stub.CreateVolumeAttachment(
        pb.CreateVolumeAttachmentRequest(volume_id=volume.meta.id, agent_id=cast.agent.meta.id),
        metadata=metadata(cast.org_owner),
    )
    await agents.stub.UpdateVolume(
        pb.UpdateVolumeRequest(id=volume.meta.id, description="moved"), metadata=metadata(cast.org_owner)
    )
    agent = await agents.stub.GetAgent(
        pb.GetAgentRequest(id=cast.agent.meta.id), metadata=metadata(cast.org_owner)
    )
    assert agent.agent.meta.updated_at.ToDatetime() > cast.agent.meta.updated_at.ToDatetime()
    envelopes = await read_events(
        nats.url,
        f"agyn.rooms.agent.{cast.agent.meta.id}",
        lambda got: len(got) >= 3,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert [e.event for e in envelopes] == ["agent.updated"] * 3  # created, attached, the volume changed
    # In use: not deleted.
    await expect_error(
        agents.stub.DeleteVolume(
            pb.DeleteVolumeRequest(id=volume.meta.id), metadata=metadata(cast.org_owner)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "attachments",
    )


async def test_delete(agents, cast):
    volume = await create(agents, cast.org_owner, cast.org)
    owner = metadata(cast.org_owner)
    await agents.stub.DeleteVolume(pb.DeleteVolumeRequest(id=volume.meta.id), metadata=owner)
    await expect_error(
        agents.stub.DeleteVolume(pb.DeleteVolumeRequest(id=volume.meta.id), metadata=owner), NOT_FOUND
    )
    await expect_error(agents.stub.DeleteVolume(pb.DeleteVolumeRequest(id=""), metadata=owner), INVALID)


async def test_list_pages_one_organization(agents, cast):
    made = [(await create(agents, cast.org_owner, cast.org, description=str(i))).meta.id for i in range(3)]
    other_org = await agents.platform.create_org(cast.outsider)
    await create(agents, cast.outsider, other_org)
    for caller, extra in ((cast.member, {}), (None, {"caller": "agents-orchestrator"})):
        seen, token = [], ""
        while True:
            reply = await agents.stub.ListVolumes(
                pb.ListVolumesRequest(organization_id=cast.org, page_size=2, page_token=token),
                metadata=metadata(caller, **extra),
            )
            seen.extend(v.meta.id for v in reply.volumes)
            token = reply.next_page_token
            if not token:
                break
        assert seen == made
    await expect_error(
        agents.stub.ListVolumes(
            pb.ListVolumesRequest(organization_id=cast.org), metadata=metadata(cast.outsider)
        ),
        DENIED,
    )
    for call_metadata in (metadata(cast.member), metadata(caller="agents-orchestrator")):  # required of all
        await expect_error(agents.stub.ListVolumes(pb.ListVolumesRequest(), metadata=call_metadata), INVALID)
    await expect_error(
        agents.stub.ListVolumes(
            pb.ListVolumesRequest(organization_id=cast.org, page_token="zz!"), metadata=metadata(cast.member)
        ),
        INVALID,
    )
