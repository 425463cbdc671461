"""OrganizationsService: the organization RPCs, and who may call the service (sheet §3.2, §4.2, §8).

Everything runs against the real platform (Users and Organizations in-process, PostgreSQL, NATS).
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from agyn_inprocess.organizations import ACTIVE, MEMBER, OWNER, pb
from agyn_organizations.models import memberships, organization_grants, organizations
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.identity.v1 import identity_pb2
from agynio.api.organizations.v1 import access_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
EVENTS = "agyn.events.organizations.>"


def when(stamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def token_of(last_id: str) -> str:
    """The documented page token: base64url without padding of the last id."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


async def nicknames(platform, reader: uuid.UUID, org: str, *identities: uuid.UUID) -> dict[str, str]:
    """Org handles as Identity serves them to a member reading through Threads."""
    reply = await platform.users.identity.BatchGetNicknames(
        identity_pb2.BatchGetNicknamesRequest(organization_id=org, identity_ids=[str(i) for i in identities]),
        metadata=metadata(reader, caller="threads"),
    )
    return {entry.identity_id: entry.nickname for entry in reply.entries}


async def grant_member(platform, identity: uuid.UUID, org: str) -> None:
    """A direct `member` grant, as Apps writes for an installation."""
    await platform.access.WriteOrganizationGrants(
        access_pb2.WriteOrganizationGrantsRequest(
            writes=[
                access_pb2.OrganizationGrant(
                    identity_id=str(identity), organization_id=org, relation="member"
                )
            ]
        ),
        metadata=metadata(caller="apps"),
    )


async def list_organizations(platform, caller: uuid.UUID, **fields) -> pb.ListOrganizationsResponse:
    return await platform.organizations.ListOrganizations(
        pb.ListOrganizationsRequest(**fields), metadata=metadata(caller)
    )


async def list_all_organizations(platform, caller: uuid.UUID, page_size: int) -> list[str]:
    ids: list[str] = []
    token = ""
    while True:
        page = await list_organizations(platform, caller, page_size=page_size, page_token=token)
        ids.extend(org.id for org in page.organizations)
        token = page.next_page_token
        if not token:
            return ids


# --- CreateOrganization --------------------------------------------------------------------


async def test_create_organization_returns_the_record_and_makes_the_caller_its_owner(platform):
    owner = await platform.user("olga")
    before = datetime.now(UTC) - timedelta(seconds=5)
    reply = await platform.organizations.CreateOrganization(
        pb.CreateOrganizationRequest(name="  Acme Corp  "), metadata=metadata(owner)
    )
    org = reply.organization
    assert str(uuid.UUID(org.id)) == org.id
    assert org.name == "Acme Corp"  # trimmed
    assert org.HasField("created_at") and org.HasField("updated_at")
    assert before < when(org.created_at) < datetime.now(UTC) + timedelta(seconds=5)
    assert org.updated_at == org.created_at

    for relation in ("owner", "member", "can_manage_organization", "can_manage_members", "can_invite"):
        assert await platform.check(owner, relation, org.id), relation
    assert not await platform.check(owner, "can_add_member", org.id)  # that is the cluster admins'

    mine = await platform.organizations.ListMyMemberships(
        pb.ListMyMembershipsRequest(), metadata=metadata(owner)
    )
    assert len(mine.memberships) == 1
    membership = mine.memberships[0]
    assert (membership.organization_id, membership.identity_id) == (org.id, str(owner))
    assert (membership.role, membership.status) == (OWNER, ACTIVE)
    assert not membership.HasField("expires_at")
    assert membership.HasField("created_at") and membership.HasField("updated_at")

    got = await platform.organizations.GetOrganization(
        pb.GetOrganizationRequest(id=org.id), metadata=metadata(owner)
    )
    assert got.organization == org
    # the creator's username is seeded as their handle in the new organization
    assert await nicknames(platform, owner, org.id, owner) == {str(owner): "olga"}

    # names are not unique: the same name makes a second organization
    again = await platform.create_org(owner, "Acme Corp")
    assert again != org.id


