"""The platform's Grafana dashboard (deploy/grafana/agyn-platform.json), written here as data.

`make generate` writes the JSON with the charts' files, and the same test keeps the committed
file in step. Every query reads the Prometheus chosen in `$datasource` and keeps to the jobs
chosen in `$service`: under the charts' ServiceMonitor a job is a service's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UID = "agyn-platform"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# The jobs that serve RPCs, and the Gateway's, which counts its HTTP requests on its own.
SERVICES_QUERY = (
    'label_values({__name__=~"rpc_server_duration_milliseconds_count|agyn_gateway_requests_total"}, job)'
)
JOBS = 'job=~"$service"'
WIDTH = 24  # Grafana's grid
HEIGHT = 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    unit: str
    queries: tuple[Query, ...]
    width: int = 12
    steps: bool = False  # a state (0 or 1) rather than a measure


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]
    repeat: str | None = None  # one copy of the row per value of this variable


def _rate(metric: str, matchers: str = JOBS) -> str:
    return f"rate({metric}{{{matchers}}}[5m])"


def _quantile(quantile: float, bucket: str, by: str) -> str:
    return f"histogram_quantile({quantile}, sum by (le, {by}) ({_rate(bucket)}))"


RPC_BUCKET = "rpc_server_duration_milliseconds_bucket"
RPC_COUNT = "rpc_server_duration_milliseconds_count"
ERROR = '"0"'  # gRPC's OK, as the status code label carries it

ROWS: tuple[Row, ...] = (
    Row(
        "RED: $service",
        repeat="service",
        panels=(
            Panel(
                "Requests",
                "Calls served per second, by method.",
                "reqps",
                (
                    Query(
                        f"sum by (rpc_service, rpc_method) ({_rate(RPC_COUNT)})",
                        "{{rpc_service}}/{{rpc_method}}",
                    ),
                ),
                width=8,
            ),
            Panel(
                "Errors",
                "Calls per second that ended with a gRPC status other than OK (0), by method and code.",
                "reqps",
                (
                    Query(
                        "sum by (rpc_service, rpc_method, rpc_grpc_status_code) "
                        f"({_rate(RPC_COUNT, JOBS + ', rpc_grpc_status_code!=' + ERROR)})",
                        "{{rpc_method}} {{rpc_grpc_status_code}}",
                    ),
                ),
                width=8,
            ),
            Panel(
                "Latency p50 and p99",
                "Server-side duration of a call, by method.",
                "ms",
                (
                    Query(_quantile(0.5, RPC_BUCKET, "rpc_service, rpc_method"), "p50 {{rpc_method}}"),
                    Query(_quantile(0.99, RPC_BUCKET, "rpc_service, rpc_method"), "p99 {{rpc_method}}"),
                ),
                width=8,
            ),
        ),
    ),
    Row(
        "Outbox",
        (
            Panel(
                "Rows not yet published",
                "Events committed and waiting for the relay; rises while NATS is away.",
                "short",
                (Query(f"max by (job) (agyn_outbox_pending_rows{{{JOBS}}})", "{{job}}"),),
                width=6,
            ),
            Panel(
                "Age of the oldest row",
                "How far behind the relay is.",
                "s",
                (Query(f"max by (job) (agyn_outbox_oldest_age_seconds{{{JOBS}}})", "{{job}}"),),
                width=6,
            ),
            Panel(
                "Publish failures",
                "Publishes that failed, per second; their rows stay and are tried again.",
                "ops",
                (Query(f"sum by (job) ({_rate('agyn_outbox_publish_failures_total')})", "{{job}}"),),
                width=6,
            ),
            Panel(
                "Publish latency p99",
                "How long a publish to NATS takes.",
                "s",
                (Query(_quantile(0.99, "agyn_outbox_publish_latency_seconds_bucket", "job"), "{{job}}"),),
                width=6,
            ),
        ),
    ),
    Row(
        "Streams",
        (
            Panel(
                "Notifications: open streams",
                "Subscribe streams held open.",
                "short",
                (Query(f"sum by (job) (agyn_notifications_open_streams{{{JOBS}}})", "{{job}}"),),
                width=6,
            ),
            Panel(
                "Notifications: envelopes delivered",
                "Envelopes written to subscribers, per second.",
                "ops",
                (
                    Query(
                        f"sum by (job) ({_rate('agyn_notifications_envelopes_delivered_total')})", "{{job}}"
                    ),
                ),
                width=6,
            ),
            Panel(
                "Notifications: streams ended for overflow",
                "Streams closed because their subscriber fell too far behind, per second.",
                "ops",
                (Query(f"sum by (job) ({_rate('agyn_notifications_streams_overflowed_total')})", "{{job}}"),),
                width=6,
            ),
            Panel(
                "Gateway: open relayed streams",
                "Server streams the Gateway relays to its clients.",
                "short",
                (Query(f"sum by (job) (agyn_gateway_open_streams{{{JOBS}}})", "{{job}}"),),
                width=6,
            ),
        ),
    ),
    Row(
        "Gateway",
        (
            Panel(
                "Requests by protocol and status",
                "HTTP requests per second, by protocol (Connect, gRPC, gRPC-Web) and HTTP status.",
                "reqps",
                (
                    Query(
                        f"sum by (protocol, status) ({_rate('agyn_gateway_requests_total')})",
                        "{{protocol}} {{status}}",
                    ),
                ),
            ),
            Panel(
                "Authentication failures",
                "Requests refused for their credential, per second, by kind of credential.",
                "reqps",
                (
                    Query(
                        f"sum by (credential) ({_rate('agyn_gateway_authentication_failures_total')})",
                        "{{credential}}",
                    ),
                ),
            ),
        ),
    ),
    Row(
        "Database pool",
        (
            Panel(
                "Connections",
                "Connections in use and idle, against the pool's maximum, summed over each service's pods.",
                "short",
                (
                    Query(f"sum by (job, state) (db_client_connection_count{{{JOBS}}})", "{{job}} {{state}}"),
                    Query(f"sum by (job) (db_client_connection_max{{{JOBS}}})", "{{job}} max"),
                ),
            ),
            Panel(
                "Wait for a connection p99",
                "How long a call waited for a free connection.",
                "s",
                (Query(_quantile(0.99, "db_client_connection_wait_time_seconds_bucket", "job"), "{{job}}"),),
            ),
        ),
    ),
    Row(
        "Bus and process",
        (
            Panel(
                "Connected to NATS",
                "1 while the pod's bus connection is up.",
                "short",
                (Query(f"agyn_bus_connected{{{JOBS}}}", "{{job}} {{instance}}"),),
                width=8,
                steps=True,
            ),
            Panel(
                "CPU",
                "CPU seconds per second (cores), per pod.",
                "short",
                (Query(f"{_rate('process_cpu_seconds_total')}", "{{job}} {{instance}}"),),
                width=8,
            ),
            Panel(
                "Resident memory",
                "Per pod.",
                "bytes",
                (Query(f"process_resident_memory_bytes{{{JOBS}}}", "{{job}} {{instance}}"),),
                width=8,
            ),
        ),
    ),
)


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    custom: dict[str, Any] = {"lineInterpolation": "stepAfter"} if panel.steps else {}
    defaults: dict[str, Any] = {"unit": panel.unit, "min": 0, "custom": custom}
    if panel.steps:
        defaults["max"] = 1
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": HEIGHT, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [
            {
                "refId": chr(ord("A") + index),
                "datasource": DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
                "range": True,
            }
            for index, query in enumerate(panel.queries)
        ],
    }


def _panels() -> list[dict[str, Any]]:
    """The rows and their panels, left to right and top to bottom, in Grafana's flat list."""
    panels: list[dict[str, Any]] = []
    y = 0
    for row in ROWS:
        header: dict[str, Any] = {
            "id": len(panels) + 1,
            "type": "row",
            "title": row.title,
            "collapsed": False,
            "gridPos": {"h": 1, "w": WIDTH, "x": 0, "y": y},
            "panels": [],
        }
        if row.repeat:
            header["repeat"] = row.repeat
        panels.append(header)
        y += 1
        x = 0
        for panel in row.panels:
            if x + panel.width > WIDTH:
                x, y = 0, y + HEIGHT
            panels.append(_panel(panel, len(panels) + 1, x, y))
            x += panel.width
        y += HEIGHT
    return panels


def _variables() -> list[dict[str, Any]]:
    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
            "options": [],
        },
        {
            "name": "service",
            "label": "Service",
            "type": "query",
            "datasource": DATASOURCE,
            "definition": SERVICES_QUERY,
            "query": SERVICES_QUERY,
            "current": {},
            "hide": 0,
            "refresh": 2,  # on every time range change: a new service shows up
            "multi": True,
            "includeAll": True,
            "sort": 1,
            "regex": "",
            "options": [],
        },
    ]


def dashboard() -> dict[str, Any]:
    return {
        "uid": UID,
        "title": "Agyn platform",
        "description": "RED per service; the outbox, streams, Gateway, database pools, bus and processes.",
        "tags": ["agyn"],
        "editable": True,
        "graphTooltip": 1,  # a shared crosshair across panels
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "timezone": "browser",
        "annotations": {"list": []},
        "templating": {"list": _variables()},
        "panels": _panels(),
    }
