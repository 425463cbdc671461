"""The organization relations other services check: the access API, and its cache elsewhere."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import grpc
import pytest
from agyn_common.org_access import RELATIONS
from agyn_inprocess.organizations import MEMBER, OWNER, metadata, pb
from agyn_testkit.calls import expect_error
from agyn_testkit.harness import read_events
from agynio.api.organizations.v1 import access_pb2
from agynio.api.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PROBE = Path(__file__).with_name("access_probe.py")
WATCHED = ("member", "owner", "can_view_threads")


async def answers(platform, identity, org) -> dict[str, bool]:
    return {relation: await platform.check(identity, relation, org) for relation in WATCHED}


async def test_relations_follow_invitation_role_change_and_removal(platform):
    owner, friend = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    assert await answers(platform, owner, org) == {"member": True, "owner": True, "can_view_threads": True}

    invitation = await platform.invite(owner, org, friend)
    assert await answers(platform, friend, org) == dict.fromkeys(WATCHED, False)  # pending grants nothing
    await platform.organizations.AcceptMembership(
        pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(friend)
    )
    assert await answers(platform, friend, org) == {"member": True, "owner": False, "can_view_threads": False}

    await platform.organizations.UpdateMembershipRole(
        pb.UpdateMembershipRoleRequest(membership_id=invitation.id, role=OWNER), metadata=metadata(owner)
    )
    assert await answers(platform, friend, org) == dict.fromkeys(WATCHED, True)
    await platform.organizations.UpdateMembershipRole(
        pb.UpdateMembershipRoleRequest(membership_id=invitation.id, role=MEMBER), metadata=metadata(owner)
    )
    assert await answers(platform, friend, org) == {"member": True, "owner": False, "can_view_threads": False}

    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=invitation.id), metadata=metadata(owner)
    )
    assert await answers(platform, friend, org) == dict.fromkeys(WATCHED, False)

    # The last owner stays, whether removed by someone else, leaving, or demoted.
    mine = await platform.organizations.ListMyMemberships(
        pb.ListMyMembershipsRequest(), metadata=metadata(owner)
    )
    (own_membership,) = mine.memberships
    for call in (
        platform.organizations.RemoveMembership(
            pb.RemoveMembershipRequest(membership_id=own_membership.id), metadata=metadata(owner)
        ),
        platform.organizations.UpdateMembershipRole(
            pb.UpdateMembershipRoleRequest(membership_id=own_membership.id, role=MEMBER),
            metadata=metadata(owner),
        ),
    ):
        error = await expect_error(call, grpc.StatusCode.FAILED_PRECONDITION, "last owner")
        assert b"LAST_OWNER" in dict(error.trailing_metadata())["grpc-status-details-bin"]
    assert await answers(platform, owner, org) == dict.fromkeys(WATCHED, True)


class AccessProbe:
    """A separate process caching answers through `agyn_common.org_access`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def check(self, identity, relation, org) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"identity_id": str(identity), "relation": relation, "organization_id": org}
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        await self.process.stdin.drain()
        return json.loads(await asyncio.wait_for(self.process.stdout.readline(), 10))


@pytest.fixture
async def probe(platform, nats):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROBE),
        platform.organizations_service.address,
        nats.url,
        "300",  # longer than any test: only a change event can make it forget
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert json.loads(await asyncio.wait_for(process.stdout.readline(), 20)) == {"ready": True}
    yield AccessProbe(process)
    assert process.stdin is not None
    process.stdin.close()
    assert await asyncio.wait_for(process.wait(), 10) == 0


async def wait_for_answer(probe, identity, relation, org, expected: bool, within: float) -> float:
    """Seconds until the probe answers `expected`; fails when that takes longer than `within`."""
    started = time.monotonic()
    while (await probe.check(identity, relation, org))["allowed"] != expected:
        assert time.monotonic() - started < within, f"{relation} still cached after {within}s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_a_cached_answer_in_another_process_changes_within_a_second(platform, probe):
    owner, friend = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    membership = await platform.join(owner, org, friend)

    first = await probe.check(friend, "member", org)
    again = await probe.check(friend, "member", org)
    assert first["allowed"] and again["allowed"]
    assert again["calls"] == first["calls"]  # served from the cache

    await platform.organizations.UpdateMembershipRole(
        pb.UpdateMembershipRoleRequest(membership_id=membership.id, role=OWNER), metadata=metadata(owner)
    )
    await wait_for_answer(probe, friend, "can_view_threads", org, True, within=1.0)
    assert (await probe.check(friend, "owner", org))["allowed"]

    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=membership.id), metadata=metadata(owner)
    )
    await wait_for_answer(probe, friend, "member", org, False, within=1.0)

    # Organization-wide changes reach it too: deleting the organization drops the owner's answers.
    assert (await probe.check(owner, "owner", org))["allowed"]
    await platform.organizations.DeleteOrganization(
        pb.DeleteOrganizationRequest(id=org), metadata=metadata(owner)
    )
    await wait_for_answer(probe, owner, "owner", org, False, within=1.0)


