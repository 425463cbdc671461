"""Tables of the users database: Users' accounts, tokens, devices and admins, and
Identity's registry and nickname index (one deployable, one database).

Table and column names of `users`, `user_api_tokens` and `identities` are relied on by
install tooling that seeds the first admin (users sheet §4.1); keep them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)


def _now() -> sa.sql.elements.TextClause:
    return sa.text("now()")


users = sa.Table(
    "users",
    metadata,
    sa.Column("identity_id", UUID, primary_key=True),
    sa.Column("oidc_subject", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("email", sa.Text, nullable=False, server_default=""),
    sa.Column("photo_url", sa.Text, nullable=False, server_default=""),
    sa.Column("nickname", sa.Text, nullable=False, server_default=""),
    sa.Column("username", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("users_oidc_subject_idx", "oidc_subject", unique=True),
    sa.Index("users_username_idx", "username", unique=True, postgresql_where=sa.text("username IS NOT NULL")),
    # Prefix search (LIKE 'abc%') with bytewise order.
    sa.Index("users_username_prefix_idx", "username", postgresql_ops={"username": "text_pattern_ops"}),
)

# Holders of `admin` on `cluster:global`. No foreign key: the platform admin identity
# configured on the Gateway has no users row.
cluster_admins = sa.Table(
    "cluster_admins",
    metadata,
    sa.Column("identity_id", UUID, primary_key=True),
    sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

user_api_tokens = sa.Table(
    "user_api_tokens",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("identity_id", UUID, sa.ForeignKey("users.identity_id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("token_prefix", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("user_api_tokens_identity_created_idx", "identity_id", "created_at"),
)

user_devices = sa.Table(
    "user_devices",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("identity_id", UUID, sa.ForeignKey("users.identity_id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("openziti_identity_id", sa.Text, nullable=False),
    # In place of an OpenZiti enrollment JWT we issue our own one-time credential and keep
    # only its SHA-256 here (the column name stays for install tooling).
    sa.Column("enrollment_jwt", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("user_devices_identity_idx", "identity_id"),
)

# identity_type holds the proto IdentityType numbers (agent 1, runner 2, user 4, app 5),
# not the codes of the upstream Go store; translate when importing upstream data.
identities = sa.Table(
    "identities",
    metadata,
    sa.Column("identity_id", UUID, primary_key=True),
    sa.Column("identity_type", sa.SmallInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
)

org_nicknames = sa.Table(
    "org_nicknames",
    metadata,
    sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("organization_id", UUID, nullable=False),
    sa.Column(
        "identity_id", UUID, sa.ForeignKey("identities.identity_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("installation_id", UUID, nullable=True),
    sa.Column("nickname", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("org_nicknames_org_nickname_idx", "organization_id", "nickname", unique=True),
    sa.Index(
        "org_nicknames_org_identity_idx",
        "organization_id",
        "identity_id",
        unique=True,
        postgresql_where=sa.text("installation_id IS NULL"),
    ),
    sa.Index(
        "org_nicknames_org_installation_idx",
        "organization_id",
        "installation_id",
        unique=True,
        postgresql_where=sa.text("installation_id IS NOT NULL"),
    ),
)

# Credentials of agent workloads and runners, issued in place of OpenZiti identities
# (DESIGN §3). Only the SHA-256 of a credential is kept; it is also the `ziti_identity_id`
# callers of the contract hold. identity_type: the proto numbers (agent 1, runner 2). No
# foreign key: agents and runners register their identities on their own schedule.
workload_credentials = sa.Table(
    "workload_credentials",
    metadata,
    sa.Column("credential_hash", sa.Text, primary_key=True),
    sa.Column("identity_id", UUID, nullable=False),
    sa.Column("identity_type", sa.SmallInteger, nullable=False),
    sa.Column("workload_id", UUID, nullable=True),  # agents only
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Index("workload_credentials_identity_idx", "identity_id"),
)
