"""Named volumes: directories under the state directory that outlive their workloads, each
with its labels (`volume_key` among them) beside its data."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from agyn_runner.state import write_atomically


class NamedVolumes:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def provide(self, name: str, labels: Mapping[str, str]) -> Path:
        """The volume's data directory, made on first use; its labels are the latest asked for."""
        home = self.directory / name
        (home / "data").mkdir(parents=True, exist_ok=True)
        write_atomically(home / "labels.json", json.dumps(dict(labels)))
        return home / "data"

    def exists(self, name: str) -> bool:
        return (self.directory / name).is_dir()

    def listed(self) -> list[tuple[str, str]]:
        """(name, its `volume_key` label) of every named volume."""
        found = []
        if self.directory.is_dir():
            for home in sorted(self.directory.iterdir()):
                try:
                    labels = json.loads((home / "labels.json").read_text())
                except (OSError, ValueError):
                    labels = {}
                found.append((home.name, str(labels.get("volume_key", ""))))
        return found

    def remove(self, name: str) -> None:
        shutil.rmtree(self.directory / name, ignore_errors=True)
