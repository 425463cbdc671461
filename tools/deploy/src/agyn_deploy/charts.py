"""Building, linting and rendering the charts offline, with the Helm SDK (no helm binary).

The service charts take the library chart from `file://../agyn-service` and the umbrella
takes the service charts the same way, so dependencies are built inside out: services
first, then the umbrella (which packs each service chart together with its library).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

from agyn_deploy.deployables import DEPLOYABLES
from agyn_deploy.generate import HELM, MESH_CHART, UMBRELLA


def build_dependencies(helm_dir: Path) -> list[Path]:
    """`helm dependency update` for every chart that has dependencies, inside out."""
    charts = [helm_dir / deployable.name for deployable in DEPLOYABLES] + [helm_dir / UMBRELLA]
    for chart in charts:
        helm.dependency_update(chart, skip_refresh=True)
    return charts


def mesh_chart(helm_dir: Path) -> Path:
    """The agyn-mesh chart of a deploy tree whose Helm charts are in `helm_dir`."""
    return helm_dir.parent / MESH_CHART.relative_to(HELM.parent)


def lint(chart: Path, values: dict[str, Any] | None = None, namespace: str = "agyn") -> list[str]:
    """`helm lint --strict`: every finding that is not merely informational."""
    report = helm.lint(chart, values, strict=True, namespace=namespace, with_subcharts=True)
    findings = [
        f"{message['path']}: {message['error']}" for message in report["messages"] if message["severity"] > 1
    ]
    return findings + list(report.get("errors") or [])


def render(
    chart: Path, values: dict[str, Any] | None = None, namespace: str = "agyn"
) -> list[dict[str, Any]]:
    """Every object the chart renders for an install into `namespace`."""
    manifests = helm.Chart.load(chart).render(values, name="agyn", namespace=namespace, is_install=True)
    return [
        document
        for path, text in sorted(manifests.items())
        if path.endswith((".yaml", ".yml")) and not path.endswith("NOTES.txt")
        for document in _documents(text)
    ]


def _documents(text: str) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all(text):
        if document:
            yield document
