"""`make new-service` writes a service that lints, imports and has a complete method table.

The scaffold writes into a copy of the tables it edits and of proto/; the new package is
imported in a child process, over stubs generated into the copy, so nothing of it stays
in this interpreter or in the repository. (`make new-service` on a clone, then `make test`,
is the whole check; this one keeps the templates honest at a few seconds' cost.)
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from agyn_deploy import scaffold

ROOT = Path(__file__).resolve().parents[3]
NAME = "scaffoldcheck"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    for path in (
        scaffold.LOCAL_TABLE,
        scaffold.DEPLOY_TABLE,
        scaffold.DEPLOY_MANIFEST,
        scaffold.ROOT_MANIFEST,
        scaffold.COMMON_MANIFEST,
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    return tmp_path


def _stubs(copy: Path) -> Path:
    """The copy's proto/ compiled as `make proto` would, into `copy`/stubs."""
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    generator.PROTO_DIR = copy / "proto"
    generator.generate(copy / "stubs")
    return copy / "stubs"


def test_a_new_service_lints_imports_and_declares_every_method(copy):
    written = scaffold.write(copy, NAME)

    assert Path(f"services/{NAME}/src/agyn_{NAME}/migrations/versions/0001_initial.py") in written
    assert f'LocalService(name="{NAME}"' in (copy / scaffold.LOCAL_TABLE).read_text()
    assert f'_local("{NAME}")' in (copy / scaffold.DEPLOY_TABLE).read_text()
    assert f"agyn-{NAME} = {{ workspace = true }}" in (copy / scaffold.ROOT_MANIFEST).read_text()
    # Its imports are declared, pinned as libs/common pins them.
    manifest = (copy / "services" / NAME / "pyproject.toml").read_text()
    assert all(scaffold._pins(ROOT)[name] in manifest for name in scaffold.PINNED_LIKE_COMMON)
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--quiet", "."], cwd=copy, check=True)
    subprocess.run([*ruff, "format", "--check", "--quiet", "."], cwd=copy, check=True)

    check = textwrap.dedent(
        f"""
        import importlib, pkgutil
        import agyn_{NAME}
        from agyn_{NAME}.__main__ import DEFINITION
        from google.protobuf import descriptor_pool
        for module in pkgutil.walk_packages(agyn_{NAME}.__path__, "agyn_{NAME}."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)
        for service in DEFINITION.grpc_services:
            for method in descriptor_pool.Default().FindServiceByName(service).methods:
                assert DEFINITION.access.grants_for(f"/{{service}}/{{method.name}}"), method.name
        print(DEFINITION.grpc_services)
        """
    )
    # The copy's stubs first: they hold the new package next to every existing one.
    path = os.pathsep.join([str(_stubs(copy)), str(copy / f"services/{NAME}/src")])
    result = subprocess.run(
        [sys.executable, "-c", check],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"agynio.api.{NAME}.v1.ScaffoldcheckService" in result.stdout


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Probe", "invalid service name"),
        ("my-service", "invalid service name"),
        ("my_service", "invalid service name"),
        ("2fa", "invalid service name"),
        ("", "invalid service name"),
        ("import", "Python keyword"),
        ("threads", "exists already"),
        ("testkit", "exists already: the Python package agyn_testkit"),
    ],
)
def test_an_invalid_or_taken_name_is_refused(copy, name, reason):
    with pytest.raises(scaffold.ScaffoldError, match=reason):
        scaffold.write(copy, name)
    assert not (copy / "services").exists()
