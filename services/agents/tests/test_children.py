"""MCPs, skills and hooks (sheet §3.6): one contract, run for each kind. What targets an MCP or
hook, and keeps it from being deleted, is in test_targeted.py."""

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

# kind → a valid create request's fields (without agent_id)
VALID = {
    "Mcp": {
        "name": "files",
        "image": "mcp:1",
        "command": "serve",
        "resources": pb.ComputeResources(limits_cpu="1"),
    },
    "Skill": {"name": "Review", "body": "Read the diff.", "description": "reviews"},
    "Hook": {"event": "start", "function": "on_start", "image": "hook:1"},
}
KINDS = list(VALID)


class Kind:
    def __init__(self, agents, name: str) -> None:
        self.stub, self.name, self.field = agents.stub, name, name.lower()

    def call(self, verb: str, caller, **fields):
        suffix = "s" if verb == "List" else ""
        request = getattr(pb, f"{verb}{self.name}{suffix}Request")(**fields)
        return getattr(self.stub, f"{verb}{self.name}{suffix}")(request, metadata=caller)

    async def create(self, caller, agent_id: str, **fields):
        reply = await self.call("Create", caller, agent_id=agent_id, **{**VALID[self.name], **fields})
        return getattr(reply, self.field)

    async def listed(self, caller, agent_id: str, page_size: int = 0) -> list[str]:
        ids, token = [], ""
        while True:
            reply = await self.call("List", caller, agent_id=agent_id, page_size=page_size, page_token=token)
            ids.extend(item.meta.id for item in getattr(reply, f"{self.field}s"))
            token = reply.next_page_token
            if not token:
                return ids


@pytest.mark.parametrize("name", KINDS)
async def test_create_read_update_delete(agents, cast, name):
    kind, owner, agent_id = Kind(agents, name), metadata(cast.org_owner), cast.agent.meta.id
    made = await kind.create(owner, agent_id)
    assert made.agent_id == agent_id
    for field, value in VALID[name].items():
        assert getattr(made, field) == value, field
    got = getattr(await kind.call("Get", owner, id=made.meta.id), kind.field)
    assert got == made
    agent = await agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=owner)
    assert agent.agent.meta.updated_at.ToDatetime() >= made.meta.created_at.ToDatetime()  # bumped with it

    updated = getattr(await kind.call("Update", owner, id=made.meta.id, description="new"), kind.field)
    assert (
        updated.description == "new"
        and updated.meta.updated_at.ToDatetime() > made.meta.updated_at.ToDatetime()
    )
    if "resources" in VALID[name]:
        replaced = await kind.call(
            "Update", owner, id=made.meta.id, resources=pb.ComputeResources(requests_cpu="2")
        )
        assert getattr(replaced, kind.field).resources == pb.ComputeResources(requests_cpu="2")
    error = await expect_error(kind.call("Update", owner, id=made.meta.id), INVALID)
    assert "at least one field" in error.details()

    more = [
        (await kind.create(owner, agent_id, **({"name": f"n{i}"} if "name" in VALID[name] else {}))).meta.id
        for i in range(2)
    ]
    for size in (1, 2, 0):
        assert await kind.listed(owner, agent_id, size) == [made.meta.id, *more]

    await kind.call("Delete", owner, id=made.meta.id)
    await expect_error(kind.call("Get", owner, id=made.meta.id), NOT_FOUND)
    await expect_error(kind.call("Delete", owner, id=made.meta.id), NOT_FOUND)
    await expect_error(kind.call("Update", owner, id=made.meta.id, description="x"), NOT_FOUND)
    assert await kind.listed(owner, agent_id) == more

    envelopes = await read_events(
        agents.service.runtime.settings.nats_url,
        f"agyn.rooms.agent.{agent_id}",
        lambda got: len(got) >= 6,
        decode=notifications_pb2.NotificationEnvelope.FromString,
    )
    assert {e.event for e in envelopes} == {"agent.updated"}  # created, and one per write


