"""Migrate-on-start: Alembic under a PostgreSQL advisory lock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from agyn_common.migrations import _lock_key, migrate
from agyn_testkit.probe import MIGRATIONS
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError


def applied(url: str) -> tuple[list[str], set[str]]:
    with psycopg.connect(url) as connection:
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        tables = {
            row[0]
            for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    return versions, tables


def test_replicas_starting_together_apply_each_revision_once(database_factory):
    url = database_factory("probe_empty", None)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: migrate("probe", MIGRATIONS, url), range(4)))
    assert results == [None] * 4
    versions, tables = applied(url)
    assert versions == ["0001"]
    assert {"outbox", "idempotency_keys", "notes", "alembic_version"} <= tables
    migrate("probe", MIGRATIONS, url)  # nothing left to do
    assert applied(url)[0] == ["0001"]


def test_migration_waits_for_the_lock(database_factory):
    url = database_factory("probe_empty", None)
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (_lock_key("probe"),))
        worker = threading.Thread(target=migrate, args=("probe", MIGRATIONS, url))
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive()  # waiting on the lock, nothing applied yet
        with psycopg.connect(url) as probe:
            assert probe.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)
        holder.execute("SELECT pg_advisory_unlock(%s)", (_lock_key("probe"),))
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert applied(url)[0] == ["0001"]


def test_migration_waits_for_a_database_that_is_not_answering_yet(database_factory, postgres):
    url = database_factory("probe_late", None)
    worker = threading.Thread(target=migrate, args=("probe", MIGRATIONS, url, 30.0))
    with postgres.refusing_connections(make_url(url).database):
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive()  # refused, and retrying
    worker.join(timeout=20)
    assert not worker.is_alive()
    assert applied(url)[0] == ["0001"]


def test_migration_gives_up_when_the_wait_is_over(database_factory, postgres):
    url = database_factory("probe_never", None)
    with (
        postgres.refusing_connections(make_url(url).database),
        pytest.raises(OperationalError, match="not currently accepting connections"),
    ):
        migrate("probe", MIGRATIONS, url, wait_seconds=0.5)
