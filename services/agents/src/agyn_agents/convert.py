"""Rows of the agents database <-> messages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from agyn_common.timestamps import timestamp
from agynio.api.agents.v1 import agents_pb2 as pb

from agyn_agents.permissions import INTERNAL, MAINTAINER, OWNER, PARTICIPANT, PRIVATE

AVAILABILITIES = {pb.AGENT_AVAILABILITY_INTERNAL: INTERNAL, pb.AGENT_AVAILABILITY_PRIVATE: PRIVATE}
ROLES = {
    pb.AGENT_ROLE_OWNER: OWNER,
    pb.AGENT_ROLE_MAINTAINER: MAINTAINER,
    pb.AGENT_ROLE_PARTICIPANT: PARTICIPANT,
}
_AVAILABILITY_ENUMS = {stored: enum for enum, stored in AVAILABILITIES.items()}
_ROLE_ENUMS = {stored: enum for enum, stored in ROLES.items()}
RESOURCE_FIELDS = ("requests_cpu", "requests_memory", "limits_cpu", "limits_memory")


def meta(row: sa.Row[Any]) -> pb.EntityMeta:
    return pb.EntityMeta(
        id=str(row.id), created_at=timestamp(row.created_at), updated_at=timestamp(row.updated_at)
    )


def resources_columns(resources: pb.ComputeResources) -> dict[str, str]:
    """ComputeResources as the four columns; unset sub-fields become ""."""
    return {f"resources_{name}": getattr(resources, name) for name in RESOURCE_FIELDS}


def resources_message(row: sa.Row[Any]) -> pb.ComputeResources:
    return pb.ComputeResources(**{name: getattr(row, f"resources_{name}") for name in RESOURCE_FIELDS})


def agent_message(row: sa.Row[Any], *, configuration: bool) -> pb.Agent:
    """The agent; without `configuration`, its metadata only (sheet §3.2 GetAgent, §8 #5)."""
    agent = pb.Agent(
        meta=meta(row),
        name=row.name,
        role=row.role,
        description=row.description,
        organization_id=str(row.organization_id),
        nickname=row.nickname,
        availability=_AVAILABILITY_ENUMS[row.availability],
    )
    if configuration:
        agent.model = str(row.model)
        agent.configuration = row.configuration
        agent.image = row.image
        agent.resources.CopyFrom(resources_message(row))
        agent.init_image = row.init_image
        if row.idle_timeout is not None:
            agent.idle_timeout = row.idle_timeout
        agent.capabilities.extend(row.capabilities)
    return agent


def assignment_message(row: sa.Row[Any]) -> pb.AgentRoleAssignment:
    return pb.AgentRoleAssignment(
        agent_id=str(row.agent_id), identity_id=str(row.identity_id), role=_ROLE_ENUMS[row.role]
    )


def volume_message(row: sa.Row[Any]) -> pb.Volume:
    volume = pb.Volume(
        meta=meta(row),
        persistent=row.persistent,
        mount_path=row.mount_path,
        size=row.size,
        description=row.description,
    )
    if row.ttl is not None:
        volume.ttl = row.ttl
    return volume
