"""A user's own devices."""

from __future__ import annotations

from agyn_common.caller import current_caller
from agyn_common.credentials import DEVICE_CREDENTIAL_PREFIX, new_secret, secret_hash
from agyn_common.db import Database
from agyn_common.errors import not_found
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token
from agyn_common.validation import check_length, parse_uuid
from agynio.api.users.v1 import users_pb2

from agyn_users import store
from agyn_users.convert import device_message
from agyn_users.limits import MAX_NAME
from agyn_users.rpc.accounts import require_user_account


class DeviceHandlers:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create_device(self, request: users_pb2.CreateDeviceRequest) -> users_pb2.CreateDeviceResponse:
        owner = current_caller().require_identity()
        check_length(request.name, "name", max_chars=MAX_NAME, required=True)
        # Our own enrollment credential stands in for the OpenZiti enrollment JWT (DESIGN §3):
        # returned once, stored as its SHA-256.
        credential = new_secret(DEVICE_CREDENTIAL_PREFIX)
        async with self._db.transaction() as connection:
            await require_user_account(connection, owner, "create devices")
            row = await store.insert_device(connection, owner, request.name, secret_hash(credential))
        return users_pb2.CreateDeviceResponse(device=device_message(row), enrollment_jwt=credential)

    async def list_devices(self, request: users_pb2.ListDevicesRequest) -> users_pb2.ListDevicesResponse:
        owner = current_caller().require_identity()
        after = decode_uuid_page_token(request.page_token)
        page_size = clamp_page_size(request.page_size)
        async with self._db.transaction() as connection:
            rows, next_token = await store.devices_page(connection, owner, after, page_size)
        return users_pb2.ListDevicesResponse(
            devices=[device_message(row) for row in rows], next_page_token=next_token
        )

    async def delete_device(self, request: users_pb2.DeleteDeviceRequest) -> users_pb2.DeleteDeviceResponse:
        owner = current_caller().require_identity()
        device_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            deleted = await store.delete_device(connection, owner, device_id)
        if not deleted:
            raise not_found("device not found")
        return users_pb2.DeleteDeviceResponse()
