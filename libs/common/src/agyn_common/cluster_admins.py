"""Who is a cluster admin: Users owns the role (DESIGN §3; organizations sheet §4.4, §8 #10).

Shared by the services that check the role themselves (Organizations, Runners).

Asked as the identity itself: `GetUser` answers only cluster admins, and reports the role.
Answers are kept a few seconds and dropped on Users' `cluster_role_changed` event.
"""

from __future__ import annotations

import json
import logging
import uuid

import grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from nats.aio.msg import Msg

from agyn_common.bus import Bus
from agyn_common.cache import TtlCache
from agyn_common.caller import acting_as
from agyn_common.errors import dependency_unavailable
from agyn_common.org_access import CLUSTER_ROLE_EVENTS

log = logging.getLogger(__name__)

NOT_ADMIN_CODES = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)


class ClusterAdmins:
    def __init__(
        self, users: grpc.aio.Channel, platform_identity_id: uuid.UUID | None, *, ttl: float = 5.0
    ) -> None:
        self._users = users_pb2_grpc.UsersServiceStub(users)
        self._platform_identity_id = platform_identity_id
        self._cache: TtlCache[uuid.UUID, bool] = TtlCache(ttl=ttl, max_entries=10_000, needs_bus=True)

    def attach(self, bus: Bus) -> None:
        self._cache.follow(bus)
        bus.subscribe(CLUSTER_ROLE_EVENTS, self._on_role_changed)

    async def is_admin(self, identity_id: uuid.UUID) -> bool:
        if identity_id == self._platform_identity_id:
            return True
        cached = self._cache.get(identity_id)
        if cached is not None:
            return cached
        generation = self._cache.generation
        try:
            reply: users_pb2.GetUserResponse = await self._users.GetUser(
                users_pb2.GetUserRequest(identity_id=str(identity_id)),
                metadata=acting_as(identity_id),
            )
            admin = reply.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
        except grpc.aio.AioRpcError as error:
            if error.code() not in NOT_ADMIN_CODES:
                raise dependency_unavailable("users", error) from error
            admin = False
        self._cache.put(identity_id, admin, generation)
        return admin

    async def _on_role_changed(self, message: Msg) -> None:
        try:
            identity_id = uuid.UUID(json.loads(message.data)["data"]["identity_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable cluster role event; dropping every cached role")
            self._cache.clear()
            return
        self._cache.drop_where(lambda key: key == identity_id)
