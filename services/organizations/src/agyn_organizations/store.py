"""Queries over organizations, memberships and direct grants.

Lock order: an organization's row before any of its memberships' rows, the order
DeleteOrganization takes them in, so that no two transactions wait on each other in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from agyn_common.db import one_or_not_found
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_organizations.models import active_membership, memberships, organization_grants, organizations

# --- organizations -----------------------------------------------------------------------


async def load_organization(
    connection: AsyncConnection, organization_id: uuid.UUID, *, lock: bool = False
) -> Any:
    """The organization's row, locked for update when `lock`; NOT_FOUND when there is none."""
    query = sa.select(organizations).where(organizations.c.id == organization_id)
    return await one_or_not_found(connection, query.with_for_update() if lock else query, "organization")


async def share_lock_organizations(
    connection: AsyncConnection, wanted: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of `wanted` that exist, locked against deletion until the transaction ends."""
    found = await connection.execute(
        sa.select(organizations.c.id).where(organizations.c.id.in_(wanted)).with_for_update(read=True)
    )
    return {row.id for row in found}


async def insert_organization(connection: AsyncConnection, name: str, owner: uuid.UUID) -> tuple[Any, Any]:
    """A new organization and the active owner membership of its creator."""
    organization = (
        await connection.execute(
            organizations.insert().values(id=uuid.uuid4(), name=name).returning(*organizations.c)
        )
    ).one()
    membership = (
        await connection.execute(
            memberships.insert()
            .values(
                id=uuid.uuid4(),
                organization_id=organization.id,
                identity_id=owner,
                role="owner",
                status="active",
            )
            .returning(*memberships.c)
        )
    ).one()
    return organization, membership


async def rename_organization(connection: AsyncConnection, organization_id: uuid.UUID, name: str) -> Any:
    return (
        await connection.execute(
            organizations.update()
            .where(organizations.c.id == organization_id)
            .values(name=name, updated_at=sa.func.now())
            .returning(*organizations.c)
        )
    ).one()


async def delete_organization(connection: AsyncConnection, organization_id: uuid.UUID) -> None:
    # Explicit rather than left to the cascade: this is the whole of what a deletion removes here.
    await connection.execute(
        organization_grants.delete().where(organization_grants.c.organization_id == organization_id)
    )
    await connection.execute(memberships.delete().where(memberships.c.organization_id == organization_id))
    await connection.execute(organizations.delete().where(organizations.c.id == organization_id))


async def organization_page(
    connection: AsyncConnection,
    among: sa.Select[tuple[uuid.UUID]] | None,
    after: uuid.UUID | None,
    limit: int,
) -> Sequence[Any]:
    """Up to `limit` organizations by id, those with an id in `among` (None: all), after `after`."""
    query = sa.select(organizations)
    if among is not None:
        query = query.where(organizations.c.id.in_(among))
    if after is not None:
        query = query.where(organizations.c.id > after)
    return (await connection.execute(query.order_by(organizations.c.id).limit(limit))).all()


async def organizations_by_id(connection: AsyncConnection, ids: Collection[uuid.UUID]) -> Sequence[Any]:
    query = sa.select(organizations).where(organizations.c.id.in_(ids)).order_by(organizations.c.id)
    return (await connection.execute(query)).all()


# --- memberships -------------------------------------------------------------------------


async def add_membership(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    identity_id: uuid.UUID,
    *,
    role: str,
    status: str,
    expires_at: datetime | None,
) -> Any | None:
    """The new membership; None when the identity already has one in the organization."""
    return (
        await connection.execute(
            postgresql.insert(memberships)
            .values(
                id=uuid.uuid4(),
                organization_id=organization_id,
                identity_id=identity_id,
                role=role,
                status=status,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=["organization_id", "identity_id"])
            .returning(*memberships.c)
        )
    ).first()


async def lock_membership(connection: AsyncConnection, membership_id: uuid.UUID) -> Any:
    """The membership's row, locked for update; NOT_FOUND when there is none."""
    query = sa.select(memberships).where(memberships.c.id == membership_id).with_for_update()
    return await one_or_not_found(connection, query, "membership")


async def lock_membership_and_organization(connection: AsyncConnection, membership_id: uuid.UUID) -> Any:
    """The membership's row, locked after its organization's (see the lock order above)."""
    organization_id = (
        await connection.execute(
            sa.select(memberships.c.organization_id).where(memberships.c.id == membership_id)
        )
    ).scalar_one_or_none()
    if organization_id is not None:
        await connection.execute(
            sa.select(organizations.c.id).where(organizations.c.id == organization_id).with_for_update()
        )
    return await lock_membership(connection, membership_id)  # NOT_FOUND if deleted meanwhile


async def update_membership(connection: AsyncConnection, membership_id: uuid.UUID, **values: str) -> Any:
    return (
        await connection.execute(
            memberships.update()
            .where(memberships.c.id == membership_id)
            .values(**values, updated_at=sa.func.now())
            .returning(*memberships.c)
        )
    ).one()


async def delete_membership(connection: AsyncConnection, membership_id: uuid.UUID) -> None:
    await connection.execute(memberships.delete().where(memberships.c.id == membership_id))


async def _membership_exists(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    *conditions: sa.ColumnElement[bool],
) -> bool:
    found = await connection.execute(
        sa.select(memberships.c.id).where(memberships.c.organization_id == organization_id, *conditions)
    )
    return found.first() is not None


async def has_open_invitation(
    connection: AsyncConnection, identity_id: uuid.UUID, organization_id: uuid.UUID
) -> bool:
    return await _membership_exists(
        connection,
        organization_id,
        memberships.c.identity_id == identity_id,
        memberships.c.status == "pending",
        sa.or_(memberships.c.expires_at.is_(None), memberships.c.expires_at > sa.func.now()),
    )


async def has_active_membership(
    connection: AsyncConnection, identity_id: uuid.UUID, organization_id: uuid.UUID
) -> bool:
    return await _membership_exists(
        connection, organization_id, memberships.c.identity_id == identity_id, active_membership()
    )


async def has_another_active_owner(connection: AsyncConnection, membership: Any) -> bool:
    """Whether the membership's organization has an active owner besides that membership."""
    return await _membership_exists(
        connection,
        membership.organization_id,
        memberships.c.id != membership.id,
        memberships.c.role == "owner",
        active_membership(),
    )


async def membership_page(
    connection: AsyncConnection,
    scope: sa.ColumnElement[bool],
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> Sequence[Any]:
    """Up to `limit` memberships by id within `scope`, with `status` (None: any), after `after`."""
    query = sa.select(memberships).where(scope)
    if status is not None:
        query = query.where(memberships.c.status == status)
    if after is not None:
        query = query.where(memberships.c.id > after)
    return (await connection.execute(query.order_by(memberships.c.id).limit(limit))).all()


def in_organization(organization_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return memberships.c.organization_id == organization_id


def of_identity(identity_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return memberships.c.identity_id == identity_id


# --- direct grants -----------------------------------------------------------------------


async def insert_grant(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    identity_id: uuid.UUID,
    relation: str,
    granted_by: str,
) -> bool:
    """Whether the grant is new (False when it was there already)."""
    inserted = await connection.execute(
        postgresql.insert(organization_grants)
        .values(
            organization_id=organization_id,
            identity_id=identity_id,
            relation=relation,
            granted_by=granted_by,
        )
        .on_conflict_do_nothing()
        .returning(organization_grants.c.relation)
    )
    return inserted.first() is not None


async def delete_grant(
    connection: AsyncConnection, organization_id: uuid.UUID, identity_id: uuid.UUID, relation: str
) -> bool:
    """Whether there was such a grant."""
    deleted = await connection.execute(
        organization_grants.delete()
        .where(
            organization_grants.c.organization_id == organization_id,
            organization_grants.c.identity_id == identity_id,
            organization_grants.c.relation == relation,
        )
        .returning(organization_grants.c.relation)
    )
    return deleted.first() is not None
