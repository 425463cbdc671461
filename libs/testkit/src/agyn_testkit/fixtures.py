"""pytest fixtures: a real PostgreSQL, NATS and S3 store (SeaweedFS) for the whole session.

Enable with `pytest_plugins = ["agyn_testkit.fixtures"]` in a conftest.
Databases are cloned from a migrated template, so they never hold another test's rows:
`database_factory` makes them for one test, `module_database_factory` for what a module's
tests share (services started once per module); each is dropped when its scope ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agyn_common.embedded import PORT_SHARE_VARIABLE, EmbeddedNats, EmbeddedPostgres, EmbeddedS3
from agyn_common.migrations import migrate

DatabaseFactory = Callable[[str, Path | None], str]


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker, and what it starts, hands out ports of its own share."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if worker is not None and count is not None:
        os.environ[PORT_SHARE_VARIABLE] = f"{worker.removeprefix('gw')}/{count}"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), durable=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats(nats_server: EmbeddedNats) -> Iterator[EmbeddedNats]:
    """The session's NATS, restarted after the test if the test stopped it."""
    yield nats_server
    if not nats_server.running:
        nats_server.start()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    """Started on first use only: most test files never touch an object store."""
    data = tmp_path_factory.mktemp("s3")
    server = EmbeddedS3(data, log_file=data / "weed.log")
    server.start()
    yield server
    server.stop(grace=0)


@pytest.fixture
def s3(s3_server: EmbeddedS3) -> Iterator[EmbeddedS3]:
    """The session's S3 store, restarted after the test if the test stopped it."""
    yield s3_server
    if not s3_server.running:
        s3_server.start()


class Databases:
    """Fresh databases cloned from per-service migrated templates (made once per session)."""

    def __init__(self, postgres: EmbeddedPostgres) -> None:
        self._postgres = postgres
        self._templates: dict[tuple[str, Path | None], str] = {}

    def create(self, service: str, migrations: Path | None, created: list[str]) -> str:
        template = self._templates.get((service, migrations))
        if template is None:
            template = f"template_{service}_{uuid.uuid4().hex[:8]}"
            url = self._postgres.create_database(template)
            if migrations is not None:
                migrate(service, migrations, url)
            self._templates[(service, migrations)] = template
        name = f"test_{service}_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return self._postgres.create_database(name, template=template)

    def factory(self) -> Iterator[DatabaseFactory]:
        """A factory whose databases are dropped when the generator ends."""
        created: list[str] = []
        yield lambda service, migrations: self.create(service, migrations, created)
        for name in created:
            self._postgres.drop_database(name)


@pytest.fixture(scope="session")
def databases(postgres: EmbeddedPostgres) -> Databases:
    return Databases(postgres)


@pytest.fixture
def database_factory(databases: Databases) -> Iterator[DatabaseFactory]:
    """`database_factory(service, migrations_dir)` → URL of a fresh, migrated database."""
    yield from databases.factory()


@pytest.fixture(scope="module")
def module_database_factory(databases: Databases) -> Iterator[DatabaseFactory]:
    """Like `database_factory`, for what the tests of one module share."""
    yield from databases.factory()