async def test_create_organization_validates_the_name(platform):
    owner = await platform.user("olga")
    for name in ("", "   ", "\t\n", "x" * 257, "  " + "y" * 257 + "  "):
        await expect_error(
            platform.organizations.CreateOrganization(
                pb.CreateOrganizationRequest(name=name), metadata=metadata(owner)
            ),
            INVALID,
            "name:",
        )
    assert not (await list_organizations(platform, owner)).organizations  # nothing was created

    longest = await platform.organizations.CreateOrganization(
        pb.CreateOrganizationRequest(name="  " + "z" * 256 + "  "), metadata=metadata(owner)
    )
    assert longest.organization.name == "z" * 256
    short = await platform.organizations.CreateOrganization(
        pb.CreateOrganizationRequest(name="Q"), metadata=metadata(owner)
    )
    assert short.organization.name == "Q"


async def test_create_organization_honours_the_idempotency_key(platform):
    owner = await platform.user("olga")
    other = await platform.user("otto")
    request = pb.CreateOrganizationRequest(name="Acme")
    keyed = metadata(owner, idempotency_key="create-acme-1")

    first = await platform.organizations.CreateOrganization(request, metadata=keyed)
    second = await platform.organizations.CreateOrganization(request, metadata=keyed)
    assert second.organization == first.organization
    listed = await list_organizations(platform, owner)
    assert [org.id for org in listed.organizations] == [first.organization.id]
    members = await platform.organizations.ListMembers(
        pb.ListMembersRequest(organization_id=first.organization.id), metadata=metadata(owner)
    )
    assert [(m.identity_id, m.role) for m in members.memberships] == [(str(owner), OWNER)]

    # the same key with another request is refused, and creates nothing
    await expect_error(
        platform.organizations.CreateOrganization(pb.CreateOrganizationRequest(name="Other"), metadata=keyed),
        grpc.StatusCode.FAILED_PRECONDITION,
        "idempotency-key",
    )
    # keys belong to their caller; another key, or no key, is a new organization
    theirs = await platform.organizations.CreateOrganization(
        request, metadata=metadata(other, idempotency_key="create-acme-1")
    )
    fresh = await platform.organizations.CreateOrganization(
        request, metadata=metadata(owner, idempotency_key="create-acme-2")
    )
    unkeyed = await platform.organizations.CreateOrganization(request, metadata=metadata(owner))
    ids = {first.organization.id, theirs.organization.id, fresh.organization.id, unkeyed.organization.id}
    assert len(ids) == 4
    assert len((await list_organizations(platform, owner)).organizations) == 3
    assert [org.id for org in (await list_organizations(platform, other)).organizations] == [
        theirs.organization.id
    ]


# --- GetOrganization -----------------------------------------------------------------------


