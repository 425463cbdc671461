"""Each package declares every distribution its code imports, and imports nothing above it:
libs/ builds on libs/ alone, a service on libs/, tools on anything.

An image installs one package with its own dependencies alone (`uv sync --no-dev --package`), so
an import that only works because another package, or a dependency's dependency, brought the
distribution along breaks there, or on the day that other package drops it. The tests, run in
the whole workspace, may use what any package or the root's dev group declares.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import distribution, packages_distributions
from pathlib import Path
from typing import Any

import pytest
from agyn_deploy.generate import workspace_members

ROOT = Path(__file__).resolve().parents[3]
MEMBERS = workspace_members(ROOT)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return _normalize(match[0])


def _pyproject(directory: Path) -> dict[str, Any]:
    with (directory / "pyproject.toml").open("rb") as manifest:
        return tomllib.load(manifest)


def _declared(member: str) -> set[str]:
    project = _pyproject(ROOT / member)["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return {_normalize(project["name"])} | {_requirement_name(requirement) for requirement in requirements}


@functools.cache
def _workspace_modules() -> dict[str, str]:
    """Top-level module → the workspace package that holds it (installed editable, so unmapped)."""
    modules = {}
    for member in MEMBERS:
        name = _normalize(_pyproject(ROOT / member)["project"]["name"])
        for child in (ROOT / member / "src").iterdir():
            if child.is_dir() and child.name.isidentifier():
                modules[child.name] = name
    return modules


def _imports(paths: list[Path]) -> set[str]:
    """Absolute imports, `from a.b import c` as `a.b.c` (a submodule or a name in `a.b`)."""
    found: set[str] = set()
    for path in paths:
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {module for module in found if module.split(".")[0] not in sys.stdlib_module_names}


@functools.cache
def _files(name: str) -> frozenset[tuple[str, ...]]:
    return frozenset(file.parts for file in distribution(name).files or [])


def _holds(name: str, parts: tuple[str, ...]) -> bool:
    depth = len(parts)
    return any(
        (file[:depth] == parts and len(file) > depth)  # a package directory
        or (file[:-1] == parts[:-1] and len(file) == depth and file[-1].split(".")[0] == parts[-1])
        for file in _files(name)
    )


@functools.cache
def _providers(module: str) -> frozenset[str]:
    """The installed distributions that provide `module`."""
    parts = tuple(module.split("."))
    candidates = set(packages_distributions().get(parts[0], []))
    if len(candidates) > 1:
        # A namespace package spread over several distributions (google, opentelemetry):
        # the one whose files hold the deepest part of the imported name.
        for depth in range(len(parts), 1, -1):
            holders = {name for name in candidates if _holds(name, parts[:depth])}
            if holders:
                candidates = holders
                break
    return frozenset(_normalize(name) for name in candidates)


def _undeclared(modules: set[str], declared: set[str], local: frozenset[str] = frozenset()) -> dict[str, str]:
    """Each distribution imported but not declared → the imports that need it."""
    missing: dict[str, set[str]] = {}
    for module in modules:
        top = module.split(".")[0]
        if top in _workspace_modules():
            providers = frozenset({_workspace_modules()[top]})
        elif top in local:
            continue
        else:
            providers = _providers(module)
        if not providers & declared:
            missing.setdefault(" or ".join(sorted(providers)) or "(not installed)", set()).add(module)
    return {name: ", ".join(sorted(imports)) for name, imports in missing.items()}


@pytest.mark.parametrize("member", MEMBERS)
def test_a_package_declares_what_its_code_imports(member: str):
    assert _undeclared(_imports([ROOT / member / "src"]), _declared(member)) == {}


def test_the_tests_import_only_what_the_workspace_declares():
    dev = _pyproject(ROOT)["dependency-groups"]["dev"]
    declared = {_requirement_name(entry) for entry in dev if isinstance(entry, str)}
    for member in MEMBERS:
        declared |= _declared(member)
    # The README's example scripts run in the same environment as the tests.
    paths = [ROOT / "conftest.py", ROOT / "tests", ROOT / "bench", ROOT / "examples"]
    paths += [ROOT / member / "tests" for member in MEMBERS if (ROOT / member / "tests").is_dir()]
    # Helper modules beside the tests (on pytest's pythonpath), which no distribution provides.
    local = frozenset(path.stem for root in paths if root.is_dir() for path in root.rglob("*.py"))
    assert _undeclared(_imports(paths), declared, local) == {}


# What each floor's code may import: nothing under libs/ (its tests included) builds on a
# service or a tool; a service builds on libs/ alone (services talk over gRPC, never by import;
# their tests may start the platform in-process, from tools/).
LOWER_FLOORS = {"libs": {"libs"}, "services": {"libs"}}


def _floors() -> dict[str, tuple[str, str]]:
    """Top-level workspace module → (its floor, its member)."""
    return {
        child.name: (member.split("/")[0], member)
        for member in MEMBERS
        for child in (ROOT / member / "src").iterdir()
        if child.is_dir() and child.name.isidentifier()
    }


@pytest.mark.parametrize("member", [member for member in MEMBERS if member.split("/")[0] in LOWER_FLOORS])
def test_a_package_imports_nothing_above_its_floor(member: str):
    floor = member.split("/")[0]
    checked = [ROOT / member / "src"] + ([ROOT / member / "tests"] if floor == "libs" else [])
    upward = sorted(
        module
        for module in _imports([path for path in checked if path.is_dir()])
        if (target := _floors().get(module.split(".")[0])) is not None
        and target[1] != member
        and (target[0] not in LOWER_FLOORS[floor] or target[0] == "services")
    )
    assert upward == [], f"{member} imports from above libs/ or from another service"
