"""`agyn-users bootstrap-admin`: make sure a cluster admin with a working API token exists.

For installs without an IdP user yet (and for `make up`): creates the account (or finds
it by subject), grants it the cluster-admin role, and writes an API token to a file,
keeping an existing token in that file while it still resolves.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from agyn_common.db import Database
from agyn_common.outbox import Outbox

from agyn_users.accounts import create_account, find_by_subject
from agyn_users.admins import set_cluster_admin
from agyn_users.credentials import display_prefix, new_api_token, secret_hash
from agyn_users.events import UserEvents
from agyn_users.models import user_api_tokens
from agyn_users.settings import UsersSettings


async def ensure_admin(db: Database, subject: str, username: str, name: str) -> uuid.UUID:
    events = UserEvents(Outbox(db))
    async with db.transaction() as connection:
        row = await find_by_subject(connection, subject)
        if row is None:
            row = await create_account(connection, events, oidc_subject=subject, name=name, username=username)
        if await set_cluster_admin(connection, row.identity_id, True):
            await events.cluster_role_changed(connection, row.identity_id, True)
        return uuid.UUID(str(row.identity_id))


async def ensure_token(db: Database, identity_id: uuid.UUID, existing: str | None) -> str:
    """`existing` when it still resolves to the admin, else a newly issued token."""
    if existing:
        async with db.transaction() as connection:
            owner = (
                await connection.execute(
                    sa.select(user_api_tokens.c.identity_id).where(
                        user_api_tokens.c.token_hash == secret_hash(existing),
                        sa.or_(
                            user_api_tokens.c.expires_at.is_(None),
                            user_api_tokens.c.expires_at > sa.func.now(),
                        ),
                    )
                )
            ).scalar()
        if owner == identity_id:
            return existing
    plaintext = new_api_token()
    async with db.transaction() as connection:
        await connection.execute(
            user_api_tokens.insert().values(
                id=uuid.uuid4(),
                identity_id=identity_id,
                name="bootstrap admin",
                token_hash=secret_hash(plaintext),
                token_prefix=display_prefix(plaintext),
            )
        )
    return plaintext


async def _bootstrap(
    settings: UsersSettings, options: argparse.Namespace, existing: str | None
) -> tuple[uuid.UUID, str]:
    db = Database(settings.database_url, pool_size=1)
    try:
        identity_id = await ensure_admin(db, options.subject, options.username, options.name)
        return identity_id, await ensure_token(db, identity_id, existing)
    finally:
        await db.close()


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")


def bootstrap_admin_command(settings: UsersSettings, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="agyn-users bootstrap-admin")
    parser.add_argument("--token-file", required=True, help="where the admin's API token is written")
    parser.add_argument("--subject", default="agyn:bootstrap-admin", help="OIDC subject of the admin account")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--name", default="Platform admin")
    options = parser.parse_args(args)
    token_file = Path(options.token_file)
    existing = token_file.read_text().strip() if token_file.exists() else None
    identity_id, token = asyncio.run(_bootstrap(settings, options, existing))
    if token != existing:
        _write_secret(token_file, token)
    print(identity_id)
    return 0