async def test_get_organization_is_for_members_owners_admins_invitees_and_platform_services(platform):
    owner = await platform.user("olga")
    member = await platform.user("mia")
    invitee = await platform.user("ivan")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    org = await platform.create_org(owner, "Acme")
    elsewhere = await platform.create_org(stranger, "Elsewhere")
    await platform.join(owner, org, member)
    invitation = await platform.invite(owner, org, invitee)

    expected = (
        await platform.organizations.GetOrganization(
            pb.GetOrganizationRequest(id=org), metadata=metadata(owner)
        )
    ).organization
    assert expected.id == org and expected.name == "Acme"
    for reader in (member, invitee, admin):
        got = await platform.organizations.GetOrganization(
            pb.GetOrganizationRequest(id=org), metadata=metadata(reader)
        )
        assert got.organization == expected
    # a platform service's own call carries no end user and is trusted
    internal = await platform.organizations.GetOrganization(
        pb.GetOrganizationRequest(id=org), metadata=metadata(caller="agents")
    )
    assert internal.organization == expected

    await expect_error(
        platform.organizations.GetOrganization(
            pb.GetOrganizationRequest(id=org), metadata=metadata(stranger)
        ),
        DENIED,
    )
    # a platform service acting for an end user is held to that user's rights
    await expect_error(
        platform.organizations.GetOrganization(
            pb.GetOrganizationRequest(id=org), metadata=metadata(stranger, caller="agents")
        ),
        DENIED,
    )
    await expect_error(
        platform.organizations.GetOrganization(
            pb.GetOrganizationRequest(id=elsewhere), metadata=metadata(member)
        ),
        DENIED,
    )
    # a declined invitation no longer shows the organization
    await platform.organizations.DeclineMembership(
        pb.DeclineMembershipRequest(membership_id=invitation.id), metadata=metadata(invitee)
    )
    await expect_error(
        platform.organizations.GetOrganization(pb.GetOrganizationRequest(id=org), metadata=metadata(invitee)),
        DENIED,
    )

    await expect_error(
        platform.organizations.GetOrganization(pb.GetOrganizationRequest(id=org), metadata=metadata()),
        UNAUTHENTICATED,
    )
    for bad in ("", "not-a-uuid", org + "0"):
        await expect_error(
            platform.organizations.GetOrganization(
                pb.GetOrganizationRequest(id=bad), metadata=metadata(owner)
            ),
            INVALID,
            "id:",
        )
    for reader in (owner, admin):
        await expect_error(
            platform.organizations.GetOrganization(
                pb.GetOrganizationRequest(id=str(uuid.uuid4())), metadata=metadata(reader)
            ),
            NOT_FOUND,
        )


# --- UpdateOrganization --------------------------------------------------------------------


async def test_update_organization_renames_for_owners_and_cluster_admins(platform):
    owner = await platform.user("olga")
    member = await platform.user("mia")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    created = (
        await platform.organizations.CreateOrganization(
            pb.CreateOrganizationRequest(name="Acme"), metadata=metadata(owner)
        )
    ).organization
    org = created.id
    await platform.join(owner, org, member)

    renamed = (
        await platform.organizations.UpdateOrganization(
            pb.UpdateOrganizationRequest(id=org, name="  Acme Two  "), metadata=metadata(owner)
        )
    ).organization
    assert (renamed.id, renamed.name) == (org, "Acme Two")
    assert renamed.created_at == created.created_at
    assert when(renamed.updated_at) > when(created.updated_at)
    got = await platform.organizations.GetOrganization(
        pb.GetOrganizationRequest(id=org), metadata=metadata(member)
    )
    assert got.organization == renamed

    by_admin = (
        await platform.organizations.UpdateOrganization(
            pb.UpdateOrganizationRequest(id=org, name="Acme Three"), metadata=metadata(admin)
        )
    ).organization
    assert by_admin.name == "Acme Three"
    assert when(by_admin.updated_at) > when(renamed.updated_at)

    for caller in (member, stranger):
        await expect_error(
            platform.organizations.UpdateOrganization(
                pb.UpdateOrganizationRequest(id=org, name="Hijacked"), metadata=metadata(caller)
            ),
            DENIED,
        )
    await expect_error(
        platform.organizations.UpdateOrganization(
            pb.UpdateOrganizationRequest(id=org), metadata=metadata(owner)
        ),
        INVALID,
        "at least one field must be provided",
    )
    for name in ("", "  ", "n" * 257):
        await expect_error(
            platform.organizations.UpdateOrganization(
                pb.UpdateOrganizationRequest(id=org, name=name), metadata=metadata(owner)
            ),
            INVALID,
            "name:",
        )
    for bad in ("", "acme"):
        await expect_error(
            platform.organizations.UpdateOrganization(
                pb.UpdateOrganizationRequest(id=bad, name="X"), metadata=metadata(owner)
            ),
            INVALID,
            "id:",
        )
    await expect_error(
        platform.organizations.UpdateOrganization(
            pb.UpdateOrganizationRequest(id=str(uuid.uuid4()), name="X"), metadata=metadata(owner)
        ),
        NOT_FOUND,
    )
    await expect_error(
        platform.organizations.UpdateOrganization(
            pb.UpdateOrganizationRequest(id=org, name="X"), metadata=metadata()
        ),
        UNAUTHENTICATED,
    )
    # none of the refused updates changed anything
    got = await platform.organizations.GetOrganization(
        pb.GetOrganizationRequest(id=org), metadata=metadata(owner)
    )
    assert got.organization == by_admin


