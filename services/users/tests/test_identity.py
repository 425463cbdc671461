"""IdentityService: the registry, nicknames, and their authorization."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.users import admin_user, provision
from agyn_testkit.calls import expect_error, metadata
from agynio.api.identity.v1 import identity_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
AGENT = identity_pb2.IDENTITY_TYPE_AGENT
APP = identity_pb2.IDENTITY_TYPE_APP


async def register(client, identity_type=AGENT) -> str:
    identity_id = str(uuid.uuid4())
    await client.identity.RegisterIdentity(
        identity_pb2.RegisterIdentityRequest(identity_id=identity_id, identity_type=identity_type),
        metadata=metadata(caller="agents"),
    )
    return identity_id


# --- the registry ---------------------------------------------------------------------------


async def test_register_then_read_types_singly_and_in_request_order(users_service):
    agent = await register(users_service, AGENT)
    app = await register(users_service, APP)
    reply = await users_service.identity.GetIdentityType(
        identity_pb2.GetIdentityTypeRequest(identity_id=agent.upper()), metadata=metadata(caller="threads")
    )
    assert reply.identity_type == AGENT
    unknown = str(uuid.uuid4())
    batch = await users_service.identity.BatchGetIdentityTypes(
        identity_pb2.BatchGetIdentityTypesRequest(identity_ids=[app, unknown, agent, app]),
        metadata=metadata(caller="gateway"),
    )
    assert [(e.identity_id, e.identity_type) for e in batch.entries] == [
        (app, APP),
        (agent, AGENT),
        (app, APP),
    ]
    empty = await users_service.identity.BatchGetIdentityTypes(
        identity_pb2.BatchGetIdentityTypesRequest(), metadata=metadata(caller="gateway")
    )
    assert list(empty.entries) == []


async def test_register_rejects_bad_ids_types_and_repeats(users_service):
    async def call(identity_id, identity_type):
        return users_service.identity.RegisterIdentity(
            identity_pb2.RegisterIdentityRequest(identity_id=identity_id, identity_type=identity_type),
            metadata=metadata(caller="runners"),
        )

    await expect_error(await call("nope", AGENT), INVALID, "identity_id")
    await expect_error(await call("", AGENT), INVALID, "identity_id")
    for bad_type in (identity_pb2.IDENTITY_TYPE_UNSPECIFIED, 3, 6):
        await expect_error(await call(str(uuid.uuid4()), bad_type), INVALID, "identity_type")
    existing = await register(users_service, AGENT)
    await expect_error(await call(existing, AGENT), grpc.StatusCode.ALREADY_EXISTS, "already registered")


async def test_get_type_errors(users_service):
    await expect_error(
        users_service.identity.GetIdentityType(
            identity_pb2.GetIdentityTypeRequest(identity_id="x"), metadata=metadata(caller="threads")
        ),
        INVALID,
        "identity_id",
    )
    await expect_error(
        users_service.identity.GetIdentityType(
            identity_pb2.GetIdentityTypeRequest(identity_id=str(uuid.uuid4())),
            metadata=metadata(caller="threads"),
        ),
        grpc.StatusCode.NOT_FOUND,
        "identity not found",
    )


async def test_batch_types_name_the_bad_item_and_cap_the_size(users_service):
    good = str(uuid.uuid4())
    await expect_error(
        users_service.identity.BatchGetIdentityTypes(
            identity_pb2.BatchGetIdentityTypesRequest(identity_ids=[good, "bad"]),
            metadata=metadata(caller="chat"),
        ),
        INVALID,
        "identity_ids[1]",
    )
    await expect_error(
        users_service.identity.BatchGetIdentityTypes(
            identity_pb2.BatchGetIdentityTypesRequest(identity_ids=[good] * 1001),
            metadata=metadata(caller="chat"),
        ),
        INVALID,
        "1000",
    )


async def test_registry_methods_admit_only_their_declared_callers(users_service):
    await expect_error(
        users_service.identity.RegisterIdentity(
            identity_pb2.RegisterIdentityRequest(identity_id=str(uuid.uuid4()), identity_type=AGENT),
            metadata=metadata(caller="threads"),
        ),
        grpc.StatusCode.PERMISSION_DENIED,
        "threads may not call",
    )
    await expect_error(
        users_service.identity.GetIdentityType(
            identity_pb2.GetIdentityTypeRequest(identity_id=str(uuid.uuid4())),
            metadata=metadata(caller="files"),
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )


# --- nicknames --------------------------------------------------------------------------------


def set_request(org, identity, nickname, installation=None):
    request = identity_pb2.SetNicknameRequest(organization_id=org, identity_id=identity, nickname=nickname)
    if installation is not None:
        request.installation_id = installation
    return request


async def test_admin_sets_resolves_replaces_and_removes_a_handle(platform):
    users_service = platform.users
    admin = await platform.admin()
    org = await platform.create_org(admin)
    agent = await register(users_service, AGENT)
    as_admin = metadata(admin, caller="organizations")
    await users_service.identity.SetNickname(set_request(org, agent, "  helper  "), metadata=as_admin)
    await users_service.identity.SetNickname(
        set_request(org, agent, "helper"), metadata=as_admin
    )  # same value
    resolved = await users_service.identity.ResolveNickname(
        identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="@helper"),
        metadata=metadata(admin, caller="threads"),
    )
    assert (resolved.identity_id, resolved.identity_type) == (agent, AGENT)
    assert not resolved.HasField("installation_id")

    await users_service.identity.SetNickname(set_request(org, agent, "aide"), metadata=as_admin)
    await expect_error(
        users_service.identity.ResolveNickname(
            identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="helper"),
            metadata=metadata(admin, caller="threads"),
        ),
        grpc.StatusCode.NOT_FOUND,
        "nickname not found",
    )
    await users_service.identity.RemoveNickname(
        identity_pb2.RemoveNicknameRequest(organization_id=org, identity_id=agent), metadata=as_admin
    )
    await expect_error(
        users_service.identity.RemoveNickname(
            identity_pb2.RemoveNicknameRequest(organization_id=org, identity_id=agent), metadata=as_admin
        ),
        grpc.StatusCode.NOT_FOUND,
        "nickname not found",
    )


async def test_handles_are_unique_per_organization_only(platform):
    users_service = platform.users
    admin = await platform.admin()
    org, other_org = await platform.create_org(admin), await platform.create_org(admin)
    first, second = await register(users_service), await register(users_service)
    as_admin = metadata(admin, caller="agents")
    await users_service.identity.SetNickname(set_request(org, first, "bot"), metadata=as_admin)
    await expect_error(
        users_service.identity.SetNickname(set_request(org, second, "bot"), metadata=as_admin),
        grpc.StatusCode.ALREADY_EXISTS,
        "taken",
    )
    await users_service.identity.SetNickname(set_request(other_org, second, "bot"), metadata=as_admin)


async def test_app_handles_are_per_installation(platform):
    users_service = platform.users
    admin = await platform.admin()
    org = await platform.create_org(admin)
    app, other_app = await register(users_service, APP), await register(users_service, APP)
    install_a, install_b = str(uuid.uuid4()), str(uuid.uuid4())
    as_admin = metadata(admin, caller="apps")
    await expect_error(
        users_service.identity.SetNickname(set_request(org, app, "deploy"), metadata=as_admin),
        INVALID,
        "installation_id",
    )
    await users_service.identity.SetNickname(set_request(org, app, "deploy-b", install_b), metadata=as_admin)
    await users_service.identity.SetNickname(set_request(org, app, "deploy-a", install_a), metadata=as_admin)
    resolved = await users_service.identity.ResolveNickname(
        identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="deploy-a"),
        metadata=metadata(admin, caller="gateway"),
    )
    assert (resolved.identity_type, resolved.installation_id) == (APP, install_a)
    # The oldest installation's handle represents the app in batch reads (sheet §8.16).
    batch = await users_service.identity.BatchGetNicknames(
        identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[app]),
        metadata=metadata(admin, caller="threads"),
    )
    assert [entry.nickname for entry in batch.entries] == ["deploy-b"]
    # An installation that changes hands moves its handle with it.
    await users_service.identity.SetNickname(
        set_request(org, other_app, "deploy-a2", install_a), metadata=as_admin
    )
    moved = await users_service.identity.ResolveNickname(
        identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="deploy-a2"),
        metadata=metadata(admin, caller="gateway"),
    )
    assert moved.identity_id == other_app
    agent = await register(users_service, AGENT)
    await expect_error(
        users_service.identity.SetNickname(set_request(org, agent, "x", install_a), metadata=as_admin),
        INVALID,
        "only allowed for app",
    )
    await users_service.identity.RemoveNickname(
        identity_pb2.RemoveNicknameRequest(
            organization_id=org, identity_id=other_app, installation_id=install_a
        ),
        metadata=as_admin,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"organization_id": "x"}, "organization_id"),
        ({"identity_id": ""}, "identity_id"),
        ({"nickname": "   "}, "nickname"),
        ({"nickname": "a" * 33}, "nickname"),
        ({"nickname": "Upper"}, "nickname"),
        ({"nickname": "@lead"}, "nickname"),
        ({"installation_id": ""}, "installation_id"),
    ],
)
async def test_set_nickname_validation(users_service, fields, field):
    admin = await admin_user(users_service)
    request = {
        "organization_id": str(uuid.uuid4()),
        "identity_id": str(uuid.uuid4()),
        "nickname": "ok",
        **fields,
    }
    await expect_error(
        users_service.identity.SetNickname(
            identity_pb2.SetNicknameRequest(**request), metadata=metadata(admin, caller="organizations")
        ),
        INVALID,
        field,
    )


async def test_nickname_methods_need_a_forwarded_identity(users_service):
    org = str(uuid.uuid4())
    calls = [
        users_service.identity.SetNickname(
            set_request(org, org, "x"), metadata=metadata(caller="organizations")
        ),
        users_service.identity.RemoveNickname(
            identity_pb2.RemoveNicknameRequest(organization_id=org, identity_id=org),
            metadata=metadata(caller="organizations"),
        ),
        users_service.identity.ResolveNickname(
            identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="x"),
            metadata=metadata(caller="threads"),
        ),
        users_service.identity.BatchGetNicknames(
            identity_pb2.BatchGetNicknamesRequest(organization_id=org), metadata=metadata(caller="threads")
        ),
    ]
    for call in calls:
        await expect_error(call, grpc.StatusCode.UNAUTHENTICATED, "identity not available")


async def test_unknown_target_identity_is_not_found(platform):
    admin = await platform.admin()
    org = await platform.create_org(admin)
    await expect_error(
        platform.users.identity.SetNickname(
            set_request(org, str(uuid.uuid4()), "ghost"),
            metadata=metadata(admin, caller="agents"),
        ),
        grpc.StatusCode.NOT_FOUND,
        "identity not found",
    )


async def test_nickname_checks_fail_unavailable_while_organizations_is_down(users_service):
    """Relations only Organizations can answer are refused as UNAVAILABLE naming it, never guessed."""
    user = await provision(users_service)
    admin = await admin_user(users_service)
    org = str(uuid.uuid4())
    as_user = metadata(user.meta.id, caller="organizations")
    calls = [
        users_service.identity.SetNickname(set_request(org, user.meta.id, "me"), metadata=as_user),
        users_service.identity.ResolveNickname(
            identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="me"),
            metadata=metadata(user.meta.id, caller="threads"),
        ),
        users_service.identity.BatchGetNicknames(
            identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[user.meta.id]),
            metadata=metadata(user.meta.id, caller="threads"),
        ),
        users_service.identity.SetNickname(
            set_request(org, str(admin), "boss"), metadata=metadata(admin, caller="organizations")
        ),
    ]
    for call in calls:
        error = await expect_error(call, grpc.StatusCode.UNAVAILABLE, "organizations is unavailable")
        assert b"DEPENDENCY_UNAVAILABLE" in dict(error.trailing_metadata())["grpc-status-details-bin"]


async def test_nickname_rights_follow_organization_relations(platform):
    """Own handle: member. Another's: owner (member management) or cluster admin. Read: member."""
    owner, member, outsider = await platform.user("owner"), await platform.user("mia"), await platform.user()
    admin = await platform.admin()
    org = await platform.create_org(owner)
    await platform.join(owner, org, member)
    identity = platform.users.identity

    await identity.SetNickname(
        set_request(org, str(member), "mia2"), metadata=metadata(member, caller="organizations")
    )
    denied = [
        identity.SetNickname(
            set_request(org, str(owner), "boss"), metadata=metadata(member, caller="organizations")
        ),
        identity.SetNickname(
            set_request(org, str(outsider), "me"), metadata=metadata(outsider, caller="organizations")
        ),
        identity.ResolveNickname(
            identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="mia2"),
            metadata=metadata(outsider, caller="threads"),
        ),
    ]
    for call in denied:
        await expect_error(call, grpc.StatusCode.PERMISSION_DENIED)
    await identity.SetNickname(
        set_request(org, str(member), "mia3"), metadata=metadata(owner, caller="organizations")
    )
    await identity.SetNickname(
        set_request(org, str(member), "mia4"), metadata=metadata(admin, caller="organizations")
    )
    resolved = await identity.ResolveNickname(
        identity_pb2.ResolveNicknameRequest(organization_id=org, nickname="@mia4"),
        metadata=metadata(member, caller="threads"),
    )
    assert resolved.identity_id == str(member)
    # A cluster admin reads any organization's handles (can_view_threads), but holds no `member`.
    await identity.BatchGetNicknames(
        identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[str(member)]),
        metadata=metadata(admin, caller="threads"),
    )
    await expect_error(
        identity.SetNickname(
            set_request(org, str(admin), "root"), metadata=metadata(admin, caller="organizations")
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_batch_get_nicknames_order_omissions_and_checks(platform):
    users_service = platform.users
    admin = await platform.admin()
    org = await platform.create_org(admin)
    named, unnamed = await register(users_service), await register(users_service)
    await users_service.identity.SetNickname(
        set_request(org, named, "named"), metadata=metadata(admin, caller="agents")
    )
    as_reader = metadata(admin, caller="threads")
    batch = await users_service.identity.BatchGetNicknames(
        identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[unnamed, named, named]),
        metadata=as_reader,
    )
    assert [(e.identity_id, e.nickname) for e in batch.entries] == [(named, "named"), (named, "named")]
    await expect_error(
        users_service.identity.BatchGetNicknames(
            identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[named, "bad"]),
            metadata=as_reader,
        ),
        INVALID,
        "identity_ids[1]",
    )
    await expect_error(
        users_service.identity.BatchGetNicknames(
            identity_pb2.BatchGetNicknamesRequest(organization_id="bad"), metadata=as_reader
        ),
        INVALID,
        "organization_id",
    )
    await expect_error(
        users_service.identity.BatchGetNicknames(
            identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[named] * 1001),
            metadata=as_reader,
        ),
        INVALID,
        "1000",
    )


async def test_resolve_nickname_validation(users_service):
    admin = await admin_user(users_service)
    for nickname in ("", "@", "no spaces", "x" * 33):
        await expect_error(
            users_service.identity.ResolveNickname(
                identity_pb2.ResolveNicknameRequest(organization_id=str(uuid.uuid4()), nickname=nickname),
                metadata=metadata(admin, caller="threads"),
            ),
            INVALID,
            "nickname",
        )
