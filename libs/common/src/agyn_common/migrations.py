"""Alembic migrations per service, run at start under a PostgreSQL advisory lock.

A service keeps only its revisions, in `<package>/migrations/versions/`; the environment
(`env.py`, which calls `run_env()`, and the revision template) is this package's
`alembic_env`, shared by every service instead of copied into each. `migrate()` takes a
session-level advisory lock first, so replicas starting together apply each revision once
and the others wait, then find nothing to do. A database
that does not answer yet (a pod starting beside its PostgreSQL) is waited for, up to a bound,
rather than crashing the process into a restart back-off.
"""

from __future__ import annotations

import logging
import time
import zlib
from importlib import resources
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from agyn_common.db import sqlalchemy_url

log = logging.getLogger(__name__)
MAX_RETRY_DELAY_SECONDS = 5.0


def _lock_key(service: str) -> int:
    return zlib.crc32(f"agyn-migrations:{service}".encode())


def alembic_config(migrations: Path, database_url: str) -> Config:
    """The configuration for a service whose revisions are in `migrations`/versions."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("agyn_common") / "alembic_env"))
    config.set_main_option("version_locations", str(migrations / "versions"))
    # One location, split on nothing a path contains; without it Alembic warns and splits on spaces.
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def _connect(engine: Engine, wait_seconds: float) -> Connection:
    """A connection, retrying refusals for up to `wait_seconds`; the last error otherwise."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.25
    while True:
        try:
            return engine.connect()
        except OperationalError as error:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database not reachable yet, retrying in %.1f s: %s", delay, error.orig)
            time.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)


def migrate(service: str, migrations: Path, database_url: str, wait_seconds: float = 0.0) -> None:
    """Upgrade the database to the newest revision of `migrations`/versions (blocking; call it
    via asyncio.to_thread)."""
    config = alembic_config(migrations, database_url)
    engine = create_engine(sqlalchemy_url(database_url), poolclass=None)
    try:
        with _connect(engine, wait_seconds) as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key(service)})
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _lock_key(service)})
                connection.commit()
    finally:
        engine.dispose()


def run_env() -> None:
    """The body of the shared `alembic_env/env.py` (online mode only)."""
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as own_connection:
            _run(own_connection)
            own_connection.commit()
        engine.dispose()
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
