"""What the daemon remembers of a workload, as a JSON file in its directory: it survives a
restart of the daemon (its processes may not; see `Workloads.load`)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "workload.json"


@dataclass
class ContainerState:
    name: str
    role: str
    id: str
    image: str
    pid: int = 0
    # The process's start time in clock ticks after boot (/proc/<pid>/stat): a later process
    # that got the same pid is not ours.
    start_ticks: int = 0
    exit_code: int | None = None
    started_at: float = 0.0
    finished_at: float = 0.0


@dataclass
class MountState:
    volume: str
    source: str  # the directory on this machine
    destination: str  # the path the workload asked for
    named: bool
    read_only: bool


@dataclass
class WorkloadState:
    id: str
    name: str
    image: str
    labels: dict[str, str]
    created_at: float
    containers: list[ContainerState]
    mounts: list[MountState]
    # persistent name of every named volume it uses
    named_volumes: list[str] = field(default_factory=list)
    running: bool = False
    failure_code: str = ""
    failure_message: str = ""

    @property
    def workload_key(self) -> str:
        return self.labels.get("workload_key", "")

    def container(self, name: str) -> ContainerState | None:
        return next((container for container in self.containers if container.name == name), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> WorkloadState:
        fields: dict[str, Any] = json.loads(text)
        fields["containers"] = [ContainerState(**item) for item in fields["containers"]]
        fields["mounts"] = [MountState(**item) for item in fields["mounts"]]
        return cls(**fields)


def write_atomically(path: Path, content: str | bytes, mode: int = 0o644) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # a leftover keeps its own mode
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else content)
    partial.replace(path)


def process_start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks after boot), or None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None  # a zombie has ended
    return int(fields[19])
