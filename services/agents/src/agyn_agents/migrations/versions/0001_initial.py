"""Initial schema: agents, their roles, volumes, the sub-resources, the outbox and idempotency keys.

Revision ID: 0001
Revises:
"""

from agyn_common.idempotency import create_idempotency_table
from agyn_common.outbox import create_outbox_table
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The schema as this revision made it, in SQL: models.py may move on, this stays.
STATEMENTS = (
    """
    CREATE TABLE agents (
        id UUID NOT NULL,
        organization_id UUID NOT NULL,
        name TEXT DEFAULT '' NOT NULL,
        nickname TEXT DEFAULT '' NOT NULL,
        role TEXT DEFAULT '' NOT NULL,
        model UUID NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        configuration TEXT DEFAULT '{}' NOT NULL,
        image TEXT DEFAULT '' NOT NULL,
        init_image TEXT DEFAULT '' NOT NULL,
        resources_requests_cpu TEXT DEFAULT '' NOT NULL,
        resources_requests_memory TEXT DEFAULT '' NOT NULL,
        resources_limits_cpu TEXT DEFAULT '' NOT NULL,
        resources_limits_memory TEXT DEFAULT '' NOT NULL,
        idle_timeout TEXT,
        capabilities JSONB DEFAULT '[]'::jsonb NOT NULL,
        availability TEXT NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT agents_availability CHECK (availability IN ('internal', 'private'))
    )
    """,
    """
    CREATE INDEX agents_created_idx ON agents (created_at, id)
    """,
    """
    CREATE INDEX agents_organization_idx ON agents (organization_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX agents_organization_nickname_key
        ON agents (organization_id, nickname)
        WHERE nickname <> ''
    """,
    """
    CREATE TABLE volumes (
        id UUID NOT NULL,
        organization_id UUID NOT NULL,
        persistent BOOLEAN DEFAULT false NOT NULL,
        mount_path TEXT DEFAULT '' NOT NULL,
        size TEXT DEFAULT '' NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        ttl TEXT,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id)
    )
    """,
    """
    CREATE INDEX volumes_organization_idx ON volumes (organization_id, created_at, id)
    """,
    """
    CREATE TABLE agent_roles (
        agent_id UUID NOT NULL,
        identity_id UUID NOT NULL,
        role TEXT NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (agent_id, identity_id),
        CONSTRAINT agent_roles_role CHECK (role IN ('owner', 'maintainer', 'participant')),
        FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
    )
    """,
    """
    CREATE INDEX agent_roles_identity_idx ON agent_roles (identity_id, agent_id)
    """,
    """
    CREATE TABLE hooks (
        id UUID NOT NULL,
        agent_id UUID NOT NULL,
        event TEXT DEFAULT '' NOT NULL,
        function TEXT DEFAULT '' NOT NULL,
        image TEXT DEFAULT '' NOT NULL,
        resources_requests_cpu TEXT DEFAULT '' NOT NULL,
        resources_requests_memory TEXT DEFAULT '' NOT NULL,
        resources_limits_cpu TEXT DEFAULT '' NOT NULL,
        resources_limits_memory TEXT DEFAULT '' NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(agent_id) REFERENCES agents (id)
    )
    """,
    """
    CREATE INDEX hooks_agent_idx ON hooks (agent_id, created_at, id)
    """,
    """
    CREATE TABLE mcps (
        id UUID NOT NULL,
        agent_id UUID NOT NULL,
        name TEXT DEFAULT '' NOT NULL,
        image TEXT DEFAULT '' NOT NULL,
        command TEXT DEFAULT '' NOT NULL,
        resources_requests_cpu TEXT DEFAULT '' NOT NULL,
        resources_requests_memory TEXT DEFAULT '' NOT NULL,
        resources_limits_cpu TEXT DEFAULT '' NOT NULL,
        resources_limits_memory TEXT DEFAULT '' NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT mcps_agent_name_key UNIQUE (agent_id, name),
        FOREIGN KEY(agent_id) REFERENCES agents (id)
    )
    """,
    """
    CREATE INDEX mcps_agent_idx ON mcps (agent_id, created_at, id)
    """,
    """
    CREATE TABLE skills (
        id UUID NOT NULL,
        agent_id UUID NOT NULL,
        name TEXT DEFAULT '' NOT NULL,
        body TEXT DEFAULT '' NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT skills_agent_name_key UNIQUE (agent_id, name),
        FOREIGN KEY(agent_id) REFERENCES agents (id)
    )
    """,
    """
    CREATE INDEX skills_agent_idx ON skills (agent_id, created_at, id)
    """,
    """
    CREATE TABLE envs (
        id UUID NOT NULL,
        name TEXT DEFAULT '' NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        agent_id UUID,
        mcp_id UUID,
        hook_id UUID,
        value TEXT,
        secret_id UUID,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT envs_one_target
            CHECK ((agent_id IS NOT NULL)::int + (mcp_id IS NOT NULL)::int + (hook_id IS NOT NULL)::int = 1),
        CONSTRAINT envs_one_source CHECK ((value IS NOT NULL)::int + (secret_id IS NOT NULL)::int = 1),
        FOREIGN KEY(agent_id) REFERENCES agents (id),
        FOREIGN KEY(mcp_id) REFERENCES mcps (id),
        FOREIGN KEY(hook_id) REFERENCES hooks (id)
    )
    """,
    """
    CREATE INDEX envs_agent_id_idx ON envs (agent_id, created_at, id)
    """,
    """
    CREATE INDEX envs_hook_id_idx ON envs (hook_id, created_at, id)
    """,
    """
    CREATE INDEX envs_mcp_id_idx ON envs (mcp_id, created_at, id)
    """,
    """
    CREATE TABLE image_pull_secret_attachments (
        id UUID NOT NULL,
        image_pull_secret_id UUID NOT NULL,
        agent_id UUID,
        mcp_id UUID,
        hook_id UUID,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT image_pull_secret_attachments_one_target
            CHECK ((agent_id IS NOT NULL)::int + (mcp_id IS NOT NULL)::int + (hook_id IS NOT NULL)::int = 1),
        FOREIGN KEY(agent_id) REFERENCES agents (id),
        FOREIGN KEY(mcp_id) REFERENCES mcps (id),
        FOREIGN KEY(hook_id) REFERENCES hooks (id)
    )
    """,
    """
    CREATE INDEX image_pull_secret_attachments_agent_id_idx
        ON image_pull_secret_attachments (agent_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX image_pull_secret_attachments_agent_id_key
        ON image_pull_secret_attachments (image_pull_secret_id, agent_id)
        WHERE agent_id IS NOT NULL
    """,
    """
    CREATE INDEX image_pull_secret_attachments_hook_id_idx
        ON image_pull_secret_attachments (hook_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX image_pull_secret_attachments_hook_id_key
        ON image_pull_secret_attachments (image_pull_secret_id, hook_id)
        WHERE hook_id IS NOT NULL
    """,
    """
    CREATE INDEX image_pull_secret_attachments_mcp_id_idx
        ON image_pull_secret_attachments (mcp_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX image_pull_secret_attachments_mcp_id_key
        ON image_pull_secret_attachments (image_pull_secret_id, mcp_id)
        WHERE mcp_id IS NOT NULL
    """,
    """
    CREATE INDEX image_pull_secret_attachments_secret_idx
        ON image_pull_secret_attachments (image_pull_secret_id, created_at, id)
    """,
    """
    CREATE TABLE init_scripts (
        id UUID NOT NULL,
        script TEXT DEFAULT '' NOT NULL,
        description TEXT DEFAULT '' NOT NULL,
        agent_id UUID,
        mcp_id UUID,
        hook_id UUID,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT init_scripts_one_target
            CHECK ((agent_id IS NOT NULL)::int + (mcp_id IS NOT NULL)::int + (hook_id IS NOT NULL)::int = 1),
        FOREIGN KEY(agent_id) REFERENCES agents (id),
        FOREIGN KEY(mcp_id) REFERENCES mcps (id),
        FOREIGN KEY(hook_id) REFERENCES hooks (id)
    )
    """,
    """
    CREATE INDEX init_scripts_agent_id_idx ON init_scripts (agent_id, created_at, id)
    """,
    """
    CREATE INDEX init_scripts_hook_id_idx ON init_scripts (hook_id, created_at, id)
    """,
    """
    CREATE INDEX init_scripts_mcp_id_idx ON init_scripts (mcp_id, created_at, id)
    """,
    """
    CREATE TABLE volume_attachments (
        id UUID NOT NULL,
        volume_id UUID NOT NULL,
        agent_id UUID,
        mcp_id UUID,
        hook_id UUID,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT volume_attachments_one_target
            CHECK ((agent_id IS NOT NULL)::int + (mcp_id IS NOT NULL)::int + (hook_id IS NOT NULL)::int = 1),
        FOREIGN KEY(volume_id) REFERENCES volumes (id),
        FOREIGN KEY(agent_id) REFERENCES agents (id),
        FOREIGN KEY(mcp_id) REFERENCES mcps (id),
        FOREIGN KEY(hook_id) REFERENCES hooks (id)
    )
    """,
    """
    CREATE INDEX volume_attachments_agent_id_idx ON volume_attachments (agent_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX volume_attachments_agent_id_key
        ON volume_attachments (volume_id, agent_id)
        WHERE agent_id IS NOT NULL
    """,
    """
    CREATE INDEX volume_attachments_hook_id_idx ON volume_attachments (hook_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX volume_attachments_hook_id_key
        ON volume_attachments (volume_id, hook_id)
        WHERE hook_id IS NOT NULL
    """,
    """
    CREATE INDEX volume_attachments_mcp_id_idx ON volume_attachments (mcp_id, created_at, id)
    """,
    """
    CREATE UNIQUE INDEX volume_attachments_mcp_id_key
        ON volume_attachments (volume_id, mcp_id)
        WHERE mcp_id IS NOT NULL
    """,
    """
    CREATE INDEX volume_attachments_volume_idx ON volume_attachments (volume_id, created_at, id)
    """,
)
TABLES = (
    "volume_attachments",
    "init_scripts",
    "image_pull_secret_attachments",
    "envs",
    "skills",
    "mcps",
    "hooks",
    "agent_roles",
    "volumes",
    "agents",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
    create_outbox_table(op)
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("outbox")
    for table in TABLES:
        op.drop_table(table)
