"""Queries of the agents database: agents, their roles, volumes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from agyn_common.db import one_or_not_found, violated_index
from agyn_common.errors import already_exists
from agyn_common.pagination import KeysetPage
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_agents.models import (
    agent_roles,
    agents,
    envs,
    hooks,
    image_pull_secret_attachments,
    init_scripts,
    mcps,
    skills,
    volume_attachments,
    volumes,
)

NICKNAME_INDEX = "agents_organization_nickname_key"
# What still points at an agent keeps it from being deleted (sheet §3.2, §8 #7); rows that
# target its MCPs and hooks block through those.
_CHILDREN = (mcps, skills, hooks, envs, init_scripts, volume_attachments, image_pull_secret_attachments)


async def write_one(
    connection: AsyncConnection, statement: sa.Executable, conflicts: Mapping[str, str]
) -> sa.Row[Any]:
    """The one row an insert or update returns; violating a constraint named in `conflicts`
    is ALREADY_EXISTS with its message (the transaction goes on: the write is a savepoint)."""
    try:
        async with connection.begin_nested():
            return (await connection.execute(statement)).one()
    except IntegrityError as error:
        name = violated_index(error)
        if name is not None and name in conflicts:
            raise already_exists(conflicts[name]) from None
        raise


_NICKNAME_TAKEN = {NICKNAME_INDEX: "nickname already taken in the organization"}


async def insert_agent(connection: AsyncConnection, values: Mapping[str, Any]) -> sa.Row[Any]:
    return await write_one(connection, agents.insert().values(**values).returning(*agents.c), _NICKNAME_TAKEN)


async def load_agent(connection: AsyncConnection, agent_id: uuid.UUID, *, lock: bool = False) -> sa.Row[Any]:
    query = sa.select(agents).where(agents.c.id == agent_id)
    row: sa.Row[Any] = await one_or_not_found(connection, query.with_for_update() if lock else query, "agent")
    return row


async def update_agent(
    connection: AsyncConnection, agent_id: uuid.UUID, values: Mapping[str, Any]
) -> sa.Row[Any]:
    return await write_one(
        connection,
        agents.update()
        .where(agents.c.id == agent_id)
        .values(**values, updated_at=sa.func.now())
        .returning(*agents.c),
        _NICKNAME_TAKEN,
    )


async def has_children(connection: AsyncConnection, agent_id: uuid.UUID) -> bool:
    return await any_row(connection, _CHILDREN, "agent_id", agent_id)


async def delete_agent(connection: AsyncConnection, agent_id: uuid.UUID) -> None:
    await connection.execute(agents.delete().where(agents.c.id == agent_id))


async def list_agents(
    connection: AsyncConnection, organization_id: uuid.UUID | None, page: KeysetPage
) -> Sequence[sa.Row[Any]]:
    query = sa.select(agents)
    if organization_id is not None:
        query = query.where(agents.c.organization_id == organization_id)
    return (await connection.execute(page.query(query))).all()


async def role_of(connection: AsyncConnection, agent_id: uuid.UUID, identity_id: uuid.UUID) -> str | None:
    role: str | None = (
        await connection.execute(
            sa.select(agent_roles.c.role).where(
                agent_roles.c.agent_id == agent_id, agent_roles.c.identity_id == identity_id
            )
        )
    ).scalar_one_or_none()
    return role


async def roles_on(
    connection: AsyncConnection, identity_id: uuid.UUID, agent_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The identity's role on each of the agents that it has one on."""
    if not agent_ids:
        return {}
    rows = await connection.execute(
        sa.select(agent_roles.c.agent_id, agent_roles.c.role).where(
            agent_roles.c.identity_id == identity_id, agent_roles.c.agent_id.in_(agent_ids)
        )
    )
    return {row.agent_id: row.role for row in rows}


async def set_role(
    connection: AsyncConnection, agent_id: uuid.UUID, identity_id: uuid.UUID, role: str
) -> None:
    statement = insert(agent_roles).values(agent_id=agent_id, identity_id=identity_id, role=role)
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[agent_roles.c.agent_id, agent_roles.c.identity_id],
            set_={"role": statement.excluded.role, "updated_at": sa.func.now()},
        )
    )


async def remove_role(connection: AsyncConnection, agent_id: uuid.UUID, identity_id: uuid.UUID) -> bool:
    removed = await connection.execute(
        agent_roles.delete().where(
            agent_roles.c.agent_id == agent_id, agent_roles.c.identity_id == identity_id
        )
    )
    return removed.rowcount > 0


async def roles_of_agent(connection: AsyncConnection, agent_id: uuid.UUID) -> Sequence[sa.Row[Any]]:
    query = (
        sa.select(agent_roles).where(agent_roles.c.agent_id == agent_id).order_by(agent_roles.c.identity_id)
    )
    return (await connection.execute(query)).all()