# --- DeleteOrganization --------------------------------------------------------------------


async def test_delete_organization_removes_it_with_its_memberships_and_grants(platform):
    owner = await platform.user("olga")
    member = await platform.user("mia")
    invitee = await platform.user("ivan")
    stranger = await platform.user("sam")
    app_identity = uuid.uuid4()
    org = await platform.create_org(owner, "Doomed")
    kept = await platform.create_org(owner, "Kept")
    await platform.join(owner, org, member)
    await platform.invite(owner, org, invitee)
    await grant_member(platform, app_identity, org)
    assert await platform.check(app_identity, "member", org)

    for caller in (member, invitee, stranger):
        await expect_error(
            platform.organizations.DeleteOrganization(
                pb.DeleteOrganizationRequest(id=org), metadata=metadata(caller)
            ),
            DENIED,
        )
    await expect_error(
        platform.organizations.DeleteOrganization(pb.DeleteOrganizationRequest(id=org), metadata=metadata()),
        UNAUTHENTICATED,
    )
    for bad in ("", "doomed"):
        await expect_error(
            platform.organizations.DeleteOrganization(
                pb.DeleteOrganizationRequest(id=bad), metadata=metadata(owner)
            ),
            INVALID,
            "id:",
        )

    await platform.organizations.DeleteOrganization(
        pb.DeleteOrganizationRequest(id=org), metadata=metadata(owner)
    )

    await expect_error(
        platform.organizations.GetOrganization(pb.GetOrganizationRequest(id=org), metadata=metadata(owner)),
        NOT_FOUND,
    )
    await expect_error(  # a repeat finds nothing to delete
        platform.organizations.DeleteOrganization(
            pb.DeleteOrganizationRequest(id=org), metadata=metadata(owner)
        ),
        NOT_FOUND,
    )
    for identity in (owner, member, app_identity):
        assert not await platform.check(identity, "member", org)
    assert [o.id for o in (await list_organizations(platform, owner)).organizations] == [kept]
    assert not (await list_organizations(platform, member)).organizations
    for identity in (member, invitee):
        mine = await platform.organizations.ListMyMemberships(
            pb.ListMyMembershipsRequest(), metadata=metadata(identity)
        )
        assert not mine.memberships
    async with platform.organizations_service.runtime.db.transaction() as connection:
        rows = await connection.execute(
            sa.select(sa.func.count()).select_from(memberships).where(memberships.c.organization_id == org)
        )
        assert rows.scalar_one() == 0
        rows = await connection.execute(
            sa.select(sa.func.count())
            .select_from(organization_grants)
            .where(organization_grants.c.organization_id == org)
        )
        assert rows.scalar_one() == 0

    # a cluster admin may delete an organization it does not belong to
    admin = await platform.admin()
    await platform.organizations.DeleteOrganization(
        pb.DeleteOrganizationRequest(id=kept), metadata=metadata(admin)
    )
    assert not (await list_organizations(platform, owner)).organizations


