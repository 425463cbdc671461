"""OrganizationsService: memberships and org nicknames (organizations sheet §3.3, §3.4, §4.2, §8).

Everything runs against the real platform (Users and Organizations in-process, PostgreSQL, NATS).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from datetime import UTC, datetime

import grpc
from agyn_inprocess.organizations import ACTIVE, MEMBER, OWNER, PENDING, pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.identity.v1 import identity_pb2
from google.protobuf.timestamp_pb2 import Timestamp

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS
EVENTS = "agyn.events.organizations.>"


def when(stamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def in_seconds(seconds: float) -> Timestamp:
    moment = time.time() + seconds
    return Timestamp(seconds=int(moment), nanos=int((moment % 1) * 1e9))


def token_of(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


async def create_membership(platform, caller, org: str, identity, role: int = MEMBER, **fields):
    return await platform.organizations.CreateMembership(
        pb.CreateMembershipRequest(organization_id=org, identity_id=str(identity), role=role, **fields),
        metadata=metadata(caller),
    )


async def list_members(platform, caller, org: str, **fields) -> pb.ListMembersResponse:
    return await platform.organizations.ListMembers(
        pb.ListMembersRequest(organization_id=org, **fields), metadata=metadata(caller)
    )


async def list_mine(platform, caller, **fields) -> pb.ListMyMembershipsResponse:
    return await platform.organizations.ListMyMemberships(
        pb.ListMyMembershipsRequest(**fields), metadata=metadata(caller)
    )


async def nicknames(platform, reader, org: str, *identities) -> dict[str, str]:
    """Org handles as Identity serves them to a member reading through Threads."""
    reply = await platform.users.identity.BatchGetNicknames(
        identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[str(i) for i in identities]),
        metadata=metadata(reader, caller="threads"),
    )
    return {entry.identity_id: entry.nickname for entry in reply.entries}


async def set_nickname(platform, caller, org: str, nickname: str) -> None:
    await platform.organizations.SetMyOrgNickname(
        pb.SetMyOrgNicknameRequest(organization_id=org, nickname=nickname), metadata=metadata(caller)
    )


async def agent_identity(platform) -> uuid.UUID:
    """A registered identity that is not a user (as Agents registers one)."""
    identity = uuid.uuid4()
    await platform.users.identity.RegisterIdentity(
        identity_pb2.RegisterIdentityRequest(
            identity_id=str(identity), identity_type=identity_pb2.IDENTITY_TYPE_AGENT
        ),
        metadata=metadata(caller="agents"),
    )
    return identity


# --- CreateMembership ----------------------------------------------------------------------


async def test_owner_invites_and_the_invitee_accepts(platform):
    owner = await platform.user("olga")
    fred = await platform.user("fred")
    org = await platform.create_org(owner)
    expires = in_seconds(3600)

    invited = (await create_membership(platform, owner, org, fred, MEMBER, expires_at=expires)).membership
    assert str(uuid.UUID(invited.id)) == invited.id
    assert (invited.organization_id, invited.identity_id) == (org, str(fred))
    assert (invited.role, invited.status) == (MEMBER, PENDING)
    assert invited.HasField("expires_at") and invited.expires_at.seconds == expires.seconds
    assert invited.HasField("created_at") and invited.updated_at == invited.created_at
    # an invitation grants nothing yet
    assert not await platform.check(fred, "member", org)
    assert [m.id for m in (await list_mine(platform, fred)).memberships] == [invited.id]

    accepted = (
        await platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invited.id), metadata=metadata(fred)
        )
    ).membership
    assert accepted.id == invited.id
    assert (accepted.role, accepted.status) == (MEMBER, ACTIVE)
    assert accepted.created_at == invited.created_at
    assert when(accepted.updated_at) > when(invited.updated_at)
    assert accepted.expires_at == invited.expires_at
    assert await platform.check(fred, "member", org)
    assert not await platform.check(fred, "owner", org)
    assert [
        (m.id, m.status) for m in (await list_members(platform, owner, org)).memberships if m.id == invited.id
    ] == [(invited.id, ACTIVE)]

    # an active membership is no longer an invitation
    await expect_error(
        platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invited.id), metadata=metadata(fred)
        ),
        PRECONDITION,
        "membership is not pending",
    )
    await expect_error(
        platform.organizations.DeclineMembership(
            pb.DeclineMembershipRequest(membership_id=invited.id), metadata=metadata(fred)
        ),
        PRECONDITION,
        "membership is not pending",
    )
    assert await platform.check(fred, "member", org)

    # an owner may invite another owner; accepting makes them one
    gina = await platform.user("gina")
    owner_invite = (await create_membership(platform, owner, org, gina, OWNER)).membership
    assert (owner_invite.role, owner_invite.status) == (OWNER, PENDING)
    assert not owner_invite.HasField("expires_at")
    assert not await platform.check(gina, "owner", org)
    await platform.organizations.AcceptMembership(
        pb.AcceptMembershipRequest(membership_id=owner_invite.id), metadata=metadata(gina)
    )
    assert await platform.check(gina, "owner", org)
    assert await platform.check(gina, "can_manage_members", org)


async def test_cluster_admin_adds_members_directly_as_active(platform):
    owner = await platform.user("olga")
    admin = await platform.admin()
    mia = await platform.user("mia")
    oscar = await platform.user("oscar")
    agent = await agent_identity(platform)
    org = await platform.create_org(owner)

    added = (await create_membership(platform, admin, org, mia, MEMBER)).membership
    assert (added.identity_id, added.role, added.status) == (str(mia), MEMBER, ACTIVE)
    assert added.HasField("created_at") and added.HasField("updated_at")
    assert await platform.check(mia, "member", org)
    assert not await platform.check(admin, "member", org)  # adding does not make the admin a member
    # the new member's username is seeded as their handle
    assert await nicknames(platform, mia, org, mia) == {str(mia): "mia"}

    as_owner = (
        await create_membership(platform, admin, org, oscar, OWNER, expires_at=in_seconds(3600))
    ).membership
    assert (as_owner.role, as_owner.status) == (OWNER, ACTIVE) and as_owner.HasField("expires_at")
    assert await platform.check(oscar, "owner", org)

    # any identity type may be a member; only users get a seeded handle
    as_agent = (await create_membership(platform, admin, org, agent)).membership
    assert as_agent.status == ACTIVE
    assert await platform.check(agent, "member", org)
    assert await nicknames(platform, owner, org, agent) == {}

    # an admin may also add to an organization it created, and the duplicate rule still holds
    await expect_error(create_membership(platform, admin, org, mia, OWNER), ALREADY_EXISTS)


async def test_create_membership_validates_its_fields(platform):
    owner = await platform.user("olga")
    fred = await platform.user("fred")
    org = await platform.create_org(owner)

    async def refused(fragment: str, **fields) -> None:
        request = {"organization_id": org, "identity_id": str(fred), "role": MEMBER, **fields}
        await expect_error(
            platform.organizations.CreateMembership(
                pb.CreateMembershipRequest(**request), metadata=metadata(owner)
            ),
            INVALID,
            fragment,
        )

    for bad in ("", "org", org[:-1]):
        await refused("organization_id:", organization_id=bad)
        await refused("identity_id:", identity_id=bad)
    for role in (pb.MEMBERSHIP_ROLE_UNSPECIFIED, 7):
        await refused("role:", role=role)
    for expires in (
        in_seconds(-60),  # past
        in_seconds(-1e6),
        Timestamp(seconds=0),
        Timestamp(seconds=int(time.time()) + 3600, nanos=-1),  # not a valid Timestamp
        Timestamp(seconds=int(time.time()) + 3600, nanos=1_000_000_000),
        Timestamp(seconds=253402300800),  # after 9999-12-31
    ):
        await refused("expires_at:", expires_at=expires)
    assert not (await list_members(platform, owner, org, status=PENDING)).memberships

    # an unknown identity is found only once the caller may add members at all
    await expect_error(
        create_membership(platform, owner, org, uuid.uuid4()), PRECONDITION, "identity not found"
    )
    await expect_error(
        platform.organizations.CreateMembership(
            pb.CreateMembershipRequest(organization_id=org, identity_id=str(fred), role=MEMBER),
            metadata=metadata(),
        ),
        UNAUTHENTICATED,
    )


async def test_create_membership_permissions(platform):
    owner = await platform.user("olga")
    member = await platform.user("mia")
    invitee = await platform.user("ivan")
    stranger = await platform.user("sam")
    target = await platform.user("tom")
    admin = await platform.admin()
    org = await platform.create_org(owner)
    own_org_of_stranger = await platform.create_org(stranger, "Other")
    await platform.join(owner, org, member)
    await platform.invite(owner, org, invitee)

    for caller in (member, invitee, stranger):
        for role in (MEMBER, OWNER):
            await expect_error(create_membership(platform, caller, org, target, role), DENIED)
        # permission comes before the existence of the target
        await expect_error(create_membership(platform, caller, org, uuid.uuid4()), DENIED)
    # an owner elsewhere is nobody here
    assert await platform.check(stranger, "owner", own_org_of_stranger)
    # an unknown organization refuses everyone, cluster admins too
    for caller in (owner, admin):
        await expect_error(create_membership(platform, caller, str(uuid.uuid4()), target), DENIED)
        await expect_error(create_membership(platform, caller, str(uuid.uuid4()), uuid.uuid4()), DENIED)

    # one row per (organization, identity), whatever its status
    for existing in (member, invitee, owner):
        await expect_error(create_membership(platform, owner, org, existing), ALREADY_EXISTS)
        await expect_error(create_membership(platform, admin, org, existing, OWNER), ALREADY_EXISTS)
    assert not await platform.check(target, "member", org)
    members = await list_members(platform, owner, org)
    assert sorted(m.identity_id for m in members.memberships) == sorted(
        str(i) for i in (owner, member, invitee)
    )
    # two invitations of one identity at the same moment: one row
    outcomes = await asyncio.gather(
        create_membership(platform, owner, org, target),
        create_membership(platform, owner, org, target),
        return_exceptions=True,
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, grpc.aio.AioRpcError)]
    assert [failure.code() for failure in failures] == [ALREADY_EXISTS], outcomes
    assert len((await list_members(platform, owner, org, status=PENDING)).memberships) == 2


async def test_expires_at_is_enforced(platform):
    owner = await platform.user("olga")
    admin = await platform.admin()
    late = await platform.user("lars")  # invited, never accepts in time
    temp = await platform.user("tina")  # an active member for a short while
    brief_owner = await platform.user("bo")  # a second owner for a short while
    zoe = await platform.user("zoe")
    org = await platform.create_org(owner)
    expires = in_seconds(2)
    deadline = when(expires)

    invitation = (await create_membership(platform, owner, org, late, expires_at=expires)).membership
    temporary = (await create_membership(platform, admin, org, temp, expires_at=expires)).membership
    await create_membership(platform, admin, org, brief_owner, OWNER, expires_at=expires)
    assert temporary.status == ACTIVE
    assert await platform.check(temp, "member", org)
    assert await platform.check(brief_owner, "owner", org)
    await platform.organizations.GetOrganization(pb.GetOrganizationRequest(id=org), metadata=metadata(late))
    await set_nickname(platform, temp, org, "tina-temp")

    await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.2)

    await expect_error(
        platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(late)
        ),
        PRECONDITION,
        "the invitation has expired",
    )
    assert not await platform.check(late, "member", org)
    # an expired membership grants nothing
    for relation in ("member", "can_create_thread"):
        assert not await platform.check(temp, relation, org)
    assert not await platform.check(brief_owner, "owner", org)
    assert not await platform.check(brief_owner, "can_manage_members", org)
    for reader in (late, temp):
        await expect_error(
            platform.organizations.GetOrganization(
                pb.GetOrganizationRequest(id=org), metadata=metadata(reader)
            ),
            DENIED,
        )
    assert not (
        await platform.organizations.ListOrganizations(pb.ListOrganizationsRequest(), metadata=metadata(temp))
    ).organizations
    await expect_error(
        platform.organizations.SetMyOrgNickname(
            pb.SetMyOrgNicknameRequest(organization_id=org, nickname="tina-again"), metadata=metadata(temp)
        ),
        DENIED,
        "active membership required",
    )
    await expect_error(create_membership(platform, brief_owner, org, zoe), DENIED)
    # an expired owner is no owner: the original owner is still the last one
    owner_row = next(m for m in (await list_mine(platform, owner)).memberships if m.organization_id == org)
    await expect_error(
        platform.organizations.RemoveMembership(
            pb.RemoveMembershipRequest(membership_id=owner_row.id), metadata=metadata(owner)
        ),
        PRECONDITION,
        "the last owner of an organization cannot be removed",
    )
    # the expired invitation can still be declined
    await platform.organizations.DeclineMembership(
        pb.DeclineMembershipRequest(membership_id=invitation.id), metadata=metadata(late)
    )


# --- AcceptMembership / DeclineMembership --------------------------------------------------


async def test_only_the_invitee_answers_an_invitation(platform):
    owner = await platform.user("olga")
    ivan = await platform.user("ivan")
    other_invitee = await platform.user("otto")
    admin = await platform.admin()
    org = await platform.create_org(owner)
    invitation = await platform.invite(owner, org, ivan)
    await platform.invite(owner, org, other_invitee)

    for caller in (owner, other_invitee, admin):
        await expect_error(
            platform.organizations.AcceptMembership(
                pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(caller)
            ),
            DENIED,
        )
        await expect_error(
            platform.organizations.DeclineMembership(
                pb.DeclineMembershipRequest(membership_id=invitation.id), metadata=metadata(caller)
            ),
            DENIED,
        )
    for bad in ("", "invite"):
        await expect_error(
            platform.organizations.AcceptMembership(
                pb.AcceptMembershipRequest(membership_id=bad), metadata=metadata(ivan)
            ),
            INVALID,
            "membership_id:",
        )
        await expect_error(
            platform.organizations.DeclineMembership(
                pb.DeclineMembershipRequest(membership_id=bad), metadata=metadata(ivan)
            ),
            INVALID,
            "membership_id:",
        )
    unknown = str(uuid.uuid4())
    await expect_error(
        platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=unknown), metadata=metadata(ivan)
        ),
        NOT_FOUND,
    )
    await expect_error(
        platform.organizations.DeclineMembership(
            pb.DeclineMembershipRequest(membership_id=unknown), metadata=metadata(ivan)
        ),
        NOT_FOUND,
    )
    for call in (
        platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata()
        ),
        platform.organizations.DeclineMembership(
            pb.DeclineMembershipRequest(membership_id=invitation.id), metadata=metadata()
        ),
    ):
        await expect_error(call, UNAUTHENTICATED)
    # nothing above changed the invitation
    assert [(m.id, m.status) for m in (await list_mine(platform, ivan)).memberships] == [
        (invitation.id, PENDING)
    ]


async def test_decline_deletes_the_invitation(platform):
    owner = await platform.user("olga")
    ivan = await platform.user("ivan")
    org = await platform.create_org(owner)
    invitation = await platform.invite(owner, org, ivan, OWNER)

    reply = await platform.organizations.DeclineMembership(
        pb.DeclineMembershipRequest(membership_id=invitation.id), metadata=metadata(ivan)
    )
    assert reply == pb.DeclineMembershipResponse()
    assert not (await list_mine(platform, ivan)).memberships
    assert [m.identity_id for m in (await list_members(platform, owner, org)).memberships] == [str(owner)]
    assert not await platform.check(ivan, "member", org)
    await expect_error(
        platform.organizations.DeclineMembership(
            pb.DeclineMembershipRequest(membership_id=invitation.id), metadata=metadata(ivan)
        ),
        NOT_FOUND,
    )
    await expect_error(
        platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(ivan)
        ),
        NOT_FOUND,
    )
    # the row is gone, so a new invitation may be sent
    again = await platform.invite(owner, org, ivan)
    assert again.id != invitation.id and again.status == PENDING


# --- RemoveMembership ----------------------------------------------------------------------


async def test_remove_membership(platform):
    owner = await platform.user("olga")
    mia = await platform.user("mia")
    max_ = await platform.user("max")
    ivan = await platform.user("ivan")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    org = await platform.create_org(owner)
    mia_row = await platform.join(owner, org, mia)
    max_row = await platform.join(owner, org, max_)
    invitation = await platform.invite(owner, org, ivan)

    # members cannot remove others; strangers and invitees neither
    for caller in (mia, stranger, ivan):
        await expect_error(
            platform.organizations.RemoveMembership(
                pb.RemoveMembershipRequest(membership_id=max_row.id), metadata=metadata(caller)
            ),
            DENIED,
        )
    assert await platform.check(max_, "member", org)

    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=max_row.id), metadata=metadata(owner)
    )
    assert not await platform.check(max_, "member", org)
    assert not (await list_mine(platform, max_)).memberships
    await expect_error(
        platform.organizations.RemoveMembership(
            pb.RemoveMembershipRequest(membership_id=max_row.id), metadata=metadata(owner)
        ),
        NOT_FOUND,
    )
    # removing a pending row revokes the invitation
    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=invitation.id), metadata=metadata(owner)
    )
    assert not (await list_mine(platform, ivan)).memberships
    await expect_error(
        platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(ivan)
        ),
        NOT_FOUND,
    )
    # a member may leave
    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=mia_row.id), metadata=metadata(mia)
    )
    assert not await platform.check(mia, "member", org)
    await expect_error(
        platform.organizations.GetOrganization(pb.GetOrganizationRequest(id=org), metadata=metadata(mia)),
        DENIED,
    )
    # a cluster admin removes anyone
    back = await create_membership(platform, admin, org, mia)
    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=back.membership.id), metadata=metadata(admin)
    )
    assert [m.identity_id for m in (await list_members(platform, owner, org)).memberships] == [str(owner)]

    for bad in ("", "row"):
        await expect_error(
            platform.organizations.RemoveMembership(
                pb.RemoveMembershipRequest(membership_id=bad), metadata=metadata(owner)
            ),
            INVALID,
            "membership_id:",
        )
    await expect_error(
        platform.organizations.RemoveMembership(
            pb.RemoveMembershipRequest(membership_id=str(uuid.uuid4())), metadata=metadata(owner)
        ),
        NOT_FOUND,
    )
    await expect_error(
        platform.organizations.RemoveMembership(
            pb.RemoveMembershipRequest(membership_id=mia_row.id), metadata=metadata()
        ),
        UNAUTHENTICATED,
    )


async def test_the_last_owner_stays(platform):
    olga = await platform.user("olga")
    peter = await platform.user("peter")
    org = await platform.create_org(olga)
    olga_row = (await list_mine(platform, olga)).memberships[0]

    async def remove(caller, row_id):
        return await platform.organizations.RemoveMembership(
            pb.RemoveMembershipRequest(membership_id=row_id), metadata=metadata(caller)
        )

    async def set_role(caller, row_id, role):
        reply = await platform.organizations.UpdateMembershipRole(
            pb.UpdateMembershipRoleRequest(membership_id=row_id, role=role), metadata=metadata(caller)
        )
        return reply.membership

    last_removed = "the last owner of an organization cannot be removed"
    last_demoted = "the last owner of an organization cannot be demoted"
    await expect_error(remove(olga, olga_row.id), PRECONDITION, last_removed)
    await expect_error(set_role(olga, olga_row.id, MEMBER), PRECONDITION, last_demoted)
    # a pending owner invitation is not an owner yet
    peter_row = await platform.invite(olga, org, peter, OWNER)
    await expect_error(remove(olga, olga_row.id), PRECONDITION, last_removed)
    await expect_error(set_role(olga, olga_row.id, MEMBER), PRECONDITION, last_demoted)
    assert await platform.check(olga, "owner", org)

    await platform.organizations.AcceptMembership(
        pb.AcceptMembershipRequest(membership_id=peter_row.id), metadata=metadata(peter)
    )
    # with a second owner, one may step down and then leave
    demoted = await set_role(olga, olga_row.id, MEMBER)
    assert (demoted.role, demoted.status) == (MEMBER, ACTIVE)
    assert not await platform.check(olga, "owner", org)
    assert await platform.check(olga, "member", org)
    await expect_error(set_role(peter, peter_row.id, MEMBER), PRECONDITION, last_demoted)
    await expect_error(remove(peter, peter_row.id), PRECONDITION, last_removed)
    await remove(olga, olga_row.id)
    assert not await platform.check(olga, "member", org)
    assert await platform.check(peter, "owner", org)

    # two owners leaving at the same moment: one of them has to stay
    gina = await platform.user("gina")
    gina_row = await platform.join(peter, org, gina, OWNER)
    outcomes = await asyncio.gather(
        remove(peter, peter_row.id), remove(gina, gina_row.id), return_exceptions=True
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, grpc.aio.AioRpcError)]
    assert len(failures) == 1, outcomes
    assert failures[0].code() == PRECONDITION and last_removed in (failures[0].details() or "")
    stayed = gina if outcomes[1] is failures[0] else peter
    owners = await list_members(platform, stayed, org)
    assert [(m.identity_id, m.role, m.status) for m in owners.memberships] == [(str(stayed), OWNER, ACTIVE)]


async def test_a_cluster_admin_may_take_away_the_last_owner(platform):
    admin = await platform.admin()
    olga = await platform.user("olga")
    nora = await platform.user("nora")
    removed_from = await platform.create_org(olga, "Removed")
    demoted_in = await platform.create_org(nora, "Demoted")
    olga_row = (await list_mine(platform, olga)).memberships[0]
    nora_row = (await list_mine(platform, nora)).memberships[0]

    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=olga_row.id), metadata=metadata(admin)
    )
    assert not await platform.check(olga, "member", removed_from)
    assert not (await list_members(platform, admin, removed_from)).memberships

    demoted = await platform.organizations.UpdateMembershipRole(
        pb.UpdateMembershipRoleRequest(membership_id=nora_row.id, role=MEMBER), metadata=metadata(admin)
    )
    assert (demoted.membership.role, demoted.membership.status) == (MEMBER, ACTIVE)
    assert not await platform.check(nora, "owner", demoted_in)
    assert await platform.check(nora, "member", demoted_in)


# --- UpdateMembershipRole ------------------------------------------------------------------


async def test_update_membership_role(platform):
    owner = await platform.user("olga")
    mia = await platform.user("mia")
    ivan = await platform.user("ivan")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    org = await platform.create_org(owner)
    mia_row = await platform.join(owner, org, mia)
    invitation = await platform.invite(owner, org, ivan)

    async def set_role(caller, row_id, role):
        reply = await platform.organizations.UpdateMembershipRole(
            pb.UpdateMembershipRoleRequest(membership_id=row_id, role=role), metadata=metadata(caller)
        )
        return reply.membership

    promoted = await set_role(owner, mia_row.id, OWNER)
    assert (promoted.id, promoted.identity_id, promoted.role, promoted.status) == (
        mia_row.id,
        str(mia),
        OWNER,
        ACTIVE,
    )
    assert promoted.created_at == mia_row.created_at
    assert when(promoted.updated_at) > when(mia_row.updated_at)
    assert await platform.check(mia, "owner", org)

    # the same role again changes nothing and returns the row as it is
    same = await set_role(owner, mia_row.id, OWNER)
    assert same == promoted

    demoted = await set_role(admin, mia_row.id, MEMBER)
    assert demoted.role == MEMBER and when(demoted.updated_at) > when(promoted.updated_at)
    assert not await platform.check(mia, "owner", org)
    assert await platform.check(mia, "member", org)

    # a pending row changes the role its acceptance will grant
    pending = await set_role(owner, invitation.id, OWNER)
    assert (pending.role, pending.status) == (OWNER, PENDING)
    assert not await platform.check(ivan, "member", org)
    await platform.organizations.AcceptMembership(
        pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(ivan)
    )
    assert await platform.check(ivan, "owner", org)

    # members, strangers and the row's own holder (when not an owner) may not change roles
    for caller in (mia, stranger):
        await expect_error(set_role(caller, mia_row.id, OWNER), DENIED)
        await expect_error(set_role(caller, invitation.id, MEMBER), DENIED)
    assert not await platform.check(mia, "owner", org)

    for role in (pb.MEMBERSHIP_ROLE_UNSPECIFIED, 9):
        await expect_error(set_role(owner, mia_row.id, role), INVALID, "role:")
    for bad in ("", "row"):
        await expect_error(set_role(owner, bad, OWNER), INVALID, "membership_id:")
    await expect_error(set_role(owner, str(uuid.uuid4()), OWNER), NOT_FOUND)
    await expect_error(
        platform.organizations.UpdateMembershipRole(
            pb.UpdateMembershipRoleRequest(membership_id=mia_row.id, role=OWNER), metadata=metadata()
        ),
        UNAUTHENTICATED,
    )


# --- ListMembers ---------------------------------------------------------------------------


async def test_list_members(platform):
    owner = await platform.user("olga")
    mia = await platform.user("mia")
    ivan = await platform.user("ivan")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    org = await platform.create_org(owner)
    other = await platform.create_org(stranger, "Other")
    mia_row = await platform.join(owner, org, mia)
    invitation = await platform.invite(owner, org, ivan)
    owner_row = (await list_mine(platform, owner)).memberships[0]

    everyone = await list_members(platform, owner, org)
    assert [m.id for m in everyone.memberships] == sorted([owner_row.id, mia_row.id, invitation.id])
    assert everyone.next_page_token == ""
    by_id = {m.id: m for m in everyone.memberships}
    assert by_id[owner_row.id] == owner_row
    assert by_id[mia_row.id] == mia_row
    assert (by_id[invitation.id].identity_id, by_id[invitation.id].status) == (str(ivan), PENDING)
    assert all(m.organization_id == org for m in everyone.memberships)

    assert [m.id for m in (await list_members(platform, owner, org, status=PENDING)).memberships] == [
        invitation.id
    ]
    active = await list_members(platform, owner, org, status=ACTIVE)
    assert [m.id for m in active.memberships] == sorted([owner_row.id, mia_row.id])
    unknown_status = await list_members(platform, owner, org, status=pb.MEMBERSHIP_STATUS_UNSPECIFIED)
    assert unknown_status.memberships == everyone.memberships
    assert (await list_members(platform, owner, org, status=7)).memberships == everyone.memberships
    assert (await list_members(platform, admin, org)).memberships == everyone.memberships

    for caller in (mia, ivan, stranger):
        await expect_error(list_members(platform, caller, org), DENIED)
    await expect_error(list_members(platform, owner, other), DENIED)
    for caller in (owner, admin):
        await expect_error(list_members(platform, caller, str(uuid.uuid4())), DENIED)
    for bad in ("", "acme"):
        await expect_error(list_members(platform, owner, bad), INVALID, "organization_id:")
    await expect_error(
        platform.organizations.ListMembers(pb.ListMembersRequest(organization_id=org), metadata=metadata()),
        UNAUTHENTICATED,
    )


async def test_list_members_pages(platform):
    """102 rows: the admin who created the organization and 101 identities it added directly."""
    admin = await platform.admin()
    org = await platform.create_org(admin)
    identities = await asyncio.gather(*(agent_identity(platform) for _ in range(101)))
    added = await asyncio.gather(
        *(create_membership(platform, admin, org, identity) for identity in identities)
    )
    assert {reply.membership.status for reply in added} == {ACTIVE}
    expected = sorted(
        [reply.membership.id for reply in added] + [(await list_mine(platform, admin)).memberships[0].id]
    )
    assert len(expected) == 102

    default = await list_members(platform, admin, org)
    assert [m.id for m in default.memberships] == expected[:50]
    assert default.next_page_token == token_of(expected[49])
    clamped = await list_members(platform, admin, org, page_size=101)
    assert [m.id for m in clamped.memberships] == expected[:100]
    assert clamped.next_page_token == token_of(expected[99])
    rest = await list_members(platform, admin, org, page_size=101, page_token=clamped.next_page_token)
    assert [m.id for m in rest.memberships] == expected[100:]
    assert rest.next_page_token == ""
    # tokens can be used again, and are not tied to the filter
    again = await list_members(platform, admin, org, page_size=101, page_token=clamped.next_page_token)
    assert again.memberships == rest.memberships
    filtered = await list_members(
        platform, admin, org, status=ACTIVE, page_size=1, page_token=default.next_page_token
    )
    assert [m.id for m in filtered.memberships] == [expected[50]]
    assert filtered.next_page_token == token_of(expected[50])
    assert not (
        await list_members(platform, admin, org, status=PENDING, page_token=default.next_page_token)
    ).memberships

    walked, token = [], ""
    while True:
        page = await list_members(platform, admin, org, page_size=40, page_token=token)
        walked.extend(m.id for m in page.memberships)
        token = page.next_page_token
        if not token:
            break
    assert walked == expected

    for bad in ("###", token_of("not-a-uuid"), expected[0]):
        await expect_error(list_members(platform, admin, org, page_token=bad), INVALID, "invalid page_token")


# --- ListMyMemberships ---------------------------------------------------------------------


async def test_list_my_memberships(platform):
    alice = await platform.user("alice")
    bob = await platform.user("bob")
    a = await platform.create_org(alice, "A")
    b = await platform.create_org(bob, "B")
    c = await platform.create_org(bob, "C")
    d = await platform.create_org(bob, "D")
    await platform.join(bob, b, alice)
    invited = await platform.invite(bob, c, alice, OWNER)
    await platform.create_org(bob, "E")

    mine = await list_mine(platform, alice)
    assert mine.next_page_token == ""
    assert [m.id for m in mine.memberships] == sorted(m.id for m in mine.memberships)
    assert sorted((m.organization_id, m.role, m.status) for m in mine.memberships) == sorted(
        [(a, OWNER, ACTIVE), (b, MEMBER, ACTIVE), (c, OWNER, PENDING)]
    )
    assert {m.identity_id for m in mine.memberships} == {str(alice)}
    assert [m.id for m in (await list_mine(platform, alice, status=PENDING)).memberships] == [invited.id]
    assert {m.organization_id for m in (await list_mine(platform, alice, status=ACTIVE)).memberships} == {
        a,
        b,
    }
    assert (await list_mine(platform, alice, status=5)).memberships == mine.memberships
    assert d not in {m.organization_id for m in mine.memberships}
    assert len((await list_mine(platform, bob)).memberships) == 4

    first = await list_mine(platform, alice, page_size=2)
    assert first.memberships == mine.memberships[:2]
    assert first.next_page_token == token_of(mine.memberships[1].id)
    last = await list_mine(platform, alice, page_size=2, page_token=first.next_page_token)
    assert last.memberships == mine.memberships[2:]
    assert last.next_page_token == ""
    assert (await list_mine(platform, alice, page_size=2, page_token=first.next_page_token)) == last
    assert (await list_mine(platform, alice, page_size=500)).memberships == mine.memberships

    nobody = await platform.user("nobody")
    assert not (await list_mine(platform, nobody)).memberships
    await expect_error(list_mine(platform, alice, page_token="%%%"), INVALID, "invalid page_token")
    await expect_error(
        platform.organizations.ListMyMemberships(pb.ListMyMembershipsRequest(), metadata=metadata()),
        UNAUTHENTICATED,
    )


# --- nicknames -----------------------------------------------------------------------------


async def test_a_username_becomes_the_org_nickname_on_activation(platform):
    olga = await platform.user("olga")
    fred = await platform.user("fred")
    gwen = await platform.user("gwen")
    admin = await platform.admin()
    org = await platform.create_org(olga)

    invitation = await platform.invite(olga, org, fred)
    assert await nicknames(platform, olga, org, fred) == {}  # not while pending
    await platform.organizations.AcceptMembership(
        pb.AcceptMembershipRequest(membership_id=invitation.id), metadata=metadata(fred)
    )
    await create_membership(platform, admin, org, gwen)
    assert await nicknames(platform, fred, org, olga, fred, gwen) == {
        str(who): await platform.username(who) for who in (olga, fred, gwen)
    }

    # a handle already taken in the organization is not seeded; the membership stands
    fredrik = await platform.user("fredrik")
    taken = await platform.username(fredrik)
    await set_nickname(platform, olga, org, taken)
    joined = await platform.join(olga, org, fredrik)
    assert joined.status == ACTIVE
    assert await platform.check(fredrik, "member", org)
    assert await nicknames(platform, olga, org, olga, fredrik) == {str(olga): taken}


async def test_a_chosen_handle_is_kept_when_rejoining(platform):
    olga = await platform.user("olga")
    fred = await platform.user("fred")
    org = await platform.create_org(olga)
    row = await platform.join(olga, org, fred)
    await set_nickname(platform, fred, org, "freddie")
    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=row.id), metadata=metadata(fred)
    )
    assert await nicknames(platform, olga, org, fred) == {str(fred): "freddie"}  # kept after leaving

    await platform.join(olga, org, fred)
    assert await nicknames(platform, olga, org, fred) == {str(fred): "freddie"}


async def test_set_my_org_nickname(platform):
    olga = await platform.user("olga")
    fred = await platform.user("fred")
    ivan = await platform.user("ivan")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    org = await platform.create_org(olga)
    await platform.join(olga, org, fred)
    await platform.invite(olga, org, ivan)

    await set_nickname(platform, fred, org, "fred_the-2nd")
    assert await nicknames(platform, olga, org, fred) == {str(fred): "fred_the-2nd"}
    await set_nickname(platform, fred, org, "fred_the-2nd")  # the same again is fine
    longest = "f" * 32
    await set_nickname(platform, fred, org, longest)
    assert await nicknames(platform, olga, org, fred) == {str(fred): longest}
    # the old handle is free again once replaced
    await set_nickname(platform, olga, org, "fred_the-2nd")
    # another member's handle is refused as Identity refuses it
    await expect_error(set_nickname(platform, fred, org, "fred_the-2nd"), ALREADY_EXISTS)
    assert await nicknames(platform, olga, org, olga, fred) == {str(olga): "fred_the-2nd", str(fred): longest}

    for bad in ("", "   ", "Fred", "fred smith", "fred.smith", "@fred", "é", "f" * 33):
        await expect_error(set_nickname(platform, fred, org, bad), INVALID, "nickname:")
    for caller in (ivan, stranger, admin):  # an active membership row is needed
        await expect_error(
            set_nickname(platform, caller, org, "someone"), DENIED, "active membership required"
        )
    await expect_error(set_nickname(platform, olga, str(uuid.uuid4()), "olga"), DENIED)
    for bad in ("", "acme"):
        await expect_error(set_nickname(platform, fred, bad, "fred"), INVALID, "organization_id:")
    await expect_error(
        platform.organizations.SetMyOrgNickname(
            pb.SetMyOrgNicknameRequest(organization_id=org, nickname="fred"), metadata=metadata()
        ),
        UNAUTHENTICATED,
    )
    assert await nicknames(platform, olga, org, fred, ivan) == {str(fred): longest}


# --- events --------------------------------------------------------------------------------


async def test_membership_events(platform, nats):
    owner = await platform.user("olga")
    fred = await platform.user("fred")
    ivan = await platform.user("ivan")
    admin = await platform.admin()
    mia = await platform.user("mia")
    org = await platform.create_org(owner)
    fred_invite = await platform.invite(owner, org, fred)
    fred_row = (
        await platform.organizations.AcceptMembership(
            pb.AcceptMembershipRequest(membership_id=fred_invite.id), metadata=metadata(fred)
        )
    ).membership
    ivan_invite = await platform.invite(owner, org, ivan, OWNER)
    await platform.organizations.DeclineMembership(
        pb.DeclineMembershipRequest(membership_id=ivan_invite.id), metadata=metadata(ivan)
    )
    mia_row = (await create_membership(platform, admin, org, mia)).membership
    await platform.organizations.UpdateMembershipRole(
        pb.UpdateMembershipRoleRequest(membership_id=fred_row.id, role=OWNER), metadata=metadata(owner)
    )
    # the same role again is no change and publishes nothing
    await platform.organizations.UpdateMembershipRole(
        pb.UpdateMembershipRoleRequest(membership_id=fred_row.id, role=OWNER), metadata=metadata(owner)
    )
    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=mia_row.id), metadata=metadata(owner)
    )
    await platform.organizations.RemoveMembership(
        pb.RemoveMembershipRequest(membership_id=fred_row.id), metadata=metadata(fred)
    )

    def event(identity, membership_id, change, role, status):
        return {
            "organization_id": org,
            "identity_id": str(identity),
            "membership_id": membership_id,
            "change": change,
            "role": role,
            "status": status,
        }

    expected = [
        event(fred, fred_invite.id, "invited", "member", "pending"),
        event(fred, fred_invite.id, "accepted", "member", "active"),
        event(ivan, ivan_invite.id, "invited", "owner", "pending"),
        event(ivan, ivan_invite.id, "declined", "owner", "pending"),
        event(mia, mia_row.id, "added", "member", "active"),
        event(fred, fred_row.id, "role_changed", "owner", "active"),
        event(mia, mia_row.id, "removed", "member", "active"),
        event(fred, fred_row.id, "removed", "owner", "active"),
    ]

    def about(events):
        return [
            e
            for e in events
            if e["type"] == "organizations.membership.changed"
            and e["data"]["organization_id"] == org
            and e["data"]["identity_id"] != str(owner)
        ]

    events = about(await read_events(nats.url, EVENTS, lambda got: len(about(got)) >= len(expected)))
    assert [e["data"] for e in events] == expected
    assert len({e["id"] for e in events}) == len(events)
