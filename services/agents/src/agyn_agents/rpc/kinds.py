"""The table of an agent's sub-resources (sheet §3.5-3.7): what each kind stores, shows and
lets change, what it belongs to, and what it links. `ChildHandlers` serves every kind of it
the same way (DESIGN §6).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common.errors import invalid_argument
from agynio.api.agents.v1 import agents_pb2 as pb
from google.protobuf.message import Message

from agyn_agents import convert, fields
from agyn_agents.fields import MAX_DESCRIPTION, MAX_IMAGE, Check, pattern, text, uuid_field
from agyn_agents.models import (
    TARGETS,
    envs,
    hooks,
    image_pull_secret_attachments,
    init_scripts,
    mcps,
    skills,
    volume_attachments,
    volumes,
)
from agyn_agents.rpc.targets import AGENT, ANY_TARGET, Targets

Show = Callable[[sa.Row[Any], str], dict[str, Any]]  # (row, field) -> the field in the message


def column(row: sa.Row[Any], field: str) -> dict[str, Any]:
    value = getattr(row, field)
    return {field: str(value) if isinstance(value, uuid.UUID) else value}


@dataclass(frozen=True)
class Field:
    check: Check  # the request's field -> its columns, or INVALID_ARGUMENT naming it
    show: Show = column


@dataclass(frozen=True)
class Link:
    """What an attachment links its target to: the id in `column`, also a list filter. When
    the linked thing is ours (`table`), it must exist and be in the agent's organization
    (sheet §3.5, §8 #12), and listing by it alone needs membership of its organization."""

    column: str
    table: sa.Table | None = None

    @property
    def what(self) -> str:
        return self.column.removesuffix("_id")


@dataclass(frozen=True)
class ChildKind:
    name: str  # the message name: "InitScript"
    table: sa.Table
    fields: Mapping[str, Field]  # what a create sets and the message shows, in order
    updates: Mapping[str, Check] | None  # what an update may set; None: no Update RPC
    targets: Targets = AGENT
    link: Link | None = None
    conflicts: Mapping[str, str] = dataclasses.field(default_factory=dict)  # constraint -> ALREADY_EXISTS
    targeted_as: str | None = None  # the column rows of other kinds target it by ("mcp_id")

    @property
    def what(self) -> str:
        """The kind in messages' field names: "init_script"."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()

    @property
    def label(self) -> str:
        """The kind in error messages: "init script"."""
        return self.what.replace("_", " ")

    @property
    def filters(self) -> tuple[str, ...]:
        """The fields of its List request that narrow the listing."""
        return (*self.targets.columns, *((self.link.column,) if self.link else ()))

    def message(self, row: sa.Row[Any]) -> Message:
        values = self.targets.show(row)
        for name, spec in self.fields.items():
            values.update(spec.show(row, name))
        message: Message = getattr(pb, self.name)(meta=convert.meta(row), **values)
        return message


def editable(kind_fields: Mapping[str, Field], *immutable: str) -> dict[str, Check]:
    return {name: spec.check for name, spec in kind_fields.items() if name not in immutable}


RESOURCES = Field(fields.resources, lambda row, field: {field: convert.resources_message(row)})

# An ENV's source: a plain value ("" is one) or a secret's id, never resolved here. The row
# holds exactly one, so setting either clears the other (sheet §3.7).
MAX_ENV_VALUE = 64 * 1024
_env_value_text = text(MAX_ENV_VALUE)


def env_value(request: Any, field: str) -> dict[str, Any]:
    if request.HasField("secret_id"):  # an update may carry both; a create's oneof cannot
        raise invalid_argument(field, "value and secret_id cannot both be set")
    return {**_env_value_text(request, field), "secret_id": None}


def env_secret(request: Any, field: str) -> dict[str, Any]:
    return {**uuid_field(request, field), "value": None}


ENV_SOURCES = {"value": env_value, "secret_id": env_secret}


def env_source(request: Any, field: str) -> dict[str, Any]:
    chosen = request.WhichOneof(field)
    if chosen is None:
        raise invalid_argument(field, f"{field} must be specified")
    return ENV_SOURCES[chosen](request, chosen)


def show_source(row: sa.Row[Any], field: str) -> dict[str, Any]:
    return {"value": row.value} if row.value is not None else {"secret_id": str(row.secret_id)}


def attached_twice(table: sa.Table, what: str) -> dict[str, str]:
    """The attachment's unique indexes (one per target column): ALREADY_EXISTS."""
    return {
        f"{table.name}_{target}_key": f"the {what} is attached to that target already" for target in TARGETS
    }


MCP_FIELDS = {
    "name": Field(pattern(r"[a-z][a-z0-9_]{0,62}", 63)),
    "image": Field(text(MAX_IMAGE)),
    "command": Field(text(4096)),
    "resources": RESOURCES,
    "description": Field(text(MAX_DESCRIPTION)),
}
SKILL_FIELDS = {
    "name": Field(text(64, required=True)),
    "body": Field(text(1024 * 1024)),
    "description": Field(text(MAX_DESCRIPTION)),
}
HOOK_FIELDS = {
    "event": Field(text(256)),
    "function": Field(text(4096)),
    "image": Field(text(MAX_IMAGE)),
    "resources": RESOURCES,
    "description": Field(text(MAX_DESCRIPTION)),
}
ENV_FIELDS = {
    "name": Field(pattern(r"[A-Za-z_][A-Za-z0-9_]*", 256)),
    "description": Field(text(MAX_DESCRIPTION)),
    "source": Field(env_source, show_source),
}
INIT_SCRIPT_FIELDS = {"script": Field(text(1024 * 1024)), "description": Field(text(MAX_DESCRIPTION))}

KINDS = {
    kind.name: kind
    for kind in (
        ChildKind(
            "Mcp",
            mcps,
            MCP_FIELDS,
            editable(MCP_FIELDS, "name"),
            conflicts={"mcps_agent_name_key": "the agent has an mcp of that name already"},
            targeted_as="mcp_id",
        ),
        ChildKind(
            "Skill",
            skills,
            SKILL_FIELDS,
            editable(SKILL_FIELDS),
            conflicts={"skills_agent_name_key": "the agent has a skill of that name already"},
        ),
        ChildKind("Hook", hooks, HOOK_FIELDS, editable(HOOK_FIELDS), targeted_as="hook_id"),
        ChildKind(
            "Env",
            envs,
            ENV_FIELDS,
            {**editable(ENV_FIELDS, "source"), **ENV_SOURCES},
            targets=ANY_TARGET,
        ),
        ChildKind(
            "InitScript", init_scripts, INIT_SCRIPT_FIELDS, editable(INIT_SCRIPT_FIELDS), targets=ANY_TARGET
        ),
        ChildKind(
            "VolumeAttachment",
            volume_attachments,
            {"volume_id": Field(uuid_field)},
            None,  # an attachment is an immutable link
            targets=ANY_TARGET,
            link=Link("volume_id", volumes),
            conflicts=attached_twice(volume_attachments, "volume"),
        ),
        ChildKind(
            "ImagePullSecretAttachment",
            image_pull_secret_attachments,
            {"image_pull_secret_id": Field(uuid_field)},
            None,
            targets=ANY_TARGET,
            link=Link("image_pull_secret_id"),  # the Secrets service's: not checked (§8 #12)
            conflicts=attached_twice(image_pull_secret_attachments, "image pull secret"),
        ),
    )
}

# Rows that target an MCP or hook and keep it from being deleted (sheet §3.6, §8 #7).
TARGETING = tuple(kind.table for kind in KINDS.values() if kind.targets is ANY_TARGET)
