"""`make new-service NAME=<name>`: a new service in one step (DESIGN §6).

Writes the service package (settings, method table, tables, store, servicer, its first
migration), a proto contract with one RPC the skeleton serves, a test suite, and its entries
in `make up`'s table (agyn_local.services), the Kubernetes table (agyn_deploy.deployables),
tools/deploy's dependencies and the root's uv sources (uv wants an entry for every member
another member depends on). The Makefile then locks, regenerates the stubs (`make proto`) and
the charts, Dockerfiles and skaffold.yaml (`make generate`).

Names are `[a-z][a-z0-9]*`: the name is the deployable, the database, the `<NAME>_ADDRESS`
setting's prefix, the proto package and the Python package `agyn_<name>`, and a dash or an
underscore would not survive all of those unchanged.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

VALID_NAME = re.compile(r"[a-z][a-z0-9]*")
LOCAL_TABLE = Path("tools/local/src/agyn_local/services.py")
DEPLOY_TABLE = Path("tools/deploy/src/agyn_deploy/deployables.py")
DEPLOY_MANIFEST = Path("tools/deploy/pyproject.toml")
ROOT_MANIFEST = Path("pyproject.toml")
COMMON_MANIFEST = Path("libs/common/pyproject.toml")
# What the written code imports beside agyn-api and agyn-common, pinned as libs/common pins it.
PINNED_LIKE_COMMON = ("grpcio", "sqlalchemy", "alembic")


class ScaffoldError(Exception):
    """The name cannot be used; the message says why."""


@dataclass(frozen=True)
class Names:
    name: str  # deployable, database, proto package: "probe"

    @property
    def module(self) -> str:
        return f"agyn_{self.name}"

    @property
    def service(self) -> str:
        return f"agynio.api.{self.name}.v1.{self.name.capitalize()}Service"

    def substitutions(self) -> dict[str, str]:
        return {
            "name": self.name,
            "Name": self.name.capitalize(),
            "constant": self.name.upper(),
            "service": self.service,
        }


def check_name(root: Path, name: str) -> Names:
    """The names derived from `name`, or ScaffoldError saying why it cannot be a service."""
    if not VALID_NAME.fullmatch(name):
        raise ScaffoldError(
            f"invalid service name {name!r}: use lowercase letters and digits, starting with a "
            "letter ([a-z][a-z0-9]*); no dashes or underscores"
        )
    if keyword.iskeyword(name):
        raise ScaffoldError(f"invalid service name {name!r}: a Python keyword cannot be a package name")
    names = Names(name)
    taken = [
        str(path)
        for path in (Path("services") / name, Path("proto/agynio/api") / name)
        if (root / path).exists()
    ]
    if f'name="{name}"' in (root / LOCAL_TABLE).read_text():
        taken.append(str(LOCAL_TABLE))
    if importlib.util.find_spec(names.module) is not None:
        taken.append(f"the Python package {names.module}")
    if taken:
        raise ScaffoldError(f"service {name!r} exists already: {', '.join(taken)}")
    return names


def _template(name: str) -> Template:
    return Template(resources.files("agyn_deploy").joinpath(f"templates/service/{name}").read_text())


def _pins(root: Path) -> dict[str, str]:
    """`grpcio` → `"grpcio==1.85.1"`, ...: the new service's pins stay in step with libs/common's."""
    requirements = tomllib.loads((root / COMMON_MANIFEST).read_text())["project"]["dependencies"]
    pins = {}
    for name in PINNED_LIKE_COMMON:
        (requirement,) = (entry for entry in requirements if re.match(rf"{name}\b(?![-_])", entry))
        pins[name] = f'"{requirement}"'
    return pins


def service_files(root: Path, names: Names) -> dict[Path, str]:
    """Every new file, by path relative to the repository root."""
    service = Path("services") / names.name
    package = service / "src" / names.module
    sources = {
        service / "pyproject.toml": "pyproject.toml.tmpl",
        service / "README.md": "README.md.tmpl",
        package / "__init__.py": "__init__.py.tmpl",
        package / "__main__.py": "__main__.py.tmpl",
        package / "settings.py": "settings.py.tmpl",
        package / "access.py": "access.py.tmpl",
        package / "models.py": "models.py.tmpl",
        package / "store.py": "store.py.tmpl",
        package / "convert.py": "convert.py.tmpl",
        package / "servicer.py": "servicer.py.tmpl",
        package / "rpc" / "__init__.py": "rpc__init__.py.tmpl",
        package / "migrations" / "versions" / "0001_initial.py": "0001_initial.py.tmpl",
        Path("proto/agynio/api") / names.name / "v1" / f"{names.name}.proto": "service.proto.tmpl",
        service / "tests" / "conftest.py": "conftest.py.tmpl",
        service / "tests" / f"test_{names.name}.py": "test_service.py.tmpl",
    }
    substitutions = {**names.substitutions(), **_pins(root)}
    files = {path: _template(source).substitute(substitutions) for path, source in sources.items()}
    # Packages, so that mypy names the revisions agyn_<name>.migrations.versions.*.
    files[package / "migrations" / "__init__.py"] = ""
    files[package / "migrations" / "versions" / "__init__.py"] = ""
    return files


def _insert_before_closing(text: str, opening: str, entry: str) -> str:
    """`entry` added as the last item of the parenthesised tuple that starts at `opening`."""
    start = text.index(opening)
    closing = text.index("\n)\n", start)
    return text[: closing + 1] + entry + text[closing + 1 :]


def _insert_after_last(text: str, pattern: str, line: str) -> str:
    """`line` added after the last line matching `pattern`."""
    last = list(re.finditer(pattern, text, flags=re.MULTILINE))[-1]
    return text[: last.end()] + "\n" + line + text[last.end() :]


def table_edits(root: Path, names: Names) -> dict[Path, str]:
    """The service's entries in the tables and manifests that list services, as new file contents."""
    name = names.name
    local = (root / LOCAL_TABLE).read_text()
    deploy = (root / DEPLOY_TABLE).read_text()
    deploy_manifest = (root / DEPLOY_MANIFEST).read_text()
    root_manifest = (root / ROOT_MANIFEST).read_text()
    return {
        LOCAL_TABLE: _insert_before_closing(
            local,
            "SERVICES: tuple[LocalService, ...] = (",
            f'    LocalService(name="{name}", module="{names.module}"),\n',
        ),
        DEPLOY_TABLE: _insert_before_closing(
            deploy,
            "DEPLOYABLES: tuple[Deployable, ...] = (",
            f'    Deployable(_local("{name}"), "The {name.capitalize()} service.", calls=()),\n',
        ),
        DEPLOY_MANIFEST: _insert_after_last(
            deploy_manifest, r'^    "agyn-[a-z0-9-]+",$', f'    "agyn-{name}",'
        ),
        ROOT_MANIFEST: _insert_after_last(
            root_manifest,
            r"^agyn-[a-z0-9-]+ = \{ workspace = true \}$",
            f"agyn-{name} = {{ workspace = true }}",
        ),
    }


def _ruff(root: Path, paths: list[Path]) -> None:
    """Sort the imports and format: where an import sorts and how long a line is depend on the name."""
    targets = [str(root / path) for path in paths]
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--quiet", "--fix", "--select", "I", *targets], check=True, cwd=root)
    subprocess.run([*ruff, "format", "--quiet", *targets], check=True, cwd=root)


def write(root: Path, name: str) -> list[Path]:
    """Write the new service under `root` (the repository, or a copy holding the tables)."""
    names = check_name(root, name)
    files = service_files(root, names)
    edits = table_edits(root, names)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    for path, content in edits.items():
        (root / path).write_text(content)
    _ruff(root, [path for path in [*files, *edits] if path.suffix == ".py"])
    return [*files, *edits]
