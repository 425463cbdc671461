"""Accounts: provisioning, self-service, directory and administration RPCs."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from agyn_inprocess.users import admin_user, provision
from agyn_testkit.calls import expect_error, metadata
from agynio.api.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


# --- ResolveOrCreateUser / GetUserByOIDCSubject ----------------------------------------------


async def test_first_sign_in_creates_then_resolves_without_updating(users_service):
    request = users_pb2.ResolveOrCreateUserRequest(
        oidc_subject="idp|alice",
        name="Alice Liddell",
        email="Alice.L@example.com",
        photo_url="https://p/a.png",
    )
    first = await users_service.users.ResolveOrCreateUser(request, metadata=metadata())
    assert first.created
    assert first.user.username == "alice-l"
    assert first.user.email == "Alice.L@example.com"
    uuid.UUID(first.user.meta.id)
    changed = users_pb2.ResolveOrCreateUserRequest(oidc_subject="idp|alice", name="Someone Else")
    second = await users_service.users.ResolveOrCreateUser(changed, metadata=metadata())
    assert not second.created
    assert second.user == first.user


async def test_first_sign_in_registers_the_identity_as_a_user(users_service):
    from agynio.api.identity.v1 import identity_pb2

    user = await provision(users_service)
    reply = await users_service.identity.GetIdentityType(
        identity_pb2.GetIdentityTypeRequest(identity_id=user.meta.id), metadata=metadata(caller="threads")
    )
    assert reply.identity_type == identity_pb2.IDENTITY_TYPE_USER


async def test_username_sources_in_order_and_collisions(users_service):
    preferred = await provision(users_service, preferred_username="Bob_Smith!", email="x@y", name="N")
    assert preferred.username == "bob_smith"
    from_email = await provision(users_service, email="bob_smith@example.com")
    assert from_email.username == "bob_smith-2"
    from_name = await provision(users_service, name="Ünïcode Name")
    assert from_name.username == "n-code-name"  # ü, ï and the space each become "-", then runs collapse
    fallback = await provision(users_service, subject="only-subject", name="!!!")
    assert fallback.username.startswith("user-") and len(fallback.username) == 13


async def test_concurrent_first_sign_ins_resolve_to_one_account(users_service):
    request = users_pb2.ResolveOrCreateUserRequest(oidc_subject="idp|race", name="Racer")
    replies = await asyncio.gather(
        *(users_service.users.ResolveOrCreateUser(request, metadata=metadata()) for _ in range(8))
    )
    assert len({reply.user.meta.id for reply in replies}) == 1
    assert sum(reply.created for reply in replies) == 1


async def test_resolve_or_create_requires_subject(users_service):
    await expect_error(
        users_service.users.ResolveOrCreateUser(users_pb2.ResolveOrCreateUserRequest(), metadata=metadata()),
        INVALID,
        "oidc_subject",
    )


async def test_get_user_by_oidc_subject(users_service):
    user = await provision(users_service, subject="idp|carol")
    reply = await users_service.users.GetUserByOIDCSubject(
        users_pb2.GetUserByOIDCSubjectRequest(oidc_subject="idp|carol"), metadata=metadata()
    )
    assert reply.user.meta.id == user.meta.id
    await expect_error(
        users_service.users.GetUserByOIDCSubject(
            users_pb2.GetUserByOIDCSubjectRequest(oidc_subject="idp|nobody"), metadata=metadata()
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        users_service.users.GetUserByOIDCSubject(
            users_pb2.GetUserByOIDCSubjectRequest(), metadata=metadata()
        ),
        INVALID,
        "oidc_subject",
    )
    # With an identity, only a cluster admin may look subjects up.
    await expect_error(
        users_service.users.GetUserByOIDCSubject(
            users_pb2.GetUserByOIDCSubjectRequest(oidc_subject="idp|carol"),
            metadata=metadata(identity=user.meta.id),
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    admin = await admin_user(users_service)
    reply = await users_service.users.GetUserByOIDCSubject(
        users_pb2.GetUserByOIDCSubjectRequest(oidc_subject="idp|carol"), metadata=metadata(identity=admin)
    )
    assert reply.user.meta.id == user.meta.id


# --- GetMe / UpdateMe ---------------------------------------------------------------------------


async def test_get_me_reports_role(users_service):
    user = await provision(users_service, name="Dana")
    reply = await users_service.users.GetMe(
        users_pb2.GetMeRequest(), metadata=metadata(identity=user.meta.id)
    )
    assert reply.user.name == "Dana"
    assert reply.cluster_role == users_pb2.CLUSTER_ROLE_UNSPECIFIED
    await users_service.make_admin(user.meta.id)
    reply = await users_service.users.GetMe(
        users_pb2.GetMeRequest(), metadata=metadata(identity=user.meta.id)
    )
    assert reply.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN


async def test_get_me_errors(users_service):
    await expect_error(
        users_service.users.GetMe(users_pb2.GetMeRequest(), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    await expect_error(
        users_service.users.GetMe(users_pb2.GetMeRequest(), metadata=metadata(identity=uuid.uuid4())),
        grpc.StatusCode.NOT_FOUND,
        "user not found",
    )


async def test_update_me(users_service):
    user = await provision(users_service, name="Eve")
    other = await provision(users_service, name="Frank")
    me = metadata(identity=user.meta.id)
    reply = await users_service.users.UpdateMe(
        users_pb2.UpdateMeRequest(name="", username="eve_2"), metadata=me
    )
    assert reply.user.name == ""
    assert reply.user.username == "eve_2"
    assert reply.user.meta.updated_at.ToDatetime() >= user.meta.updated_at.ToDatetime()
    await expect_error(users_service.users.UpdateMe(users_pb2.UpdateMeRequest(), metadata=me), INVALID)
    await expect_error(
        users_service.users.UpdateMe(users_pb2.UpdateMeRequest(username="Not Valid"), metadata=me),
        INVALID,
        "username",
    )
    await expect_error(
        users_service.users.UpdateMe(users_pb2.UpdateMeRequest(name="x" * 257), metadata=me), INVALID, "name"
    )
    await expect_error(
        users_service.users.UpdateMe(users_pb2.UpdateMeRequest(username=other.username), metadata=me),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    await expect_error(
        users_service.users.UpdateMe(users_pb2.UpdateMeRequest(name="n"), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    await expect_error(
        users_service.users.UpdateMe(
            users_pb2.UpdateMeRequest(name="n"), metadata=metadata(identity=uuid.uuid4())
        ),
        grpc.StatusCode.NOT_FOUND,
    )


# --- SearchUsers / BatchGetUsers ----------------------------------------------------------------


async def test_search_users_exact_first_then_bytewise(users_service):
    for username in ("ann", "ann_b", "ann-a", "anna", "bob"):
        await provision(users_service, preferred_username=username, name=username.upper(), email="e@x")
    searcher = await provision(users_service, preferred_username="zed")
    reply = await users_service.users.SearchUsers(
        users_pb2.SearchUsersRequest(prefix="ANN"), metadata=metadata(identity=searcher.meta.id)
    )
    assert [entry.username for entry in reply.users] == ["ann", "ann-a", "ann_b", "anna"]
    assert reply.users[0].name == "ANN"
    # `_` is literal, not a wildcard.
    reply = await users_service.users.SearchUsers(
        users_pb2.SearchUsersRequest(prefix="ann_", limit=20), metadata=metadata(identity=searcher.meta.id)
    )
    assert [entry.username for entry in reply.users] == ["ann_b"]
    reply = await users_service.users.SearchUsers(
        users_pb2.SearchUsersRequest(prefix="ann", limit=2), metadata=metadata(identity=searcher.meta.id)
    )
    assert len(reply.users) == 2


@pytest.mark.parametrize(
    ("prefix", "limit", "field"),
    [
        ("", 0, "prefix"),
        ("a" * 33, 0, "prefix"),
        ("a b", 0, "prefix"),
        ("a", -1, "limit"),
        ("a", 21, "limit"),
    ],
)
async def test_search_users_validation(users_service, prefix, limit, field):
    searcher = await provision(users_service)
    await expect_error(
        users_service.users.SearchUsers(
            users_pb2.SearchUsersRequest(prefix=prefix, limit=limit),
            metadata=metadata(identity=searcher.meta.id),
        ),
        INVALID,
        field,
    )


async def test_search_users_needs_identity_and_is_rate_limited(users_service):
    await expect_error(
        users_service.users.SearchUsers(users_pb2.SearchUsersRequest(prefix="a"), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    searcher = await provision(users_service)
    codes = []
    for _ in range(40):
        try:
            await users_service.users.SearchUsers(
                users_pb2.SearchUsersRequest(prefix="a"), metadata=metadata(identity=searcher.meta.id)
            )
            codes.append(grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as error:
            codes.append(error.code())
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes
    assert codes[0] == grpc.StatusCode.OK


async def test_batch_get_users_sorted_deduplicated(users_service):
    created = [await provision(users_service) for _ in range(3)]
    ids = [user.meta.id for user in created]
    caller = metadata(identity=ids[0])
    request = users_pb2.BatchGetUsersRequest(identity_ids=[ids[2], ids[0], ids[2], str(uuid.uuid4()), ids[1]])
    reply = await users_service.users.BatchGetUsers(request, metadata=caller)
    assert [user.meta.id for user in reply.users] == sorted(ids)
    empty = await users_service.users.BatchGetUsers(users_pb2.BatchGetUsersRequest(), metadata=caller)
    assert list(empty.users) == []
    await expect_error(
        users_service.users.BatchGetUsers(
            users_pb2.BatchGetUsersRequest(identity_ids=[ids[0], "nope"]), metadata=caller
        ),
        INVALID,
        "identity_ids[1]",
    )
    too_many = users_pb2.BatchGetUsersRequest(identity_ids=[str(uuid.uuid4()) for _ in range(101)])
    await expect_error(users_service.users.BatchGetUsers(too_many, metadata=caller), INVALID, "101")


# --- administration -------------------------------------------------------------------------------


async def test_admin_rpcs_refuse_non_admins_before_validation(users_service):
    user = await provision(users_service)
    caller = metadata(identity=user.meta.id)
    calls = [
        users_service.users.GetUser(users_pb2.GetUserRequest(identity_id="bad"), metadata=caller),
        users_service.users.ListUsers(users_pb2.ListUsersRequest(page_token="%%%"), metadata=caller),
        users_service.users.CreateUser(users_pb2.CreateUserRequest(), metadata=caller),
        users_service.users.UpdateUser(users_pb2.UpdateUserRequest(identity_id="bad"), metadata=caller),
        users_service.users.DeleteUser(users_pb2.DeleteUserRequest(identity_id="bad"), metadata=caller),
    ]
    for call in calls:
        await expect_error(call, grpc.StatusCode.PERMISSION_DENIED, "cluster admin required")
    await expect_error(
        users_service.users.GetUser(users_pb2.GetUserRequest(identity_id=user.meta.id), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )


async def test_get_user(users_service):
    admin = await admin_user(users_service)
    user = await provision(users_service, name="Gina")
    reply = await users_service.users.GetUser(
        users_pb2.GetUserRequest(identity_id=user.meta.id), metadata=metadata(identity=admin)
    )
    assert reply.user.name == "Gina"
    assert reply.cluster_role == users_pb2.CLUSTER_ROLE_UNSPECIFIED
    reply = await users_service.users.GetUser(
        users_pb2.GetUserRequest(identity_id=str(admin)), metadata=metadata(identity=admin)
    )
    assert reply.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
    await expect_error(
        users_service.users.GetUser(
            users_pb2.GetUserRequest(identity_id="x"), metadata=metadata(identity=admin)
        ),
        INVALID,
        "identity_id",
    )
    await expect_error(
        users_service.users.GetUser(
            users_pb2.GetUserRequest(identity_id=str(uuid.uuid4())), metadata=metadata(identity=admin)
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_list_users_pages_by_identity_id(users_service):
    admin = await admin_user(users_service)
    for _ in range(6):
        await provision(users_service)
    seen: list[str] = []
    token = ""
    while True:
        reply = await users_service.users.ListUsers(
            users_pb2.ListUsersRequest(page_size=3, page_token=token), metadata=metadata(identity=admin)
        )
        assert len(reply.users) <= 3
        seen.extend(user.meta.id for user in reply.users)
        token = reply.next_page_token
        if not token:
            break
    assert len(seen) == 7
    assert seen == sorted(seen)
    # A page that ends exactly at the last row has no next token.
    whole = await users_service.users.ListUsers(
        users_pb2.ListUsersRequest(page_size=7), metadata=metadata(identity=admin)
    )
    assert len(whole.users) == 7 and whole.next_page_token == ""
    # page_size <= 0 means 50; above 100 is clamped.
    default = await users_service.users.ListUsers(
        users_pb2.ListUsersRequest(), metadata=metadata(identity=admin)
    )
    assert len(default.users) == 7
    for bad in ("%%%", "bm90LWEtdXVpZA"):
        await expect_error(
            users_service.users.ListUsers(
                users_pb2.ListUsersRequest(page_token=bad), metadata=metadata(identity=admin)
            ),
            INVALID,
            "page_token",
        )


async def test_create_user(users_service):
    admin = await admin_user(users_service)
    caller = metadata(identity=admin)
    reply = await users_service.users.CreateUser(
        users_pb2.CreateUserRequest(
            oidc_subject="idp|h", name="Hal Jordan", cluster_role=users_pb2.CLUSTER_ROLE_ADMIN
        ),
        metadata=caller,
    )
    assert reply.user.username == "hal-jordan"
    assert reply.user.email == ""
    role = await users_service.users.GetUser(
        users_pb2.GetUserRequest(identity_id=reply.user.meta.id), metadata=caller
    )
    assert role.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
    explicit = await users_service.users.CreateUser(
        users_pb2.CreateUserRequest(oidc_subject="idp|i", username="ivy", nickname="legacy"), metadata=caller
    )
    assert explicit.user.username == "ivy" and explicit.user.nickname == "legacy"
    failures = [
        (users_pb2.CreateUserRequest(), INVALID, "oidc_subject"),
        (users_pb2.CreateUserRequest(oidc_subject="s", cluster_role=7), INVALID, "cluster_role"),
        (users_pb2.CreateUserRequest(oidc_subject="s", username="BAD"), INVALID, "username"),
        (users_pb2.CreateUserRequest(oidc_subject="s", photo_url="u" * 2049), INVALID, "photo_url"),
        (users_pb2.CreateUserRequest(oidc_subject="idp|h"), grpc.StatusCode.ALREADY_EXISTS, "oidc_subject"),
        (
            users_pb2.CreateUserRequest(oidc_subject="s", username="ivy"),
            grpc.StatusCode.ALREADY_EXISTS,
            "username",
        ),
    ]
    for request, code, fragment in failures:
        await expect_error(users_service.users.CreateUser(request, metadata=caller), code, fragment)


async def test_create_user_idempotency_key(users_service):
    admin = await admin_user(users_service)
    keyed = metadata(identity=admin, idempotency_key="create-j")
    request = users_pb2.CreateUserRequest(oidc_subject="idp|j", name="Jay")
    first = await users_service.users.CreateUser(request, metadata=keyed)
    again = await users_service.users.CreateUser(request, metadata=keyed)
    assert again == first
    await expect_error(
        users_service.users.CreateUser(users_pb2.CreateUserRequest(oidc_subject="idp|k"), metadata=keyed),
        grpc.StatusCode.FAILED_PRECONDITION,
        "idempotency-key",
    )


async def test_update_user(users_service):
    admin = await admin_user(users_service)
    caller = metadata(identity=admin)
    user = await provision(users_service, name="Kim", email="kim@example.com")
    taken = await provision(users_service)
    reply = await users_service.users.UpdateUser(
        users_pb2.UpdateUserRequest(identity_id=user.meta.id, email="", nickname="kk", username="kim_k"),
        metadata=caller,
    )
    assert (reply.user.email, reply.user.nickname, reply.user.username, reply.user.name) == (
        "",
        "kk",
        "kim_k",
        "Kim",
    )
    await users_service.users.UpdateUser(
        users_pb2.UpdateUserRequest(identity_id=user.meta.id, cluster_role=users_pb2.CLUSTER_ROLE_ADMIN),
        metadata=caller,
    )
    role = await users_service.users.GetUser(
        users_pb2.GetUserRequest(identity_id=user.meta.id), metadata=caller
    )
    assert role.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
    # Granting twice and clearing twice are both fine.
    for role_value in (users_pb2.CLUSTER_ROLE_ADMIN, 0, 0):
        await users_service.users.UpdateUser(
            users_pb2.UpdateUserRequest(identity_id=user.meta.id, cluster_role=role_value), metadata=caller
        )
    role = await users_service.users.GetUser(
        users_pb2.GetUserRequest(identity_id=user.meta.id), metadata=caller
    )
    assert role.cluster_role == users_pb2.CLUSTER_ROLE_UNSPECIFIED
    failures = [
        (users_pb2.UpdateUserRequest(identity_id="x", name="n"), INVALID, "identity_id"),
        (users_pb2.UpdateUserRequest(identity_id=user.meta.id), INVALID, "at least one field"),
        (users_pb2.UpdateUserRequest(identity_id=user.meta.id, cluster_role=3), INVALID, "cluster_role"),
        (users_pb2.UpdateUserRequest(identity_id=user.meta.id, username="-Bad-"), INVALID, "username"),
        (
            users_pb2.UpdateUserRequest(identity_id=str(uuid.uuid4()), name="n"),
            grpc.StatusCode.NOT_FOUND,
            "user",
        ),
        (
            users_pb2.UpdateUserRequest(identity_id=user.meta.id, username=taken.username),
            grpc.StatusCode.ALREADY_EXISTS,
            "username",
        ),
    ]
    for request, code, fragment in failures:
        await expect_error(users_service.users.UpdateUser(request, metadata=caller), code, fragment)


async def test_delete_user_removes_account_and_credentials(users_service):
    from agyn_inprocess.users import sha256_hex
    from agynio.api.users.v1 import users_pb2 as pb

    admin = await admin_user(users_service)
    user = await provision(users_service)
    token = await users_service.users.CreateAPIToken(
        pb.CreateAPITokenRequest(name="t"), metadata=metadata(identity=user.meta.id)
    )
    await users_service.users.DeleteUser(
        pb.DeleteUserRequest(identity_id=user.meta.id), metadata=metadata(identity=admin)
    )
    await expect_error(
        users_service.users.GetUser(
            pb.GetUserRequest(identity_id=user.meta.id), metadata=metadata(identity=admin)
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        users_service.users.ResolveAPIToken(
            pb.ResolveAPITokenRequest(token_hash=sha256_hex(token.plaintext_token)), metadata=metadata()
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        users_service.users.DeleteUser(
            pb.DeleteUserRequest(identity_id=user.meta.id), metadata=metadata(identity=admin)
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        users_service.users.DeleteUser(
            pb.DeleteUserRequest(identity_id=""), metadata=metadata(identity=admin)
        ),
        INVALID,
        "identity_id",
    )