async def test_cluster_role_changes_reach_cached_answers(platform, probe):
    owner, user = await platform.user("olga"), await platform.user("ursula")
    org = await platform.create_org(owner)
    assert not (await probe.check(user, "can_view_threads", org))["allowed"]
    # Through Users' own RPC, so that Users publishes the role change.
    admin = await platform.admin()
    await platform.users.users.UpdateUser(
        users_pb2.UpdateUserRequest(identity_id=str(user), cluster_role=users_pb2.CLUSTER_ROLE_ADMIN),
        metadata=metadata(admin),
    )
    await wait_for_answer(probe, user, "can_view_threads", org, True, within=1.0)


# --- the access API itself -------------------------------------------------------------------


def check_request(identity, org, relation, correlation=None):
    fields = {"identity_id": str(identity), "organization_id": str(org), "relation": relation}
    if correlation is None:
        return access_pb2.CheckOrganizationRelationRequest(**fields)
    return access_pb2.OrganizationRelationCheck(**fields, correlation_id=correlation)


def grant(identity, org, relation):
    return access_pb2.OrganizationGrant(
        identity_id=str(identity), organization_id=str(org), relation=relation
    )


async def test_admin_relations_and_organizations_without_a_row(platform):
    owner, admin = await platform.user("olga"), await platform.admin()
    org = await platform.create_org(owner)
    admin_answers = {relation: await platform.check(admin, relation, org) for relation in RELATIONS}
    assert {relation for relation, allowed in admin_answers.items() if allowed} == {
        "can_manage_members",
        "can_manage_organization",
        "can_view_threads",
        "can_view_workloads",
        "can_view_volumes",
        "can_list_sandboxes",
        "can_add_member",
    }
    owner_answers = {relation: await platform.check(owner, relation, org) for relation in RELATIONS}
    assert {relation for relation, allowed in owner_answers.items() if not allowed} == {
        "can_add_member",
        "thread_create",
        "thread_write",
        "participant_add",
        "inbox_write",
    }
    # No organization row: nothing holds, not even for a cluster admin (sheet §4.4).
    ghost = str(uuid.uuid4())
    assert not await platform.check(admin, "can_add_member", ghost)
    assert not await platform.check(owner, "member", ghost)


async def test_check_validation_names_the_field(platform):
    identity = str(uuid.uuid4())
    for request, field in [
        (check_request("bad", identity, "member"), "identity_id"),
        (check_request(identity, "", "member"), "organization_id"),
        (check_request(identity, identity, "admin"), "relation"),
        (check_request(identity, identity, ""), "relation"),
    ]:
        await expect_error(
            platform.access.CheckOrganizationRelation(request, metadata=metadata(caller="threads")),
            INVALID,
            field,
        )


async def test_batch_answers_each_item_and_reports_bad_ones_in_place(platform):
    owner, stranger = await platform.user("olga"), await platform.user()
    org = await platform.create_org(owner)
    reply = await platform.access.BatchCheckOrganizationRelations(
        access_pb2.BatchCheckOrganizationRelationsRequest(
            checks=[
                check_request(owner, org, "owner", "a"),
                check_request(stranger, org, "member", "b"),
                check_request(owner, org, "superuser", "c"),
                check_request("nope", org, "member", "d"),
                check_request(owner, org, "can_invite", "e"),
            ]
        ),
        metadata=metadata(caller="agents"),
    )
    results = {key: (value.allowed, value.error) for key, value in reply.results.items()}
    assert results["a"] == (True, "")
    assert results["b"] == (False, "")
    assert results["e"] == (True, "")
    assert not results["c"][0] and "checks[2].relation" in results["c"][1]
    assert not results["d"][0] and "checks[3].identity_id" in results["d"][1]

    too_many = [check_request(owner, org, "member", str(index)) for index in range(101)]
    duplicated = [check_request(owner, org, "member", "x"), check_request(owner, org, "owner", "x")]
    for checks, field in [
        (too_many, "checks"),
        (duplicated, "checks[1].correlation_id"),
        ([check_request(owner, org, "member", "")], "checks[0].correlation_id"),
    ]:
        await expect_error(
            platform.access.BatchCheckOrganizationRelations(
                access_pb2.BatchCheckOrganizationRelationsRequest(checks=checks),
                metadata=metadata(caller="agents"),
            ),
            INVALID,
            field,
        )
    empty = await platform.access.BatchCheckOrganizationRelations(
        access_pb2.BatchCheckOrganizationRelationsRequest(), metadata=metadata(caller="agents")
    )
    assert not empty.results


