"""pytest fixtures: a real PostgreSQL and a real NATS for the whole session.

Enable with `pytest_plugins = ["agyn_testkit.fixtures"]` in a conftest.
Each test that needs a database gets a fresh one cloned from a migrated template
(`database_factory`), so tests never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agyn_common.embedded import EmbeddedNats, EmbeddedPostgres
from agyn_common.migrations import migrate

DatabaseFactory = Callable[[str, Path | None], str]


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
def _migrated_templates(postgres: EmbeddedPostgres) -> dict[tuple[str, Path | None], str]:
    return {}


@pytest.fixture
def database_factory(
    postgres: EmbeddedPostgres, _migrated_templates: dict[tuple[str, Path | None], str]
) -> Iterator[DatabaseFactory]:
    """`database_factory(service, migrations_dir)` → URL of a fresh, migrated database."""
    created: list[str] = []

    def create(service: str, migrations: Path | None) -> str:
        template = _migrated_templates.get((service, migrations))
        if template is None:
            template = f"template_{service}_{uuid.uuid4().hex[:8]}"
            url = postgres.create_database(template)
            if migrations is not None:
                migrate(service, migrations, url)
            _migrated_templates[(service, migrations)] = template
        name = f"test_{service}_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return postgres.create_database(name, template=template)

    yield create
    for name in created:
        postgres.drop_database(name)
