"""The token commands (`python -m agyn_users bootstrap-admin | issue-token`), run as operators
run them: a separate process on the service's database, next to a running Users."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from agyn_inprocess.users import UsersClient, provision, sha256_hex
from agyn_testkit.calls import metadata
from agyn_users.admins import is_cluster_admin
from agyn_users.api_tokens import MAX_TOKENS_PER_USER
from agyn_users.bootstrap import ISSUE_TOKEN
from agyn_users.models import user_api_tokens
from agynio.api.users.v1 import users_pb2


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def issued(self) -> tuple[str, str]:
        """(identity_id, token) from issue-token's one line of JSON."""
        assert self.code == 0, self.stderr
        (line,) = self.stdout.splitlines()
        printed = json.loads(line)
        assert set(printed) == {"identity_id", "token"}
        return printed["identity_id"], printed["token"]


async def users_command(client: UsersClient, *args: str) -> Outcome:
    settings = client.running.runtime.settings
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ORGANIZATIONS_ADDRESS": settings.organizations_address,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agyn_users",
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Outcome(process.returncode, stdout.decode(), stderr.decode())


async def resolve(client: UsersClient, token: str) -> users_pb2.ResolveAPITokenResponse:
    return await client.users.ResolveAPIToken(
        users_pb2.ResolveAPITokenRequest(token_hash=sha256_hex(token)), metadata=metadata()
    )


async def is_admin(client: UsersClient, identity_id: str) -> bool:
    async with client.running.runtime.db.transaction() as connection:
        return await is_cluster_admin(connection, uuid.UUID(identity_id))


# --- issue-token -----------------------------------------------------------------------------


async def test_issue_token_creates_an_ordinary_user_whose_token_resolves(users_service):
    identity_id, token = (await users_command(users_service, "issue-token", "--username", "ci-bot")).issued()

    assert (await resolve(users_service, token)).identity_id == identity_id
    me = await users_service.users.GetMe(users_pb2.GetMeRequest(), metadata=metadata(identity=identity_id))
    assert me.user.username == "ci-bot" and me.user.name == "ci-bot"
    found = await users_service.users.GetUserByOIDCSubject(
        users_pb2.GetUserByOIDCSubjectRequest(oidc_subject="agyn:service-user:ci-bot"), metadata=metadata()
    )
    assert found.user.meta.id == identity_id
    assert not await is_admin(users_service, identity_id)
    listed = await users_service.users.ListAPITokens(
        users_pb2.ListAPITokensRequest(), metadata=metadata(identity=identity_id)
    )
    assert [t.name for t in listed.tokens] == ["issue-token"]


async def test_issue_token_twice_gives_the_same_identity_and_two_working_tokens(users_service):
    args = ("issue-token", "--username", "deployer", "--name", "Deployer", "--token-name", "pipeline")
    first_identity, first_token = (await users_command(users_service, *args)).issued()
    second_identity, second_token = (await users_command(users_service, *args)).issued()

    assert second_identity == first_identity
    assert second_token != first_token
    for token in (first_token, second_token):
        assert (await resolve(users_service, token)).identity_id == first_identity
    listed = await users_service.users.ListAPITokens(
        users_pb2.ListAPITokensRequest(), metadata=metadata(identity=first_identity)
    )
    assert [t.name for t in listed.tokens] == ["pipeline", "pipeline"]


async def test_issue_token_finds_an_existing_account_by_subject(users_service):
    user = await provision(users_service, subject="idp|robot", preferred_username="robot")
    identity_id, token = (
        await users_command(users_service, "issue-token", "--username", "other", "--subject", "idp|robot")
    ).issued()
    assert identity_id == user.meta.id
    assert (await resolve(users_service, token)).identity_id == user.meta.id


async def test_issue_token_leaves_an_admin_account_admin(users_service):
    user = await provision(users_service, subject="idp|ops")
    await users_service.make_admin(user.meta.id)
    identity_id, _ = (
        await users_command(users_service, "issue-token", "--username", "ops", "--subject", "idp|ops")
    ).issued()
    assert await is_admin(users_service, identity_id)  # issue-token neither grants nor revokes


async def test_issue_token_refuses_a_username_another_account_holds(users_service):
    await provision(users_service, preferred_username="taken")
    outcome = await users_command(users_service, "issue-token", "--username", "taken")
    assert (outcome.code, outcome.stdout) == (1, "")
    assert "username already taken" in outcome.stderr


def test_issue_token_rejects_bad_arguments_before_touching_the_database(capsys):
    # Parsed before any settings or database: a refusal exits 2 with a usage line.
    for args, complaint in (
        (["--username", "Not Valid"], "may contain only a-z, 0-9, '_' and '-'"),
        (["--username", "a" * 33], "must be at most 32 bytes"),
        (["--username", "ok", "--token-name", ""], "token-name: must not be empty"),
        ([], "the following arguments are required: --username"),
    ):
        with pytest.raises(SystemExit) as exited:
            ISSUE_TOKEN.parser.parse_args(args)
        assert exited.value.code == 2, args
        printed = capsys.readouterr()
        assert printed.out == "" and complaint in printed.err, printed.err


async def test_issue_token_keeps_the_token_cap_of_create_api_token(users_service):
    identity_id, _ = (await users_command(users_service, "issue-token", "--username", "hoarder")).issued()
    async with users_service.running.runtime.db.transaction() as connection:
        await connection.execute(
            user_api_tokens.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "identity_id": uuid.UUID(identity_id),
                    "name": "filler",
                    "token_hash": f"filler-{n}",
                    "token_prefix": "agyn_fil",
                }
                for n in range(MAX_TOKENS_PER_USER - 1)
            ],
        )
    outcome = await users_command(users_service, "issue-token", "--username", "hoarder")
    assert (outcome.code, outcome.stdout) == (1, "")
    assert f"at most {MAX_TOKENS_PER_USER} api tokens" in outcome.stderr


# --- bootstrap-admin (shares the account and token code) -------------------------------------


async def test_bootstrap_admin_grants_the_role_and_keeps_a_working_token(users_service, tmp_path: Path):
    token_file = tmp_path / "admin-token"
    first = await users_command(users_service, "bootstrap-admin", "--token-file", str(token_file))
    assert first.code == 0, first.stderr
    identity_id = first.stdout.strip()
    token = token_file.read_text().strip()
    assert (await resolve(users_service, token)).identity_id == identity_id
    assert await is_admin(users_service, identity_id)

    again = await users_command(users_service, "bootstrap-admin", "--token-file", str(token_file))
    assert again.stdout.strip() == identity_id
    assert token_file.read_text().strip() == token  # still resolves, so kept

    token_file.write_text("agyn_revoked\n")
    replaced = await users_command(users_service, "bootstrap-admin", "--token-file", str(token_file))
    assert replaced.stdout.strip() == identity_id
    fresh = token_file.read_text().strip()
    assert fresh != "agyn_revoked"
    assert (await resolve(users_service, fresh)).identity_id == identity_id