async def test_delete_organization_while_an_owner_leaves_or_is_demoted(platform):
    """Both orders are fine (the change first, or NOT_FOUND after the deletion); a failure is not."""
    olga = await platform.user("olga")
    peter = await platform.user("peter")
    for _ in range(2):
        org = await platform.create_org(olga)
        row = await platform.join(olga, org, peter, OWNER)
        deleted, left = await asyncio.gather(
            platform.organizations.DeleteOrganization(
                pb.DeleteOrganizationRequest(id=org), metadata=metadata(olga)
            ),
            platform.organizations.RemoveMembership(
                pb.RemoveMembershipRequest(membership_id=row.id), metadata=metadata(peter)
            ),
            return_exceptions=True,
        )
        assert deleted == pb.DeleteOrganizationResponse(), deleted
        assert left == pb.RemoveMembershipResponse() or (
            isinstance(left, grpc.aio.AioRpcError) and left.code() == NOT_FOUND
        ), left

        org = await platform.create_org(olga)
        row = await platform.join(olga, org, peter, OWNER)
        deleted, demoted = await asyncio.gather(
            platform.organizations.DeleteOrganization(
                pb.DeleteOrganizationRequest(id=org), metadata=metadata(olga)
            ),
            platform.organizations.UpdateMembershipRole(
                pb.UpdateMembershipRoleRequest(membership_id=row.id, role=MEMBER), metadata=metadata(olga)
            ),
            return_exceptions=True,
        )
        assert deleted == pb.DeleteOrganizationResponse(), deleted
        assert isinstance(demoted, pb.UpdateMembershipRoleResponse) or (
            isinstance(demoted, grpc.aio.AioRpcError) and demoted.code() == NOT_FOUND
        ), demoted


# --- ListOrganizations ---------------------------------------------------------------------


@pytest.mark.fresh_platform  # an admin lists every organization
async def test_list_organizations_shows_members_their_organizations_and_admins_all(platform):
    alice = await platform.user("alice")
    bob = await platform.user("bob")
    carol = await platform.user("carol")
    stranger = await platform.user("sam")
    admin = await platform.admin()
    a = await platform.create_org(alice, "A")
    b = await platform.create_org(bob, "B")
    c = await platform.create_org(bob, "C")
    await platform.join(bob, b, alice)
    await platform.invite(bob, c, alice)  # pending: not yet hers
    await grant_member(platform, carol, c)  # a direct grant counts as membership

    async def ids(caller):
        reply = await list_organizations(platform, caller)
        assert reply.next_page_token == ""
        return [org.id for org in reply.organizations]

    assert await ids(alice) == sorted([a, b])
    assert await ids(bob) == sorted([b, c])
    assert await ids(carol) == [c]
    assert await ids(stranger) == []
    assert await ids(admin) == sorted([a, b, c])
    listed = (await list_organizations(platform, alice)).organizations
    assert {org.id: org.name for org in listed} == {a: "A", b: "B"}
    assert all(org.HasField("created_at") and org.HasField("updated_at") for org in listed)

    await expect_error(
        platform.organizations.ListOrganizations(pb.ListOrganizationsRequest(), metadata=metadata()),
        UNAUTHENTICATED,
    )


@pytest.mark.fresh_platform  # an admin lists every organization
async def test_list_organizations_pages_by_id(platform):
    admin = await platform.admin()
    created = [await platform.create_org(admin, f"Org {n}") for n in range(5)]
    expected = sorted(created)

    first = await list_organizations(platform, admin, page_size=2)
    assert [org.id for org in first.organizations] == expected[:2]
    assert first.next_page_token == token_of(expected[1])
    second = await list_organizations(platform, admin, page_size=2, page_token=first.next_page_token)
    assert [org.id for org in second.organizations] == expected[2:4]
    last = await list_organizations(platform, admin, page_size=2, page_token=second.next_page_token)
    assert [org.id for org in last.organizations] == expected[4:]
    assert last.next_page_token == ""
    # a token is a position, not a cursor: it can be used again
    again = await list_organizations(platform, admin, page_size=2, page_token=first.next_page_token)
    assert again.organizations == second.organizations
    # an exactly full last page still ends the list
    exact = await list_organizations(platform, admin, page_size=3, page_token=token_of(expected[1]))
    assert [org.id for org in exact.organizations] == expected[2:]
    assert exact.next_page_token == ""
    for size in (0, -3, 1000):  # default 50, clamped 100: both hold all five
        reply = await list_organizations(platform, admin, page_size=size)
        assert [org.id for org in reply.organizations] == expected
        assert reply.next_page_token == ""
    assert await list_all_organizations(platform, admin, 1) == expected

    for bad in ("!!!", "not base64", token_of("not-a-uuid"), token_of(expected[0][:-1]), expected[0], "a"):
        await expect_error(
            platform.organizations.ListOrganizations(
                pb.ListOrganizationsRequest(page_token=bad), metadata=metadata(admin)
            ),
            INVALID,
            "invalid page_token",
        )