async def roles_of_identity(
    connection: AsyncConnection, identity_id: uuid.UUID, organization_id: uuid.UUID
) -> Sequence[sa.Row[Any]]:
    query = (
        sa.select(agent_roles)
        .join(agents, agents.c.id == agent_roles.c.agent_id)
        .where(agent_roles.c.identity_id == identity_id, agents.c.organization_id == organization_id)
        .order_by(agent_roles.c.agent_id)
    )
    return (await connection.execute(query)).all()


async def insert_volume(connection: AsyncConnection, values: Mapping[str, Any]) -> sa.Row[Any]:
    return (await connection.execute(volumes.insert().values(**values).returning(*volumes.c))).one()


async def load_volume(
    connection: AsyncConnection, volume_id: uuid.UUID, *, lock: bool = False
) -> sa.Row[Any]:
    query = sa.select(volumes).where(volumes.c.id == volume_id)
    row: sa.Row[Any] = await one_or_not_found(
        connection, query.with_for_update() if lock else query, "volume"
    )
    return row


async def update_volume(
    connection: AsyncConnection, volume_id: uuid.UUID, values: Mapping[str, Any]
) -> sa.Row[Any]:
    statement = (
        volumes.update()
        .where(volumes.c.id == volume_id)
        .values(**values, updated_at=sa.func.now())
        .returning(*volumes.c)
    )
    return (await connection.execute(statement)).one()


async def volume_in_use(connection: AsyncConnection, volume_id: uuid.UUID) -> bool:
    query = sa.select(sa.exists().where(volume_attachments.c.volume_id == volume_id))
    return bool((await connection.execute(query)).scalar_one())


async def delete_volume(connection: AsyncConnection, volume_id: uuid.UUID) -> None:
    await connection.execute(volumes.delete().where(volumes.c.id == volume_id))


async def list_volumes(
    connection: AsyncConnection, organization_id: uuid.UUID, page: KeysetPage
) -> Sequence[sa.Row[Any]]:
    query = sa.select(volumes).where(volumes.c.organization_id == organization_id)
    return (await connection.execute(page.query(query))).all()


async def touch_agents_using_volume(
    connection: AsyncConnection, volume_id: uuid.UUID
) -> Sequence[sa.Row[Any]]:
    """Bump `updated_at` of every agent the volume is attached to, directly or through one of
    its MCPs or hooks (sheet §3.4), and return those agents as they now are."""
    attached = volume_attachments.c
    owners = sa.union(
        sa.select(attached.agent_id.label("id")).where(
            attached.volume_id == volume_id, attached.agent_id.is_not(None)
        ),
        sa.select(mcps.c.agent_id)
        .join(mcps, mcps.c.id == attached.mcp_id)
        .where(attached.volume_id == volume_id),
        sa.select(hooks.c.agent_id)
        .join(hooks, hooks.c.id == attached.hook_id)
        .where(attached.volume_id == volume_id),
    ).subquery()
    # Locked in id order: two volume updates sharing agents never wait on each other in a
    # cycle (an UPDATE ... IN locks rows in whatever order its plan visits them).
    locked = (
        sa.select(agents.c.id)
        .where(agents.c.id.in_(sa.select(owners.c.id)))
        .order_by(agents.c.id)
        .with_for_update()
    )
    statement = (
        agents.update()
        .where(agents.c.id.in_(locked.scalar_subquery()))
        .values(updated_at=sa.func.now())
        .returning(*agents.c)
    )
    return sorted((await connection.execute(statement)).all(), key=lambda row: row.id)


async def find_agent(
    connection: AsyncConnection, agent_id: uuid.UUID, *, lock: bool = False
) -> sa.Row[Any] | None:
    query = sa.select(agents).where(agents.c.id == agent_id)
    return (await connection.execute(query.with_for_update() if lock else query)).first()


async def find_agents(connection: AsyncConnection, agent_ids: Collection[uuid.UUID]) -> Sequence[sa.Row[Any]]:
    if not agent_ids:
        return []
    return (await connection.execute(sa.select(agents).where(agents.c.id.in_(agent_ids)))).all()


async def touch_agent(connection: AsyncConnection, agent_id: uuid.UUID) -> sa.Row[Any]:
    """The agent's configuration changed through one of its sub-resources (sheet §3.1)."""
    statement = agents.update().where(agents.c.id == agent_id).values(updated_at=sa.func.now())
    return (await connection.execute(statement.returning(*agents.c))).one()


async def any_row(
    connection: AsyncConnection, tables: Sequence[sa.Table], column: str, value: uuid.UUID
) -> bool:
    """Whether any of `tables` has a row whose `column` is `value`."""
    found = sa.union_all(
        *(sa.select(sa.literal(1)).where(table.c[column] == value).limit(1) for table in tables)
    )
    return bool((await connection.execute(sa.select(sa.exists(found.subquery().select())))).scalar_one())


async def agents_by_id(connection: AsyncConnection, agent_ids: set[uuid.UUID]) -> Sequence[sa.Row[Any]]:
    if not agent_ids:
        return []
    return (await connection.execute(sa.select(agents).where(agents.c.id.in_(agent_ids)))).all()
