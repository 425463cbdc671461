"""Creating accounts: one row, its identity registration and its event, in one transaction.

Users and Identity share this deployable's database, so registering the new identity is
part of the same commit: there is no window where an account exists unregistered, and no
compensating delete (the upstream store-register-compensate dance, sheet §8.8).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from agyn_common.db import violated_index
from agyn_common.errors import already_exists, internal
from agynio.api.identity.v1 import identity_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users import usernames
from agyn_users.events import UserEvents
from agyn_users.models import users
from agyn_users.registry import register_identity

SUBJECT_INDEX = "users_oidc_subject_idx"
USERNAME_INDEX = "users_username_idx"


class SubjectTaken(Exception):
    """Another account already has this OIDC subject."""


async def create_account(
    connection: AsyncConnection,
    events: UserEvents,
    *,
    oidc_subject: str,
    name: str = "",
    email: str = "",
    photo_url: str = "",
    nickname: str = "",
    username: str | None = None,
    username_sources: Iterable[str] = (),
) -> Any:
    """Insert a user with `username`, or with the first free derived one.

    Raises SubjectTaken, ALREADY_EXISTS for a taken explicit username, or INTERNAL
    ("allocate username") when every derived candidate is taken.
    """
    identity_id = uuid.uuid4()
    if username is not None:
        attempts: Iterable[str] = [username]
    else:
        attempts = usernames.candidates(usernames.base_username(oidc_subject, list(username_sources)))
    for candidate in attempts:
        try:
            async with connection.begin_nested():
                row = (
                    await connection.execute(
                        users.insert()
                        .values(
                            identity_id=identity_id,
                            oidc_subject=oidc_subject,
                            name=name,
                            email=email,
                            photo_url=photo_url,
                            nickname=nickname,
                            username=candidate,
                        )
                        .returning(*users.c)
                    )
                ).one()
        except IntegrityError as error:
            index = violated_index(error)
            if index == SUBJECT_INDEX:
                raise SubjectTaken from None
            if index == USERNAME_INDEX:
                if username is not None:
                    raise already_exists("username already taken") from None
                continue
            raise
        await register_identity(connection, identity_id, identity_pb2.IDENTITY_TYPE_USER)
        await events.user_created(connection, identity_id, candidate)
        return row
    raise internal("allocate username")