@pytest.mark.fresh_platform  # an admin lists every organization
async def test_list_organizations_rejects_a_token_that_is_not_base64url(platform):
    """A token with characters outside the base64url alphabet is invalid, even around a good one."""
    admin = await platform.admin()
    created = sorted([await platform.create_org(admin, "A"), await platform.create_org(admin, "B")])
    good = token_of(created[0])
    page = await list_organizations(platform, admin, page_token=good)
    assert [org.id for org in page.organizations] == created[1:]
    for bad in ("!" + good, good[:4] + " " + good[4:], good + "*", good[:8] + "." + good[8:]):
        await expect_error(
            platform.organizations.ListOrganizations(
                pb.ListOrganizationsRequest(page_token=bad), metadata=metadata(admin)
            ),
            INVALID,
            "invalid page_token",
        )


@pytest.mark.fresh_platform  # an admin lists every organization
async def test_list_organizations_default_and_maximum_page_size(platform):
    """101 organizations, written straight into the table: creating them one by one costs seconds."""
    admin = await platform.admin()
    created = [uuid.uuid4() for _ in range(101)]
    async with platform.organizations_service.runtime.db.transaction() as connection:
        await connection.execute(
            organizations.insert(), [{"id": org, "name": f"Org {n}"} for n, org in enumerate(created)]
        )
    expected = sorted(str(org) for org in created)

    default = await list_organizations(platform, admin)
    assert [org.id for org in default.organizations] == expected[:50]
    assert default.next_page_token == token_of(expected[49])
    clamped = await list_organizations(platform, admin, page_size=500)
    assert [org.id for org in clamped.organizations] == expected[:100]
    assert clamped.next_page_token == token_of(expected[99])
    rest = await list_organizations(platform, admin, page_size=500, page_token=clamped.next_page_token)
    assert [org.id for org in rest.organizations] == expected[100:]
    assert rest.next_page_token == ""


# --- ListAccessibleOrganizations -----------------------------------------------------------


async def test_list_accessible_organizations(platform):
    alice = await platform.user("alice")
    bob = await platform.user("bob")
    admin = await platform.admin()
    a = await platform.create_org(alice, "A")
    b = await platform.create_org(bob, "B")
    c = await platform.create_org(bob, "C")
    d = await platform.create_org(bob, "D")
    await platform.create_org(bob, "E")
    await platform.join(bob, b, alice)
    await platform.invite(bob, c, alice)  # pending grants nothing
    await grant_member(platform, alice, d)

    async def accessible(identity, **call) -> list[str]:
        reply = await platform.organizations.ListAccessibleOrganizations(
            pb.ListAccessibleOrganizationsRequest(identity_id=str(identity)), **call
        )
        return [org.id for org in reply.organizations]

    assert await accessible(alice, metadata=metadata(alice)) == sorted([a, b, d])
    reply = await platform.organizations.ListAccessibleOrganizations(
        pb.ListAccessibleOrganizationsRequest(identity_id=str(alice)), metadata=metadata(alice)
    )
    assert {org.id: org.name for org in reply.organizations} == {a: "A", b: "B", d: "D"}
    # a platform service asks for any identity, without an end user of its own
    assert await accessible(alice, metadata=metadata(caller="threads")) == sorted([a, b, d])
    everything = (await list_organizations(platform, admin)).organizations
    assert len(everything) == 5
    assert await accessible(admin, metadata=metadata(admin)) == sorted(org.id for org in everything)
    assert await accessible(uuid.uuid4(), metadata=metadata(alice)) == []

    for bad in ("", "alice"):
        await expect_error(
            platform.organizations.ListAccessibleOrganizations(
                pb.ListAccessibleOrganizationsRequest(identity_id=bad), metadata=metadata(alice)
            ),
            INVALID,
            "identity_id:",
        )


