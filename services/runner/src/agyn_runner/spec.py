"""A StartWorkloadRequest checked and turned into what to run: no I/O here.

Names and paths from the request become file names, so each is checked (a name is
`[A-Za-z0-9][A-Za-z0-9_.-]{0,62}`; a path is normalised under the workload's root, where
`..` cannot climb out). Every error is INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc
from agyn_common.errors import ServiceError, error_info, invalid_argument
from agynio.api.runner.v1 import runner_pb2 as pb

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
ALLOW_ANY = "*"


@dataclass(frozen=True)
class MountPlan:
    volume: str
    path: str  # relative to the workload's root
    read_only: bool


@dataclass(frozen=True)
class ContainerPlan:
    name: str
    role: str  # "init", "main" or "sidecar"
    image: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    working_dir: str  # relative to the workload's root
    mounts: tuple[MountPlan, ...]


@dataclass(frozen=True)
class VolumePlan:
    name: str
    persistent_name: str  # "" for an ephemeral volume
    labels: Mapping[str, str]


@dataclass(frozen=True)
class WorkloadPlan:
    containers: tuple[ContainerPlan, ...]  # init containers first, then main, then sidecars
    volumes: tuple[VolumePlan, ...]
    labels: Mapping[str, str]
    inline_files: tuple[tuple[str, bytes], ...]  # path under the root, content

    @property
    def main(self) -> ContainerPlan:
        return next(container for container in self.containers if container.role == "main")


def _text(field: str, value: str) -> str:
    if "\x00" in value:
        raise invalid_argument(field, "must not contain NUL")
    return value


def _name(field: str, value: str) -> str:
    if not NAME.fullmatch(value):
        raise invalid_argument(field, "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
    return value


def under_root(field: str, path: str) -> str:
    """`path` as seen from the workload's root ("" for the root itself)."""
    return posixpath.normpath("/" + _text(field, path)).lstrip("/")


def command_allowed(executable: str, allowed: frozenset[str]) -> bool:
    """An entry with a slash is an exact path; one without is a command found on PATH."""
    return ALLOW_ANY in allowed or executable in allowed


def _container(
    field: str,
    spec: pb.ContainerSpec,
    role: str,
    default_name: str,
    volumes: set[str],
    allowed: frozenset[str],
) -> ContainerPlan:
    name = _name(f"{field}.name", spec.name or default_name)
    try:
        entrypoint = shlex.split(_text(f"{field}.entrypoint", spec.entrypoint))
    except ValueError as error:
        raise invalid_argument(
            f"{field}.entrypoint", f"cannot be split like a shell would: {error}"
        ) from None
    argv = (*entrypoint, *(_text(f"{field}.cmd[{i}]", part) for i, part in enumerate(spec.cmd)))
    if not argv or not argv[0]:
        raise invalid_argument(f"{field}.cmd", "a command is required (entrypoint, cmd or both)")
    if not command_allowed(argv[0], allowed):
        raise ServiceError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"{field}: this runner does not run {argv[0]!r} (RUNNER_ALLOWED_COMMANDS)",
            [error_info("COMMAND_NOT_ALLOWED", {"field": field, "executable": argv[0]})],
        )
    env = []
    for i, variable in enumerate(spec.env):
        if not variable.name or "=" in variable.name:
            raise invalid_argument(f"{field}.env[{i}].name", "must be non-empty and without '='")
        env.append(
            (_text(f"{field}.env[{i}].name", variable.name), _text(f"{field}.env[{i}].value", variable.value))
        )
    mounts = []
    for i, mount in enumerate(spec.mounts):
        if mount.volume not in volumes:
            raise invalid_argument(f"{field}.mounts[{i}].volume", f"no volume named {mount.volume!r}")
        path = under_root(f"{field}.mounts[{i}].mount_path", mount.mount_path)
        if not path:
            raise invalid_argument(f"{field}.mounts[{i}].mount_path", "a path below / is required")
        mounts.append(MountPlan(mount.volume, path, mount.read_only))
    return ContainerPlan(
        name=name,
        role=role,
        image=spec.image,
        argv=argv,
        env=tuple(env),
        working_dir=under_root(f"{field}.working_dir", spec.working_dir),
        mounts=tuple(mounts),
    )


def _volumes(specs: Iterable[pb.VolumeSpec]) -> tuple[VolumePlan, ...]:
    plans: list[VolumePlan] = []
    for i, spec in enumerate(specs):
        name = _name(f"volumes[{i}].name", spec.name)
        if any(plan.name == name for plan in plans):
            raise invalid_argument(f"volumes[{i}].name", f"volume {name!r} is declared twice")
        if spec.kind == pb.VOLUME_KIND_NAMED:
            persistent = _name(f"volumes[{i}].persistent_name", spec.persistent_name)
        elif spec.kind in (pb.VOLUME_KIND_EPHEMERAL, pb.VOLUME_KIND_UNSPECIFIED):
            persistent = ""
        else:
            raise invalid_argument(f"volumes[{i}].kind", f"unknown volume kind {spec.kind}")
        plans.append(VolumePlan(name, persistent, dict(spec.labels)))
    return tuple(plans)


def plan(request: pb.StartWorkloadRequest, allowed: frozenset[str]) -> WorkloadPlan:
    if not request.HasField("main"):
        raise invalid_argument("main", "the main container is required")
    volumes = _volumes(request.volumes)
    names = {volume.name for volume in volumes}
    containers = (
        *(
            _container(f"init_containers[{i}]", spec, "init", f"init-{i}", names, allowed)
            for i, spec in enumerate(request.init_containers)
        ),
        _container("main", request.main, "main", "main", names, allowed),
        *(
            _container(f"sidecars[{i}]", spec, "sidecar", f"sidecar-{i}", names, allowed)
            for i, spec in enumerate(request.sidecars)
        ),
    )
    seen: set[str] = set()
    for container in containers:
        if container.name in seen:
            raise invalid_argument("main.name", f"container name {container.name!r} is used twice")
        seen.add(container.name)
    inline_files = []
    for path, content in sorted(request.inline_files.items()):
        relative = under_root(f"inline_files[{path!r}]", path)
        if not relative:
            raise invalid_argument(f"inline_files[{path!r}]", "a file path below / is required")
        inline_files.append((relative, content))
    labels = dict(request.labels)
    if request.workload_id and "workload_key" not in labels:
        labels["workload_key"] = _text("workload_id", request.workload_id)
    return WorkloadPlan(containers, volumes, labels, tuple(inline_files))
