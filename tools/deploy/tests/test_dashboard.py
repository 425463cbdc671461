"""The Grafana dashboard: JSON Grafana imports, on a chosen Prometheus, reading only the
metrics the services export (the drift test in test_charts keeps the file in step)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agyn_deploy import generate

ROOT = Path(__file__).resolve().parents[3]

# What the services export (libs/common and the services' own metrics, in their READMEs).
EXPORTED = {
    "rpc_server_duration_milliseconds_bucket",
    "rpc_server_duration_milliseconds_count",
    "agyn_outbox_pending_rows",
    "agyn_outbox_oldest_age_seconds",
    "agyn_outbox_publish_failures_total",
    "agyn_outbox_publish_latency_seconds_bucket",
    "agyn_notifications_open_streams",
    "agyn_notifications_envelopes_delivered_total",
    "agyn_notifications_streams_overflowed_total",
    "agyn_gateway_open_streams",
    "agyn_gateway_requests_total",
    "agyn_gateway_authentication_failures_total",
    "db_client_connection_count",
    "db_client_connection_max",
    "db_client_connection_wait_time_seconds_bucket",
    "agyn_bus_connected",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
}

_NAME_MATCHER = re.compile(r'__name__\s*=~?\s*"([^"]*)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_LABEL_VALUES = re.compile(r"^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: names in `__name__` matchers, and every
    identifier that is not a function, a keyword, a label or inside a string or a range."""
    names = {name for pattern in _NAME_MATCHER.findall(expr) for name in pattern.split("|")}
    bare = _GROUPING.sub(" ", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", bare)
    for match in _IDENTIFIER.finditer(bare):
        is_call = bare[match.end() :].lstrip().startswith("(")
        if not is_call and match.group() not in _KEYWORDS:
            names.add(match.group())
    return names


def test_metric_names_are_read_from_promql() -> None:
    assert metric_names(
        'histogram_quantile(0.99, sum by (le, job) (rate(a_bucket{job=~"$service", code!="0"}[5m])))'
    ) == {"a_bucket"}
    assert metric_names('sum without (pod) (b) / on (job) group_left c{x="y"}') == {"b", "c"}
    assert metric_names('{__name__=~"d|e"}') == {"d", "e"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / generate.DASHBOARD).read_text())
    return loaded


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # inside a collapsed row


def queries(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            match = _LABEL_VALUES.match(variable["query"])
            assert match, variable["query"]
            yield match.group(1)


def test_every_metric_it_reads_is_exported_and_every_exported_one_is_shown(dashboard) -> None:
    used = {name for expr in queries(dashboard) for name in metric_names(expr)}
    assert used - EXPORTED == set(), "metrics nobody exports"
    assert EXPORTED - used == set(), "metrics without a panel"


def test_it_reads_the_chosen_prometheus_and_the_chosen_services(dashboard) -> None:
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
    service = variables["service"]
    assert service["type"] == "query" and service["multi"] and service["includeAll"]
    assert service["query"].startswith("label_values(") and service["query"].endswith(", job)")
    chosen = {"type": "prometheus", "uid": "${datasource}"}
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == chosen, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == chosen, panel["title"]
            assert 'job=~"$service"' in target["expr"], panel["title"]


def test_red_per_service(dashboard) -> None:
    first_row, *rest = dashboard["panels"]
    assert first_row["type"] == "row" and first_row["repeat"] == "service"
    red_panels = rest[: next(index for index, panel in enumerate(rest) if panel["type"] == "row")]
    red = [target["expr"] for panel in red_panels for target in panel["targets"]]
    assert any('rpc_grpc_status_code!="0"' in expr for expr in red)  # errors
    assert sum("histogram_quantile(" in expr for expr in red) == 2  # p50 and p99


def test_the_layout_is_grafanas(dashboard) -> None:
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36  # Grafana 10+
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
