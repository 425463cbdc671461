"""Tables of the chat database."""

from __future__ import annotations

import sqlalchemy as sa

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()
