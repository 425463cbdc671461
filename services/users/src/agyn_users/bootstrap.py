"""Commands that give an account an API token without going through the Gateway.

`agyn-users bootstrap-admin`: make sure a cluster admin with a working API token exists.
For installs without an IdP user yet (and for `make up`): creates the account (or finds
it by subject), grants it the cluster-admin role, and writes an API token to a file,
keeping an existing token in that file while it still resolves.

`agyn-users issue-token`: a new API token for an ordinary (not admin) account, created on
first use, printed as one line of JSON. For operators' automation users and for the
integration scenarios against a cluster, whose test process cannot reach Users itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from agyn_common.db import Database
from agyn_common.errors import ServiceError
from agyn_common.outbox import Outbox
from agyn_common.server import Command
from agyn_common.validation import check_length

from agyn_users import usernames
from agyn_users.accounts import create_account
from agyn_users.admins import set_cluster_admin
from agyn_users.api_tokens import insert_api_token, token_owner
from agyn_users.events import UserEvents
from agyn_users.limits import MAX_NAME
from agyn_users.models import metadata
from agyn_users.settings import UsersSettings
from agyn_users.store import find_by_subject

SERVICE_USER_SUBJECT_PREFIX = "agyn:service-user:"
T = TypeVar("T")


async def ensure_account(
    db: Database, *, subject: str, username: str, name: str, cluster_admin: bool = False
) -> uuid.UUID:
    """The account with OIDC subject `subject`, created with `username` and `name` if there
    is none; granted the cluster-admin role when `cluster_admin` (never revoked here)."""
    events = UserEvents(Outbox(db, metadata))
    async with db.transaction() as connection:
        row = await find_by_subject(connection, subject)
        if row is None:
            row = await create_account(connection, events, oidc_subject=subject, name=name, username=username)
        if cluster_admin and await set_cluster_admin(connection, row.identity_id, True):
            await events.cluster_role_changed(connection, row.identity_id, True)
        return uuid.UUID(str(row.identity_id))


async def issue_token(db: Database, identity_id: uuid.UUID, name: str) -> str:
    """A new API token of `identity_id`, within the cap CreateAPIToken keeps."""
    async with db.transaction() as connection:
        _, plaintext = await insert_api_token(connection, identity_id, name)
    return plaintext


async def ensure_token(db: Database, identity_id: uuid.UUID, existing: str | None) -> str:
    """`existing` when it still resolves to `identity_id`, else a newly issued token."""
    if existing:
        async with db.transaction() as connection:
            if await token_owner(connection, existing) == identity_id:
                return existing
    return await issue_token(db, identity_id, "bootstrap admin")


def run_on_database(settings: UsersSettings, work: Callable[[Database], Awaitable[T]]) -> T:
    """`work` on a one-connection pool of the service's database, closed afterwards."""

    async def run() -> T:
        db = Database(settings.database_url, pool_size=1)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")


def _bootstrap_admin_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agyn-users bootstrap-admin")
    parser.add_argument("--token-file", required=True, help="where the admin's API token is written")
    parser.add_argument("--subject", default="agyn:bootstrap-admin", help="OIDC subject of the admin account")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--name", default="Platform admin")
    return parser


def _bootstrap_admin(settings: UsersSettings, options: argparse.Namespace) -> int:
    token_file = Path(options.token_file)
    existing = token_file.read_text().strip() if token_file.exists() else None

    async def bootstrap(db: Database) -> tuple[uuid.UUID, str]:
        identity_id = await ensure_account(
            db, subject=options.subject, username=options.username, name=options.name, cluster_admin=True
        )
        return identity_id, await ensure_token(db, identity_id, existing)

    identity_id, token = run_on_database(settings, bootstrap)
    if token != existing:
        _write_secret(token_file, token)
    print(identity_id)
    return 0


def _argument(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type from one of the service's validators: the RPCs' rules, as usage errors."""

    def convert(value: str) -> str:
        try:
            return check(value)
        except ServiceError as error:
            raise argparse.ArgumentTypeError(error.message) from None

    return convert


def _issue_token_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agyn-users issue-token",
        description="Issue a new API token for an account (not a cluster admin), creating it on first "
        'use; prints {"identity_id": ..., "token": ...} as one line of JSON.',
    )
    parser.add_argument(
        "--username", required=True, type=_argument(usernames.validate), help="username of a new account"
    )
    parser.add_argument(
        "--subject",
        help=f"OIDC subject that finds the account (default: {SERVICE_USER_SUBJECT_PREFIX}<username>)",
    )
    parser.add_argument(
        "--name",
        type=_argument(lambda value: check_length(value, "name", max_chars=MAX_NAME)),
        help="display name of a new account (default: the username)",
    )
    parser.add_argument(
        "--token-name",
        default="issue-token",
        type=_argument(lambda value: check_length(value, "token-name", max_chars=MAX_NAME, required=True)),
        help="the token's name in ListAPITokens",
    )
    return parser


def _issue_token(settings: UsersSettings, options: argparse.Namespace) -> int:

    async def issue(db: Database) -> tuple[uuid.UUID, str]:
        identity_id = await ensure_account(
            db,
            subject=options.subject or SERVICE_USER_SUBJECT_PREFIX + options.username,
            username=options.username,
            name=options.name if options.name is not None else options.username,
        )
        return identity_id, await issue_token(db, identity_id, options.token_name)

    try:
        identity_id, token = run_on_database(settings, issue)
    except ServiceError as error:  # e.g. the username belongs to another account, or the token cap
        print(f"agyn-users issue-token: {error.message}", file=sys.stderr)
        return 1
    print(json.dumps({"identity_id": str(identity_id), "token": token}))
    return 0


BOOTSTRAP_ADMIN = Command(_bootstrap_admin_parser(), _bootstrap_admin)
ISSUE_TOKEN = Command(_issue_token_parser(), _issue_token)
