"""Runners: register, read, update, delete, token checks and enrollment (sheet §3.1).

Scope is fixed at registration: a runner with an organization is managed by that
organization's owners, one without by cluster admins. Service tokens are stored as their
SHA-256 only; the plaintext is returned once, by RegisterRunner.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token, split_page
from agyn_common.validation import check_length, parse_uuid
from agynio.api.runners.v1 import runners_pb2 as pb

from agyn_runners import convert, store
from agyn_runners.credentials import RunnerCredentials, RunnerIdentities, new_service_token, token_hash
from agyn_runners.models import runners
from agyn_runners.permissions import MEMBER, Permissions

log = logging.getLogger(__name__)

MAX_NAME = 256
MAX_LABELS = 64
MAX_LABEL_TEXT = 256
MAX_CAPABILITIES = 64
MAX_CAPABILITY = 256
MAX_TOKEN = 256
MAX_ADDRESS = 261  # a DNS name (253) and a port


def _name(value: str, field: str = "name") -> str:
    return check_length(value.strip(), field, max_chars=MAX_NAME, required=True)


def _labels(labels: Any) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise invalid_argument("labels", f"at most {MAX_LABELS} labels")
    for key, value in labels.items():
        check_length(key, "labels", max_chars=MAX_LABEL_TEXT, required=True)
        check_length(value, f"labels[{key[:64]}]", max_chars=MAX_LABEL_TEXT)
    return dict(labels)


def _capabilities(capabilities: Any) -> list[str]:
    if len(capabilities) > MAX_CAPABILITIES:
        raise invalid_argument("capabilities", f"at most {MAX_CAPABILITIES} capabilities")
    for index, capability in enumerate(capabilities):
        check_length(capability, f"capabilities[{index}]", max_chars=MAX_CAPABILITY)
    return list(capabilities)  # order kept, no dedupe (sheet §3.1)


def _token(value: str, field: str) -> str:
    return token_hash(check_length(value.strip(), field, max_chars=MAX_TOKEN, required=True))


def runner_address(value: str) -> str:
    """`host:port` as a daemon tells it in `x-runner-address` (DESIGN §3); INVALID_ARGUMENT otherwise."""
    field = "x-runner-address"
    text = check_length(value.strip(), field, max_chars=MAX_ADDRESS, required=True)
    host, separator, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise invalid_argument(field, "must be host:port")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        if not all(
            label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
            for label in labels
        ):
            raise invalid_argument(field, "host must be an IP address or a DNS name") from None
    return text


class RunnerHandlers:
    def __init__(
        self,
        database: Database,
        permissions: Permissions,
        identities: RunnerIdentities,
        credentials: RunnerCredentials,
    ) -> None:
        self._db = database
        self._permissions = permissions
        self._identities = identities
        self._credentials = credentials

    async def register(self, request: pb.RegisterRunnerRequest) -> pb.RegisterRunnerResponse:
        caller = current_caller().require_identity()
        name = _name(request.name)
        organization_id = (
            parse_uuid(request.organization_id.strip(), "organization_id")
            if request.HasField("organization_id")
            else None
        )
        labels, capabilities = _labels(request.labels), _capabilities(request.capabilities)
        await self._permissions.require_manager(caller, organization_id)
        runner_id = uuid.uuid4()
        token = new_service_token()
        # Cannot be undone; left behind by a failed registration, it names nothing (§8 #18).
        await self._identities.register(runner_id)
        async with self._db.transaction() as connection:
            row = await store.insert(
                connection,
                "runner",
                {
                    "id": runner_id,
                    "name": name,
                    "organization_id": organization_id,
                    "identity_id": runner_id,
                    "service_token_hash": token_hash(token),
                    "labels": labels,
                    "capabilities": capabilities,
                    "service_name": f"runner-{runner_id}",
                },
            )
        return pb.RegisterRunnerResponse(runner=convert.runner_message(row), service_token=token)

    async def get(self, request: pb.GetRunnerRequest) -> pb.GetRunnerResponse:
        runner_id = parse_uuid(request.id.strip(), "id")
        caller = current_caller().identity_id
        async with self._db.read() as connection:
            row = await store.load(connection, "runner", runner_id)
        if caller is not None and row.organization_id is not None:
            await self._permissions.require(caller, MEMBER, row.organization_id)
        return pb.GetRunnerResponse(runner=convert.runner_message(row))

    async def list(self, request: pb.ListRunnersRequest) -> pb.ListRunnersResponse:
        caller = current_caller().identity_id
        size = clamp_page_size(request.page_size)
        after = decode_uuid_page_token(request.page_token)
        query = sa.select(runners)
        if request.HasField("organization_id"):
            organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
            if caller is not None:
                await self._permissions.require(caller, MEMBER, organization_id)
            query = query.where(
                sa.or_(runners.c.organization_id == organization_id, runners.c.organization_id.is_(None))
            )
        if after is not None:
            query = query.where(runners.c.id > after)
        async with self._db.read() as connection:
            rows = (await connection.execute(query.order_by(runners.c.id).limit(size + 1))).all()
        page, token = split_page(rows, size)
        if caller is not None and not request.HasField("organization_id"):
            # Rows of other organizations are dropped after paging: a page may be short (§8 #10).
            visible = await self._permissions.member_of(
                caller, {row.organization_id for row in page if row.organization_id is not None}
            )
            page = [row for row in page if row.organization_id is None or row.organization_id in visible]
        return pb.ListRunnersResponse(
            runners=[convert.runner_message(row) for row in page], next_page_token=token
        )

    async def update(self, request: pb.UpdateRunnerRequest) -> pb.UpdateRunnerResponse:
        caller = current_caller().require_identity()
        runner_id = parse_uuid(request.id.strip(), "id")
        values: dict[str, Any] = {}
        if request.HasField("name"):
            values["name"] = _name(request.name)
        # Empty map or list: not supplied, unchanged (proto3 has no presence for them; §8 #3).
        if request.labels:
            values["labels"] = _labels(request.labels)
        if request.capabilities:
            values["capabilities"] = _capabilities(request.capabilities)
        async with self._db.transaction() as connection:
            row = await store.load(connection, "runner", runner_id, lock=True)
            await self._permissions.require_manager(caller, row.organization_id)
            row = await store.update(connection, "runner", runner_id, values)
        return pb.UpdateRunnerResponse(runner=convert.runner_message(row))

    async def delete(self, request: pb.DeleteRunnerRequest) -> pb.DeleteRunnerResponse:
        caller = current_caller().require_identity()
        runner_id = parse_uuid(request.id.strip(), "id")
        async with self._db.transaction() as connection:
            row = await store.load(connection, "runner", runner_id, lock=True)
            await self._permissions.require_manager(caller, row.organization_id)
            live = await store.live_workloads(connection, runner_id)
            if live:
                log.warning("runner %s deleted with %d workloads not stopped", runner_id, live)
            await store.delete_runner(connection, runner_id)  # its records go with it (§8 #6)
        await self._credentials.revoke(runner_id)
        return pb.DeleteRunnerResponse()

    async def validate_token(
        self, request: pb.ValidateServiceTokenRequest
    ) -> pb.ValidateServiceTokenResponse:
        # The field carries the plaintext token, despite its name (§8 #2).
        hashed = _token(request.token_hash, "token_hash")
        async with self._db.read() as connection:
            row = await store.runner_by_token_hash(connection, hashed)
        return pb.ValidateServiceTokenResponse(runner=convert.runner_message(row))

    async def enroll(self, request: pb.EnrollRunnerRequest, address: str | None) -> pb.EnrollRunnerResponse:
        """The token is the credential; `address` is where the daemon serves, when it said."""
        hashed = _token(request.service_token, "service_token")
        served_at = runner_address(address) if address is not None else None
        async with self._db.read() as connection:
            row = await store.runner_by_token_hash(connection, hashed)  # NOT_FOUND (§8 #17)
        # Outside the transaction: the issuer replaces the runner's earlier credential itself,
        # so enrolling again (or twice at once) leaves one valid credential.
        credential, credential_id = await self._credentials.issue(row.id)
        values: dict[str, Any] = {"status": "enrolled", "credential_id": credential_id}
        if served_at is not None:
            values["address"] = served_at
        async with self._db.transaction() as connection:
            row = await store.update(connection, "runner", row.id, values)
        return pb.EnrollRunnerResponse(
            identity_json=credential, service_name=row.service_name, identity_id=credential_id
        )