async def test_list_organizations_for_a_relation(platform):
    owner, friend, admin = await platform.user("olga"), await platform.user("fred"), await platform.admin()
    first, second, third = [await platform.create_org(owner, name) for name in ("A", "B", "C")]
    await platform.join(owner, second, friend)
    await platform.invite(owner, third, friend)  # pending: not listed

    async def listed(identity, relation):
        reply = await platform.access.ListOrganizationsForRelation(
            access_pb2.ListOrganizationsForRelationRequest(identity_id=str(identity), relation=relation),
            metadata=metadata(caller="files"),
        )
        return list(reply.organization_ids)

    assert await listed(owner, "owner") == sorted([first, second, third])
    assert await listed(friend, "member") == [second]
    assert await listed(friend, "owner") == []
    # Admin-derived relations list every organization for a cluster admin; `member` does not.
    assert set(await listed(admin, "can_view_threads")) >= {first, second, third}
    assert await listed(admin, "member") == []
    await expect_error(
        platform.access.ListOrganizationsForRelation(
            access_pb2.ListOrganizationsForRelationRequest(identity_id=str(owner), relation="root"),
            metadata=metadata(caller="files"),
        ),
        INVALID,
        "relation",
    )


async def test_direct_grants_for_identities_without_membership(platform, nats):
    owner, app = await platform.user("olga"), uuid.uuid4()
    org = await platform.create_org(owner)
    as_apps = metadata(caller="apps")
    await platform.access.WriteOrganizationGrants(
        access_pb2.WriteOrganizationGrantsRequest(
            writes=[grant(app, org, "member"), grant(app, org, "thread_write")]
        ),
        metadata=as_apps,
    )
    await platform.access.WriteOrganizationGrants(  # idempotent
        access_pb2.WriteOrganizationGrantsRequest(writes=[grant(app, org, "member")]), metadata=as_apps
    )
    holds = {relation: await platform.check(app, relation, org) for relation in RELATIONS}
    assert {relation for relation, allowed in holds.items() if allowed} == {
        "member",
        "thread_write",
        "can_create_thread",
        "can_create_sandbox",
        "can_create_environment",
    }
    # Grants are not memberships: the member list shows only the owner.
    members = await platform.organizations.ListMembers(
        pb.ListMembersRequest(organization_id=org), metadata=metadata(owner)
    )
    assert [m.identity_id for m in members.memberships] == [str(owner)]

    await platform.access.WriteOrganizationGrants(
        access_pb2.WriteOrganizationGrantsRequest(
            deletes=[grant(app, org, "member"), grant(app, org, "inbox_write")]  # the second never existed
        ),
        metadata=as_apps,
    )
    assert not await platform.check(app, "member", org)
    assert await platform.check(app, "thread_write", org)

    events = await read_events(
        nats.url,
        "agyn.events.organizations.grant.changed",
        lambda found: len([e for e in found if e["data"]["organization_id"] == org]) >= 3,
    )
    mine = [
        (e["data"]["relation"], e["data"]["change"]) for e in events if e["data"]["organization_id"] == org
    ]
    assert mine == [("member", "granted"), ("thread_write", "granted"), ("member", "revoked")]

    for request, code, fragment in [
        (
            access_pb2.WriteOrganizationGrantsRequest(writes=[grant(app, org, "owner")]),
            INVALID,
            "writes[0].relation",
        ),
        (
            access_pb2.WriteOrganizationGrantsRequest(deletes=[grant(app, "x", "member")]),
            INVALID,
            "deletes[0]",
        ),
        (
            access_pb2.WriteOrganizationGrantsRequest(writes=[grant(app, org, "member")] * 101),
            INVALID,
            "maximum of 100",
        ),
        (
            access_pb2.WriteOrganizationGrantsRequest(
                writes=[grant(app, org, "inbox_write"), grant(app, uuid.uuid4(), "member")]
            ),
            grpc.StatusCode.NOT_FOUND,
            "not found",
        ),
    ]:
        await expect_error(platform.access.WriteOrganizationGrants(request, metadata=as_apps), code, fragment)
    assert not await platform.check(app, "inbox_write", org)  # the failed request wrote nothing


async def test_only_declared_services_reach_the_access_api(platform):
    org, identity = str(uuid.uuid4()), str(uuid.uuid4())
    await expect_error(
        platform.access.CheckOrganizationRelation(
            check_request(identity, org, "member"), metadata=metadata(caller="billing")
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        platform.access.WriteOrganizationGrants(
            access_pb2.WriteOrganizationGrantsRequest(writes=[grant(identity, org, "member")]),
            metadata=metadata(caller="threads"),
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
