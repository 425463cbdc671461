"""ENVs, init scripts, volume and image pull secret attachments (sheet §3.5, §3.7): one
contract, run for each kind and each kind of target (the agent, one of its MCPs or hooks)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from agyn_agents.models import volumes
from agyn_agents.rpc.kinds import KINDS as TABLE
from agyn_inprocess.agents import pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.notifications.v1 import notifications_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
PLATFORM = metadata(caller="agents-orchestrator")

KINDS = ["Env", "InitScript", "VolumeAttachment", "ImagePullSecretAttachment"]
ATTACHMENTS = ["VolumeAttachment", "ImagePullSecretAttachment"]
UPDATABLE = {"Env", "InitScript"}  # attachments are immutable links
TARGETS = ["agent_id", "mcp_id", "hook_id"]
LINKS = {"VolumeAttachment": "volume_id", "ImagePullSecretAttachment": "image_pull_secret_id"}


@dataclass
class World:
    """The cast's agent with one MCP and one hook: the three kinds of target."""

    cast: Any  # conftest's Cast
    targets: dict[str, str]  # target field -> id


@pytest.fixture
async def world(agents, cast) -> World:
    return World(cast, await targets_of(agents, cast, cast.agent.meta.id))


async def targets_of(agents, cast, agent_id: str) -> dict[str, str]:
    owner = metadata(cast.org_owner)
    mcp = await agents.stub.CreateMcp(pb.CreateMcpRequest(agent_id=agent_id, name="files"), metadata=owner)
    hook = await agents.stub.CreateHook(
        pb.CreateHookRequest(agent_id=agent_id, event="start"), metadata=owner
    )
    return {"agent_id": agent_id, "mcp_id": mcp.mcp.meta.id, "hook_id": hook.hook.meta.id}


async def new_volume(agents, owner: uuid.UUID, org: str) -> str:
    reply = await agents.stub.CreateVolume(
        pb.CreateVolumeRequest(organization_id=org, mount_path="/data"), metadata=metadata(owner)
    )
    return str(reply.volume.meta.id)


class Kind:
    def __init__(self, agents, name: str, cast) -> None:
        self.agents, self.stub, self.name, self.cast = agents, agents.stub, name, cast
        self.field = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

    def call(self, verb: str, caller, **fields):
        suffix = "s" if verb == "List" else ""
        request = getattr(pb, f"{verb}{self.name}{suffix}Request")(**fields)
        return getattr(self.stub, f"{verb}{self.name}{suffix}")(request, metadata=caller)

    async def fields(self) -> dict[str, Any]:
        """A valid create's fields but the target; an attachment's link is a new one each time."""
        if self.name == "Env":
            return {"name": "HOME", "value": "/root", "description": "home"}
        if self.name == "InitScript":
            return {"script": "echo hi", "description": "greets"}
        if self.name == "VolumeAttachment":
            return {"volume_id": await new_volume(self.agents, self.cast.org_owner, self.cast.org)}
        return {"image_pull_secret_id": str(uuid.uuid4())}

    async def create(self, caller, target: str, target_id: str, **fields):
        fields = fields or await self.fields()
        return getattr(await self.call("Create", caller, **{target: target_id}, **fields), self.field)

    async def listed(self, caller, page_size: int = 0, **filters) -> list[str]:
        ids, token = [], ""
        while True:
            reply = await self.call("List", caller, page_size=page_size, page_token=token, **filters)
            ids.extend(item.meta.id for item in getattr(reply, f"{self.field}s"))
            token = reply.next_page_token
            if not token:
                return ids


async def agent_of(agents, agent_id: str) -> pb.Agent:
    return (await agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=PLATFORM)).agent


