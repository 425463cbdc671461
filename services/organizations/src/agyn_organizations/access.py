"""Who may call the organizations deployable (organizations sheet §4.2, §4.4).

The single source for the in-process check and the Istio AuthorizationPolicy.
"""

from agyn_common.access import AccessBuilder, IdentityRule

ORGANIZATIONS = "agynio.api.organizations.v1.OrganizationsService"
ORGANIZATION_ACCESS = "agynio.api.organizations.v1.OrganizationAccessService"

# The org-scoped services that check organization relations.
PLATFORM_SERVICES = (
    "agents",
    "runners",
    "threads",
    "chat",
    "files",
    "secrets",
    "llm",
    "images",
    "apps",
    "tracing",
    "expose",
    "networks",
    "groups",
    "egressrules",
    "notifications",
    "users",
    "gateway",
)

ACCESS = (
    AccessBuilder("organizations")
    .through_gateway(ORGANIZATIONS)
    .idempotent(ORGANIZATIONS, ["CreateOrganization", "CreateMembership"])
    # Platform services read organizations for their own purposes, with or without an end user.
    .allow(
        ORGANIZATIONS,
        ["GetOrganization", "ListAccessibleOrganizations"],
        callers=[name for name in PLATFORM_SERVICES if name != "gateway"],
        identity=IdentityRule.OPTIONAL,
    )
    .allow(
        ORGANIZATION_ACCESS,
        ["CheckOrganizationRelation", "BatchCheckOrganizationRelations", "ListOrganizationsForRelation"],
        callers=PLATFORM_SERVICES,
        identity=IdentityRule.NONE,  # the identity checked is in the request
    )
    # Direct grants are written by the services that own non-member identities.
    .allow(
        ORGANIZATION_ACCESS,
        ["WriteOrganizationGrants"],
        callers=["apps", "agents"],
        identity=IdentityRule.NONE,
    )
    .build()
)