@pytest.mark.parametrize("name", KINDS)
async def test_who_may_write_and_read(agents, cast, name):
    kind, agent_id = Kind(agents, name), cast.agent.meta.id
    writers = (cast.org_owner, cast.agent_owner, cast.maintainer)
    made = [
        await kind.create(metadata(caller), agent_id, **_distinct(name, i))
        for i, caller in enumerate(writers)
    ]
    item = made[0].meta.id
    for caller in (cast.participant, cast.member, cast.outsider):
        call = metadata(caller)
        await expect_error(
            kind.call("Create", call, agent_id=agent_id, **VALID[name]), DENIED, "can_edit_config"
        )
        await expect_error(kind.call("Update", call, id=item, description="x"), DENIED)
        await expect_error(kind.call("Delete", call, id=item), DENIED)
        await expect_error(kind.call("Get", call, id=item), DENIED, "can_read_config")
        await expect_error(kind.call("List", call, agent_id=agent_id), DENIED)
    readers = [metadata(caller) for caller in writers]
    readers += [
        metadata(uuid.UUID(agent_id)),
        metadata(caller="agents-orchestrator"),
    ]  # the agent itself; platform
    for call in readers:
        assert getattr(await kind.call("Get", call, id=item), kind.field).meta.id == item
        assert await kind.listed(call, agent_id) == [m.meta.id for m in made]
    # The agent itself reads but does not write.
    await expect_error(kind.call("Update", metadata(uuid.UUID(agent_id)), id=item, description="x"), DENIED)


def _distinct(name: str, index: int) -> dict[str, str]:
    return {"name": f"n{index}"} if "name" in VALID[name] else {}


@pytest.mark.parametrize("name", KINDS)
async def test_parents_and_lists(agents, cast, name):
    kind, owner = Kind(agents, name), metadata(cast.org_owner)
    await expect_error(
        kind.call("Create", owner, agent_id=str(uuid.uuid4()), **VALID[name]),
        NOT_FOUND,  # the parent it is created under (sheet §8 #8)
        "agent not found",
    )
    for bad in ("", "x"):
        await expect_error(kind.call("Create", owner, agent_id=bad, **VALID[name]), INVALID, "agent_id")
        await expect_error(kind.call("List", owner, agent_id=bad), INVALID, "agent_id")
        await expect_error(kind.call("Get", owner, id=bad), INVALID, "id")
    await expect_error(kind.call("Get", owner, id=str(uuid.uuid4())), NOT_FOUND)
    # An unknown agent lists empty for platform callers and is refused to identities.
    unknown = str(uuid.uuid4())
    assert await kind.listed(metadata(caller="agents-orchestrator"), unknown) == []
    await expect_error(kind.call("List", owner, agent_id=unknown), DENIED)
    await expect_error(kind.call("List", owner, agent_id=cast.agent.meta.id, page_token="??"), INVALID)
    await expect_error(
        kind.call("Create", metadata(), agent_id=cast.agent.meta.id, **VALID[name]),
        grpc.StatusCode.UNAUTHENTICATED,
    )


@pytest.mark.parametrize(
    ("name", "fields", "field"),
    [
        ("Mcp", {"name": ""}, "name"),
        ("Mcp", {"name": "Files"}, "name"),
        ("Mcp", {"name": "1files"}, "name"),
        ("Mcp", {"name": "f" * 64}, "name"),
        ("Mcp", {"image": "i" * 1025}, "image"),
        ("Mcp", {"resources": pb.ComputeResources(limits_memory="m" * 65)}, "resources.limits_memory"),
        ("Skill", {"name": ""}, "name"),
        ("Skill", {"name": "n" * 65}, "name"),
        ("Skill", {"description": "d" * 4097}, "description"),
        ("Hook", {"event": "e" * 257}, "event"),
        ("Hook", {"function": "f" * 4097}, "function"),
    ],
)
async def test_create_refuses_bad_fields(agents, cast, name, fields, field):
    kind = Kind(agents, name)
    error = await expect_error(
        kind.call(
            "Create", metadata(cast.org_owner), agent_id=cast.agent.meta.id, **{**VALID[name], **fields}
        ),
        INVALID,
    )
    assert error.details().startswith(field)


@pytest.mark.parametrize("name", ["Mcp", "Skill"])
async def test_names_are_unique_per_agent(agents, cast, name):
    kind, owner = Kind(agents, name), metadata(cast.org_owner)
    first = await kind.create(owner, cast.agent.meta.id)
    await expect_error(
        kind.call("Create", owner, agent_id=cast.agent.meta.id, **VALID[name]), grpc.StatusCode.ALREADY_EXISTS
    )
    second_agent = await agents.create(cast.org_owner, cast.org, name="Second")
    await kind.create(owner, second_agent.meta.id)  # another agent's names are its own
    if name == "Skill":  # a skill may be renamed, within the same rule
        other = await kind.create(owner, cast.agent.meta.id, name="Other")
        await expect_error(
            kind.call("Update", owner, id=other.meta.id, name=first.name), grpc.StatusCode.ALREADY_EXISTS
        )
