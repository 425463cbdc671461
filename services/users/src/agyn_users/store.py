"""Queries over accounts, devices and organization nicknames.

The other concerns keep their own modules: creating an account (accounts.py), API tokens
(api_tokens.py), the cluster-admin role (admins.py) and the identity registry (registry.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from agyn_common.db import one_or_not_found, violated_index
from agyn_common.errors import already_exists, not_found
from agyn_common.pagination import split_page
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.accounts import USERNAME_INDEX
from agyn_users.models import identities, org_nicknames, user_devices, users

NICKNAME_INDEX = "org_nicknames_org_nickname_idx"


def _after_id(
    query: sa.Select[Any], key: sa.ColumnElement[uuid.UUID], after: uuid.UUID | None, size: int
) -> sa.Select[Any]:
    """The `size` rows in `key` order after `after` (None: from the start), and one more that
    tells whether another page follows (see `split_page`)."""
    if after is not None:
        query = query.where(key > after)
    return query.order_by(key).limit(size + 1)


# --- accounts ---------------------------------------------------------------------------


def _by_subject(oidc_subject: str) -> sa.Select[Any]:
    return sa.select(users).where(users.c.oidc_subject == oidc_subject)


async def find_by_subject(connection: AsyncConnection, oidc_subject: str) -> Any:
    """The account signing in with `oidc_subject`, or None."""
    return (await connection.execute(_by_subject(oidc_subject))).first()


async def load_user_by_subject(connection: AsyncConnection, oidc_subject: str) -> Any:
    return await one_or_not_found(connection, _by_subject(oidc_subject), "user")


async def load_user(connection: AsyncConnection, identity_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = sa.select(users).where(users.c.identity_id == identity_id)
    if lock:
        query = query.with_for_update()
    return await one_or_not_found(connection, query, "user")


async def is_user(connection: AsyncConnection, identity_id: uuid.UUID) -> bool:
    """Whether `identity_id` is an account (not an agent, a runner or an app)."""
    found = await connection.execute(sa.select(sa.literal(1)).where(users.c.identity_id == identity_id))
    return found.first() is not None


async def update_user(connection: AsyncConnection, identity_id: uuid.UUID, values: dict[str, Any]) -> Any:
    """Write profile fields, bumping updated_at; NOT_FOUND, or ALREADY_EXISTS for a taken username."""
    try:
        async with connection.begin_nested():
            row = (
                await connection.execute(
                    users.update()
                    .where(users.c.identity_id == identity_id)
                    .values(**values, updated_at=sa.func.now())
                    .returning(*users.c)
                )
            ).first()
    except IntegrityError as error:
        if violated_index(error) == USERNAME_INDEX:
            raise already_exists("username already taken") from None
        raise
    if row is None:
        raise not_found("user not found")
    return row


def _escape_like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_directory(connection: AsyncConnection, prefix: str, limit: int) -> Sequence[Any]:
    """Up to `limit` accounts whose username starts with `prefix`: the exact match first, then
    in bytewise username order."""
    username_bytes = users.c.username.collate("C")
    rows = await connection.execute(
        sa.select(users.c.identity_id, users.c.username, users.c.name, users.c.photo_url)
        .where(users.c.username.like(_escape_like(prefix) + "%", escape="\\"), users.c.username != "")
        .order_by((users.c.username == prefix).desc(), username_bytes)
        .limit(limit)
    )
    return rows.all()


async def users_by_ids(connection: AsyncConnection, identity_ids: list[uuid.UUID]) -> Sequence[Any]:
    rows = await connection.execute(
        sa.select(users).where(users.c.identity_id.in_(set(identity_ids))).order_by(users.c.identity_id)
    )
    return rows.all()


async def users_page(
    connection: AsyncConnection, after: uuid.UUID | None, size: int
) -> tuple[Sequence[Any], str]:
    """One page of every account in identity id order, and the token of the next."""
    query = _after_id(sa.select(users), users.c.identity_id, after, size)
    return split_page((await connection.execute(query)).all(), size, key="identity_id")


async def delete_user(connection: AsyncConnection, identity_id: uuid.UUID) -> None:
    """Delete the account. Its tokens and devices go by cascade, so its tokens stop resolving
    at once; the identity record stays (others may still render it) but its organization
    handles are freed."""
    await connection.execute(users.delete().where(users.c.identity_id == identity_id))
    await connection.execute(org_nicknames.delete().where(org_nicknames.c.identity_id == identity_id))


# --- devices ----------------------------------------------------------------------------


async def insert_device(
    connection: AsyncConnection, owner: uuid.UUID, name: str, enrollment_hash: str
) -> Any:
    device_id = uuid.uuid4()
    return (
        await connection.execute(
            user_devices.insert()
            .values(
                id=device_id,
                identity_id=owner,
                name=name,
                openziti_identity_id=f"device-{device_id}",
                enrollment_jwt=enrollment_hash,
            )
            .returning(*user_devices.c)
        )
    ).one()


async def devices_page(
    connection: AsyncConnection, owner: uuid.UUID, after: uuid.UUID | None, size: int
) -> tuple[Sequence[Any], str]:
    """One page of `owner`'s devices in id order, and the token of the next."""
    query = _after_id(
        sa.select(user_devices).where(user_devices.c.identity_id == owner), user_devices.c.id, after, size
    )
    return split_page((await connection.execute(query)).all(), size)