# --- who may call --------------------------------------------------------------------------

METHODS = (
    "CreateOrganization",
    "GetOrganization",
    "UpdateOrganization",
    "DeleteOrganization",
    "ListOrganizations",
    "ListAccessibleOrganizations",
    "CreateMembership",
    "AcceptMembership",
    "DeclineMembership",
    "RemoveMembership",
    "UpdateMembershipRole",
    "ListMembers",
    "ListMyMemberships",
    "SetMyOrgNickname",
)
PLATFORM_READS = {"GetOrganization", "ListAccessibleOrganizations"}


async def test_only_the_gateway_with_an_end_user_may_call_the_public_methods(platform):
    user = await platform.user("ursula")

    async def refused(method: str, code: grpc.StatusCode, call_metadata) -> None:
        request = getattr(pb, f"{method}Request")()
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await getattr(platform.organizations, method)(request, metadata=call_metadata)
        assert failure.value.code() == code, (method, failure.value.details())

    for method in METHODS:
        await refused(method, UNAUTHENTICATED, metadata())  # the gateway without an end user
        await refused(method, UNAUTHENTICATED, (("x-agyn-caller", "gateway"), ("x-identity-id", "nobody")))
        await refused(method, DENIED, metadata(user, caller="console"))  # not a known caller
        await refused(method, DENIED, metadata(user, caller=None))  # no calling workload at all
        if method not in PLATFORM_READS:  # platform services may only read organizations
            await refused(method, DENIED, metadata(user, caller="threads"))
            await refused(method, DENIED, metadata(caller="agents"))


# --- events --------------------------------------------------------------------------------


async def test_organization_lifecycle_events(platform, nats):
    owner = await platform.user("olga")
    keyed = metadata(owner, idempotency_key="events-1")
    org = (
        await platform.organizations.CreateOrganization(
            pb.CreateOrganizationRequest(name="Acme"), metadata=keyed
        )
    ).organization.id
    await platform.organizations.CreateOrganization(pb.CreateOrganizationRequest(name="Acme"), metadata=keyed)
    owner_row = (
        await platform.organizations.ListMyMemberships(
            pb.ListMyMembershipsRequest(), metadata=metadata(owner)
        )
    ).memberships[0]
    await platform.organizations.UpdateOrganization(
        pb.UpdateOrganizationRequest(id=org, name="Acme Two"), metadata=metadata(owner)
    )
    # a refused change publishes nothing
    await expect_error(
        platform.organizations.UpdateOrganization(
            pb.UpdateOrganizationRequest(id=org, name=""), metadata=metadata(owner)
        ),
        INVALID,
    )
    await platform.organizations.DeleteOrganization(
        pb.DeleteOrganizationRequest(id=org), metadata=metadata(owner)
    )

    def about(events):
        return [event for event in events if event["data"].get("organization_id") == org]

    expected = [
        ("organizations.organization.created", {"organization_id": org, "created_by": str(owner)}),
        (
            "organizations.membership.changed",
            {
                "organization_id": org,
                "identity_id": str(owner),
                "membership_id": owner_row.id,
                "change": "added",
                "role": "owner",
                "status": "active",
            },
        ),
        ("organizations.organization.updated", {"organization_id": org, "fields": ["name"]}),
        ("organizations.organization.deleted", {"organization_id": org}),
    ]
    events = about(await read_events(nats.url, EVENTS, lambda got: len(about(got)) >= len(expected)))
    assert [(event["type"], event["data"]) for event in events] == expected
    assert len({event["id"] for event in events}) == len(events)
    assert all(event["occurred_at"] for event in events)
