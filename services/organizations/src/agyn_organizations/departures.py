"""Identities deleted from the platform leave their organizations too (sheet §8 #12).

Users announces `user.deleted`; a durable consumer removes that identity's memberships and
grants, so nothing is missed while Organizations is down. Handling twice is harmless.
"""

from __future__ import annotations

import json
import logging
import uuid

from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus
from agyn_common.db import Database
from nats.aio.msg import Msg

from agyn_organizations.events import OrganizationEvents
from agyn_organizations.models import memberships, organization_grants

log = logging.getLogger(__name__)

USER_DELETED = f"{EVENTS_SUBJECT_PREFIX}.users.user.deleted"
CONSUMER = "organizations-on-user-deleted"


class Departures:
    def __init__(self, db: Database, events: OrganizationEvents) -> None:
        self._db = db
        self._events = events

    def attach(self, bus: Bus) -> None:
        bus.consume(CONSUMER, USER_DELETED, self._on_user_deleted)

    async def _on_user_deleted(self, message: Msg) -> None:
        try:
            identity_id = uuid.UUID(json.loads(message.data)["data"]["identity_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable user.deleted event")  # another delivery would not help
            return
        await self.remove(identity_id)

    async def remove(self, identity_id: uuid.UUID) -> None:
        async with self._db.transaction() as connection:
            removed = await connection.execute(
                memberships.delete().where(memberships.c.identity_id == identity_id).returning(*memberships.c)
            )
            for row in removed.all():
                await self._events.membership_changed(connection, row, "identity_deleted")
            revoked = await connection.execute(
                organization_grants.delete()
                .where(organization_grants.c.identity_id == identity_id)
                .returning(organization_grants.c.organization_id, organization_grants.c.relation)
            )
            for grant in revoked.all():
                await self._events.grant_changed(
                    connection, grant.organization_id, identity_id, grant.relation, False
                )