async def delete_device(connection: AsyncConnection, owner: uuid.UUID, device_id: uuid.UUID) -> bool:
    """Whether `owner` had the device."""
    deleted = await connection.execute(
        user_devices.delete()
        .where(user_devices.c.id == device_id, user_devices.c.identity_id == owner)
        .returning(user_devices.c.id)
    )
    return deleted.first() is not None


# --- organization nicknames -------------------------------------------------------------


async def set_nickname(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    identity_id: uuid.UUID,
    installation_id: uuid.UUID | None,
    nickname: str,
) -> None:
    """Give the identity (an app: its installation) the handle `nickname` in the organization,
    in place of the one it had; ALREADY_EXISTS when someone else holds that handle."""
    insert = postgresql.insert(org_nicknames).values(
        organization_id=organization_id,
        identity_id=identity_id,
        installation_id=installation_id,
        nickname=nickname,
    )
    if installation_id is not None:  # one handle per installation; a new owner of it takes it over
        upsert = insert.on_conflict_do_update(
            index_elements=["organization_id", "installation_id"],
            index_where=org_nicknames.c.installation_id.is_not(None),
            set_={"nickname": insert.excluded.nickname, "identity_id": insert.excluded.identity_id},
        )
    else:  # one handle per identity
        upsert = insert.on_conflict_do_update(
            index_elements=["organization_id", "identity_id"],
            index_where=org_nicknames.c.installation_id.is_(None),
            set_={"nickname": insert.excluded.nickname},
        )
    try:
        async with connection.begin_nested():
            await connection.execute(upsert)
    except IntegrityError as error:
        if violated_index(error) == NICKNAME_INDEX:
            raise already_exists(f"nickname {nickname!r} is taken in this organization") from None
        raise


async def remove_nickname(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    identity_id: uuid.UUID,
    installation_id: uuid.UUID | None,
) -> bool:
    """Whether the identity (an app: its installation) had a handle in the organization."""
    installation_matches = (
        org_nicknames.c.installation_id.is_(None)
        if installation_id is None
        else org_nicknames.c.installation_id == installation_id
    )
    result = await connection.execute(
        org_nicknames.delete().where(
            org_nicknames.c.organization_id == organization_id,
            org_nicknames.c.identity_id == identity_id,
            installation_matches,
        )
    )
    return bool(result.rowcount)


async def resolve_nickname(connection: AsyncConnection, organization_id: uuid.UUID, nickname: str) -> Any:
    """Who holds the handle in the organization: identity, installation and identity type."""
    query = (
        sa.select(org_nicknames.c.identity_id, org_nicknames.c.installation_id, identities.c.identity_type)
        .join(identities, identities.c.identity_id == org_nicknames.c.identity_id)
        .where(org_nicknames.c.organization_id == organization_id, org_nicknames.c.nickname == nickname)
    )
    return await one_or_not_found(connection, query, "nickname")


async def nicknames_of(
    connection: AsyncConnection, organization_id: uuid.UUID, identity_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """One handle per identity that has any: an app with several installations shows its
    installation-less handle first, else its oldest (sheet §8.16)."""
    query = (
        sa.select(org_nicknames.c.identity_id, org_nicknames.c.nickname)
        .where(
            org_nicknames.c.organization_id == organization_id,
            org_nicknames.c.identity_id.in_(set(identity_ids)),
        )
        .order_by(
            org_nicknames.c.identity_id,
            org_nicknames.c.installation_id.is_not(None),
            org_nicknames.c.created_at,
            org_nicknames.c.id,
        )
        .distinct(org_nicknames.c.identity_id)
    )
    return {row.identity_id: row.nickname for row in await connection.execute(query)}