async def room_events(agents, agent_id: str, count: int) -> list:
    envelopes = await read_events(
        agents.service.runtime.settings.nats_url,
        f"agyn.rooms.agent.{agent_id}",
        lambda got: len(got) >= count,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert len(envelopes) == count
    assert {(e.event, e.payload["agent_id"]) for e in envelopes} == {("agent.updated", agent_id)}
    return envelopes


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", KINDS)
async def test_create_read_update_delete(agents, world, name, target):
    kind, owner = Kind(agents, name, world.cast), metadata(world.cast.org_owner)
    agent_id, target_id = world.cast.agent.meta.id, world.targets[target]
    fields = await kind.fields()
    made = await kind.create(owner, target, target_id, **fields)
    assert made.WhichOneof("target") == target and getattr(made, target) == target_id
    for field, value in fields.items():
        assert getattr(made, field) == value, field
    assert getattr(await kind.call("Get", owner, id=made.meta.id), kind.field) == made
    # The owning agent changed in the same transaction (now() is the transaction's time).
    assert (await agent_of(agents, agent_id)).meta.updated_at == made.meta.created_at
    writes = 1

    if name in UPDATABLE:
        updated = getattr(await kind.call("Update", owner, id=made.meta.id, description="new"), kind.field)
        assert updated.description == "new" and getattr(updated, target) == target_id
        assert updated.meta.updated_at.ToDatetime() > made.meta.updated_at.ToDatetime()
        assert (await agent_of(agents, agent_id)).meta.updated_at == updated.meta.updated_at
        error = await expect_error(kind.call("Update", owner, id=made.meta.id), INVALID)
        assert error.details() == "id: at least one field must be provided"
        writes += 1

    more = [(await kind.create(owner, target, target_id)).meta.id for _ in range(2)]
    for size in (1, 2, 0):  # in creation order, whatever the page size
        assert await kind.listed(owner, size, **{target: target_id}) == [made.meta.id, *more]

    before = (await agent_of(agents, agent_id)).meta.updated_at.ToDatetime()
    await kind.call("Delete", owner, id=made.meta.id)
    assert (await agent_of(agents, agent_id)).meta.updated_at.ToDatetime() > before
    await expect_error(kind.call("Get", owner, id=made.meta.id), NOT_FOUND)
    await expect_error(kind.call("Delete", owner, id=made.meta.id), NOT_FOUND)
    if name in UPDATABLE:
        await expect_error(kind.call("Update", owner, id=made.meta.id, description="x"), NOT_FOUND)
    assert await kind.listed(owner, **{target: target_id}) == more
    # The agent, its MCP and hook; then each write of this test.
    await room_events(agents, agent_id, 3 + writes + 2 + 1)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", KINDS)
async def test_who_may_write_and_read(agents, world, name, target):
    cast, kind, target_id = world.cast, Kind(agents, name, world.cast), world.targets[target]
    writers = (cast.org_owner, cast.agent_owner, cast.maintainer)
    made = [(await kind.create(metadata(caller), target, target_id)).meta.id for caller in writers]
    item = made[0]
    itself = metadata(uuid.UUID(cast.agent.meta.id))  # the agent's identity is its id
    for caller in (metadata(cast.participant), metadata(cast.member), metadata(cast.outsider)):
        fields = {target: target_id, **await kind.fields()}
        await expect_error(kind.call("Create", caller, **fields), DENIED, "can_edit_config")
        if name in UPDATABLE:
            await expect_error(kind.call("Update", caller, id=item, description="x"), DENIED)
        await expect_error(kind.call("Delete", caller, id=item), DENIED, "can_edit_config")
        await expect_error(kind.call("Get", caller, id=item), DENIED, "can_read_config")
        await expect_error(kind.call("List", caller, **{target: target_id}), DENIED, "can_read_config")
    for caller in (*(metadata(writer) for writer in writers), itself, PLATFORM):
        assert getattr(await kind.call("Get", caller, id=item), kind.field).meta.id == item
        assert await kind.listed(caller, **{target: target_id}) == made
    # The agent itself reads but does not write.
    await expect_error(kind.call("Create", itself, **{target: target_id}, **await kind.fields()), DENIED)
    if name in UPDATABLE:
        await expect_error(kind.call("Update", itself, id=item, description="x"), DENIED)
    await expect_error(kind.call("Delete", itself, id=item), DENIED)
    assert await kind.listed(PLATFORM, **{target: target_id}) == made  # nothing refused was written


@pytest.mark.parametrize(
    ("name", "fields", "field"),
    [
        ("Env", {"name": ""}, "name"),
        ("Env", {"name": "1PATH"}, "name"),
        ("Env", {"name": "MY-VAR"}, "name"),
        ("Env", {"name": "N" * 257}, "name"),
        ("Env", {"value": None}, "source"),  # neither value nor secret_id
        ("Env", {"value": "v" * (64 * 1024 + 1)}, "value"),
        ("Env", {"value": None, "secret_id": "vault"}, "secret_id"),
        ("Env", {"description": "d" * 4097}, "description"),
        ("InitScript", {"script": "s" * (1024 * 1024 + 1)}, "script"),
        ("InitScript", {"description": "d" * 4097}, "description"),
        ("VolumeAttachment", {"volume_id": ""}, "volume_id"),
        ("VolumeAttachment", {"volume_id": "disk"}, "volume_id"),
        ("ImagePullSecretAttachment", {"image_pull_secret_id": ""}, "image_pull_secret_id"),
        ("ImagePullSecretAttachment", {"image_pull_secret_id": "regcred"}, "image_pull_secret_id"),
    ],
)
async def test_create_refuses_bad_fields(agents, world, name, fields, field):
    kind = Kind(agents, name, world.cast)
    request = {"agent_id": world.cast.agent.meta.id, **await kind.fields(), **fields}
    request = {key: value for key, value in request.items() if value is not None}
    error = await expect_error(kind.call("Create", metadata(world.cast.org_owner), **request), INVALID)
    assert error.details().startswith(f"{field}: "), error.details()


@pytest.mark.parametrize("name", KINDS)
async def test_create_needs_one_existing_target(agents, world, name):
    kind, owner = Kind(agents, name, world.cast), metadata(world.cast.org_owner)
    error = await expect_error(kind.call("Create", owner, **await kind.fields()), INVALID)
    assert error.details() == "target: target must be specified"
    for target in TARGETS:
        for bad in ("", "x"):
            error = await expect_error(
                kind.call("Create", owner, **{target: bad}, **await kind.fields()), INVALID
            )
            assert error.details().startswith(f"{target}: ")
        # The parent it is created under: NOT_FOUND (sheet §3.1, §8 #8).
        missing = {target: str(uuid.uuid4()), **await kind.fields()}
        await expect_error(kind.call("Create", owner, **missing), NOT_FOUND, f"{target[:-3]} not found")
    await expect_error(
        kind.call("Create", metadata(), agent_id=world.cast.agent.meta.id, **await kind.fields()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    for bad in ("", "x"):
        await expect_error(kind.call("Get", owner, id=bad), INVALID, "id: ")
        await expect_error(kind.call("Delete", owner, id=bad), INVALID, "id: ")
    await expect_error(kind.call("Get", owner, id=str(uuid.uuid4())), NOT_FOUND)
    await expect_error(kind.call("Delete", owner, id=str(uuid.uuid4())), NOT_FOUND)
    assert await kind.listed(PLATFORM, agent_id=world.cast.agent.meta.id) == []


@pytest.mark.parametrize("name", KINDS)
async def test_list_filters(agents, world, name):
    kind, owner = Kind(agents, name, world.cast), metadata(world.cast.org_owner)
    fields = await kind.fields()  # attachments: the same link to each target
    rows = {
        target: (await kind.create(owner, target, world.targets[target], **fields)).meta.id
        for target in TARGETS
    }
    error = await expect_error(kind.call("List", owner), INVALID)
    filters = ", ".join([*TARGETS, *([LINKS[name]] if name in LINKS else [])])
    assert error.details() == f"agent_id: at least one of {filters} must be provided"
    for field in (*TARGETS, *([LINKS[name]] if name in LINKS else [])):
        await expect_error(kind.call("List", owner, **{field: "x"}), INVALID, f"{field}: ")
    for target in TARGETS:
        assert await kind.listed(owner, **{target: world.targets[target]}) == [rows[target]]
    both = {"agent_id": world.targets["agent_id"], "mcp_id": world.targets["mcp_id"]}
    assert await kind.listed(owner, **both) == []  # filters are ANDed
    if name in LINKS:
        link = {LINKS[name]: fields[LINKS[name]]}
        assert await kind.listed(owner, **link) == [rows[target] for target in TARGETS]
        assert await kind.listed(owner, **link, hook_id=world.targets["hook_id"]) == [rows["hook_id"]]
        assert await kind.listed(owner, **await kind.fields()) == []  # another link, nothing attached
    for target in ("mcp_id", "hook_id"):  # unknown: NOT_FOUND to identities, nothing to the platform
        unknown = {target: str(uuid.uuid4())}
        await expect_error(kind.call("List", owner, **unknown), NOT_FOUND, f"{target[:-3]} not found")
        assert await kind.listed(PLATFORM, **unknown) == []
    await expect_error(kind.call("List", owner, agent_id=str(uuid.uuid4())), DENIED)


async def insert_rows(agents, name: str, cast, agent_id: str, count: int) -> list[str]:
    """`count` rows targeting the agent, written directly, created a millisecond apart."""
    table, base, rows = TABLE[name].table, datetime.now(UTC), []
    async with agents.service.runtime.db.transaction() as connection:
        for index in range(count):
            row: dict[str, Any] = {
                "id": uuid.uuid4(),
                "agent_id": uuid.UUID(agent_id),
                "created_at": base + timedelta(milliseconds=index),
            }
            if name == "Env":
                row |= {"name": "N", "value": str(index)}
            elif name == "VolumeAttachment":
                row["volume_id"] = uuid.uuid4()
                await connection.execute(
                    sa.insert(volumes).values(
                        id=row["volume_id"], organization_id=uuid.UUID(cast.org), mount_path="/d"
                    )
                )
            elif name == "ImagePullSecretAttachment":
                row["image_pull_secret_id"] = uuid.uuid4()
            rows.append(row)
        await connection.execute(sa.insert(table).values(rows))
    return [str(row["id"]) for row in rows]


@pytest.mark.parametrize("name", KINDS)
async def test_pages(agents, world, name):
    kind, agent_id = Kind(agents, name, world.cast), world.cast.agent.meta.id
    made = await insert_rows(agents, name, world.cast, agent_id, 101)  # random ids: order is by time
    for size, first in ((0, 50), (1, 1), (100, 100), (1000, 100)):
        reply = await kind.call("List", PLATFORM, agent_id=agent_id, page_size=size)
        assert [item.meta.id for item in getattr(reply, f"{kind.field}s")] == made[:first]
        rest = await kind.call(
            "List", PLATFORM, agent_id=agent_id, page_size=1000, page_token=reply.next_page_token
        )
        assert [item.meta.id for item in getattr(rest, f"{kind.field}s")] == made[first:]
        assert rest.next_page_token == ""
    assert await kind.listed(metadata(world.cast.maintainer), 7, agent_id=agent_id) == made
    token = (await kind.call("List", PLATFORM, agent_id=agent_id, page_size=1)).next_page_token
    for garbage in ("??", "abc", "zz!"):
        await expect_error(
            kind.call("List", PLATFORM, agent_id=agent_id, page_token=garbage), INVALID, "page_token"
        )
    # A token pages the listing it came from.
    elsewhere = {"mcp_id": world.targets["mcp_id"]}
    await expect_error(kind.call("List", PLATFORM, **elsewhere, page_token=token), INVALID, "page_token")
    await expect_error(
        kind.call("List", PLATFORM, agent_id=agent_id, **elsewhere, page_token=token), INVALID, "page_token"
    )


@pytest.mark.parametrize("name", ATTACHMENTS)
async def test_listing_by_link_alone_keeps_what_the_caller_may_read(agents, world, name):
    cast, kind, owner = world.cast, Kind(agents, name, world.cast), metadata(world.cast.org_owner)
    second = await agents.create(cast.org_owner, cast.org, name="Second")  # no roles but its creator's
    theirs = await targets_of(agents, cast, second.meta.id)
    fields = await kind.fields()
    made = [
        (await kind.create(owner, target, targets[target], **fields)).meta.id
        for target, targets in (
            ("agent_id", world.targets),
            ("agent_id", theirs),
            ("hook_id", world.targets),
            ("mcp_id", theirs),
        )
    ]
    link = {LINKS[name]: fields[LINKS[name]]}
    mine = [made[0], made[2]]  # what targets the cast's agent
    for caller, expected in (
        (PLATFORM, made),
        (owner, made),
        (metadata(cast.maintainer), mine),
        (metadata(cast.agent_owner), mine),
        (metadata(cast.member), []),
        (metadata(cast.participant), []),
    ):
        for size in (0, 1):  # pages lose what is dropped, and go on
            assert await kind.listed(caller, size, **link) == expected
    outsider = metadata(cast.outsider)
    if name == "VolumeAttachment":  # a volume's attachments are for its organization's members
        await expect_error(kind.call("List", outsider, **link), DENIED, "member")
        await expect_error(kind.call("List", owner, volume_id=str(uuid.uuid4())), NOT_FOUND, "volume")
    else:  # a secret has no organization here: the outsider may read nothing of it
        assert await kind.listed(outsider, **link) == []
        assert await kind.listed(metadata(uuid.UUID(cast.agent.meta.id)), **link) == mine  # the agent itself


@pytest.mark.parametrize("name", ATTACHMENTS)
async def test_an_attachment_is_made_once(agents, world, name):
    kind, owner = Kind(agents, name, world.cast), metadata(world.cast.org_owner)
    fields = await kind.fields()
    for target in TARGETS:
        await kind.create(owner, target, world.targets[target], **fields)
        await expect_error(
            kind.call("Create", owner, **{target: world.targets[target]}, **fields),
            grpc.StatusCode.ALREADY_EXISTS,
            "already",
        )


async def test_a_volume_is_attached_within_its_organization(agents, world):
    cast, kind, owner = (
        world.cast,
        Kind(agents, "VolumeAttachment", world.cast),
        metadata(world.cast.org_owner),
    )
    other_org = await agents.platform.create_org(cast.outsider)
    foreign = await new_volume(agents, cast.outsider, other_org)
    for target in TARGETS:
        error = await expect_error(
            kind.call("Create", owner, **{target: world.targets[target]}, volume_id=foreign), INVALID
        )
        assert error.details() == "volume_id: the volume belongs to another organization"
        # Permission comes first: the volume's owner may not write the agent.
        await expect_error(
            kind.call(
                "Create", metadata(cast.outsider), **{target: world.targets[target]}, volume_id=foreign
            ),
            DENIED,
        )
        # What it references, not its parent: FAILED_PRECONDITION (sheet §3.1, §3.5).
        await expect_error(
            kind.call("Create", owner, **{target: world.targets[target]}, volume_id=str(uuid.uuid4())),
            PRECONDITION,
            "volume not found",
        )
    assert await kind.listed(PLATFORM, volume_id=foreign) == []


async def test_an_env_has_exactly_one_source(agents, world):
    kind, owner = Kind(agents, "Env", world.cast), metadata(world.cast.org_owner)
    agent_id, secret = world.cast.agent.meta.id, str(uuid.uuid4())
    plain = await kind.create(owner, "agent_id", agent_id, name="EMPTY", value="")
    assert (plain.WhichOneof("source"), plain.value) == ("value", "")  # "" is a value
    hidden = await kind.create(owner, "agent_id", agent_id, name="TOKEN", secret_id=secret)
    assert (hidden.WhichOneof("source"), hidden.secret_id) == ("secret_id", secret)

    async def update(id: str, **fields) -> pb.Env:
        return (await kind.call("Update", owner, id=id, **fields)).env

    swapped = await update(plain.meta.id, secret_id=secret)
    assert (swapped.WhichOneof("source"), swapped.secret_id, swapped.name) == ("secret_id", secret, "EMPTY")
    swapped = await update(hidden.meta.id, value="v")
    assert (swapped.WhichOneof("source"), swapped.value) == ("value", "v")
    renamed = await update(hidden.meta.id, name="_T2")
    assert (renamed.name, renamed.value) == ("_T2", "v")
    assert (await kind.call("Get", owner, id=hidden.meta.id)).env == renamed
    for fields, field in (
        ({"value": "v", "secret_id": secret}, "value"),
        ({"secret_id": "vault"}, "secret_id"),
        ({"name": "1X"}, "name"),
        ({"name": ""}, "name"),
    ):
        error = await expect_error(kind.call("Update", owner, id=hidden.meta.id, **fields), INVALID)
        assert error.details().startswith(f"{field}: ")
    assert (await kind.call("Get", owner, id=hidden.meta.id)).env == renamed


@pytest.mark.parametrize("name", KINDS)
async def test_what_is_targeted_is_not_deleted(agents, world, name):
    cast, kind, owner = world.cast, Kind(agents, name, world.cast), metadata(world.cast.org_owner)
    fields = await kind.fields()
    made = [(await kind.create(owner, target, world.targets[target], **fields)).meta.id for target in TARGETS]
    deletes = {
        "mcp_id": agents.stub.DeleteMcp(pb.DeleteMcpRequest(id=world.targets["mcp_id"]), metadata=owner),
        "hook_id": agents.stub.DeleteHook(pb.DeleteHookRequest(id=world.targets["hook_id"]), metadata=owner),
    }
    for target, call in deletes.items():
        await expect_error(call, PRECONDITION, f"{target[:-3]} has sub-resources")
    delete_agent = pb.DeleteAgentRequest(id=cast.agent.meta.id)
    await expect_error(agents.stub.DeleteAgent(delete_agent, metadata=owner), PRECONDITION, "sub-resources")
    if name == "VolumeAttachment":
        delete_volume = pb.DeleteVolumeRequest(id=fields["volume_id"])
        await expect_error(
            agents.stub.DeleteVolume(delete_volume, metadata=owner), PRECONDITION, "attachments"
        )
    for item in made:
        await kind.call("Delete", owner, id=item)
    if name == "VolumeAttachment":
        await agents.stub.DeleteVolume(delete_volume, metadata=owner)
    await agents.stub.DeleteMcp(pb.DeleteMcpRequest(id=world.targets["mcp_id"]), metadata=owner)
    await agents.stub.DeleteHook(pb.DeleteHookRequest(id=world.targets["hook_id"]), metadata=owner)
    await agents.stub.DeleteAgent(delete_agent, metadata=owner)


async def test_a_volume_update_reaches_every_agent_it_is_attached_to(agents, world):
    cast, kind, owner = (
        world.cast,
        Kind(agents, "VolumeAttachment", world.cast),
        metadata(world.cast.org_owner),
    )
    second = await agents.create(cast.org_owner, cast.org, name="Second")
    theirs = await targets_of(agents, cast, second.meta.id)
    volume_id = await new_volume(agents, cast.org_owner, cast.org)
    await kind.create(owner, "agent_id", world.targets["agent_id"], volume_id=volume_id)
    await kind.create(owner, "mcp_id", world.targets["mcp_id"], volume_id=volume_id)  # the same agent again
    await kind.create(owner, "hook_id", theirs["hook_id"], volume_id=volume_id)
    untouched = await agents.create(cast.org_owner, cast.org, name="Untouched")
    updated = await agents.stub.UpdateVolume(pb.UpdateVolumeRequest(id=volume_id, size="1Gi"), metadata=owner)
    for agent_id in (cast.agent.meta.id, second.meta.id):
        assert (await agent_of(agents, agent_id)).meta.updated_at == updated.volume.meta.updated_at
    assert (await agent_of(agents, untouched.meta.id)).meta.updated_at == untouched.meta.updated_at
    # One agent.updated per agent: its creation, MCP, hook, attachments, then the volume.
    await room_events(agents, cast.agent.meta.id, 3 + 2 + 1)
    await room_events(agents, second.meta.id, 3 + 1 + 1)
