"""A user deleted in Users leaves every organization, even when Organizations was down then."""

from __future__ import annotations

import asyncio

import pytest
from agyn_inprocess.organizations import metadata, pb
from agyn_testkit.harness import read_events
from agynio.api.organizations.v1 import access_pb2
from agynio.api.users.v1 import users_pb2


async def member_ids(platform, owner, org) -> set[str]:
    reply = await platform.organizations.ListMembers(
        pb.ListMembersRequest(organization_id=org), metadata=metadata(owner)
    )
    return {membership.identity_id for membership in reply.memberships}


async def wait_until_gone(platform, owner, org, identity) -> None:
    async with asyncio.timeout(15):
        while True:
            if str(identity) not in await member_ids(platform, owner, org):
                return
            await asyncio.sleep(0.05)


async def delete_user(platform, identity) -> None:
    admin = await platform.admin()
    await platform.users.users.DeleteUser(
        users_pb2.DeleteUserRequest(identity_id=str(identity)), metadata=metadata(admin)
    )


async def test_a_deleted_user_leaves_memberships_invitations_and_grants(platform, nats):
    owner, leaver = await platform.user("olga"), await platform.user("lena")
    first, second = await platform.create_org(owner, "First"), await platform.create_org(owner, "Second")
    await platform.join(owner, first, leaver)
    await platform.invite(owner, second, leaver)
    await platform.access.WriteOrganizationGrants(
        access_pb2.WriteOrganizationGrantsRequest(
            writes=[
                access_pb2.OrganizationGrant(
                    identity_id=str(leaver), organization_id=second, relation="inbox_write"
                )
            ]
        ),
        metadata=metadata(caller="apps"),
    )

    await delete_user(platform, leaver)
    await wait_until_gone(platform, owner, first, leaver)
    await wait_until_gone(platform, owner, second, leaver)
    assert not await platform.check(leaver, "member", first)
    assert not await platform.check(leaver, "inbox_write", second)
    assert await member_ids(platform, owner, first) == {str(owner)}

    events = await read_events(
        nats.url,
        "agyn.events.organizations.>",
        lambda found: len([e for e in found if e["data"].get("identity_id") == str(leaver)]) >= 7,
    )
    changes = sorted(
        (e["type"], e["data"]["change"]) for e in events if e["data"].get("identity_id") == str(leaver)
    )
    assert changes == sorted(
        [
            ("organizations.membership.changed", "invited"),  # to the first, accepted
            ("organizations.membership.changed", "accepted"),
            ("organizations.membership.changed", "invited"),  # to the second, still pending
            ("organizations.grant.changed", "granted"),
            ("organizations.membership.changed", "identity_deleted"),
            ("organizations.membership.changed", "identity_deleted"),
            ("organizations.grant.changed", "revoked"),
        ]
    )


@pytest.mark.fresh_platform
async def test_a_user_deleted_while_organizations_is_down_is_removed_when_it_is_back(platform):
    owner, leaver = await platform.user("olga"), await platform.user("lena")
    org = await platform.create_org(owner)
    await platform.join(owner, org, leaver)

    await platform.stop_organizations()
    await delete_user(platform, leaver)
    await platform.start_organizations()

    await wait_until_gone(platform, owner, org, leaver)
    assert await member_ids(platform, owner, org) == {str(owner)}
