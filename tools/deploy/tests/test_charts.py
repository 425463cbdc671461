"""The charts, offline: generated files in step with their sources, `helm lint --strict`,
and every object rendered over the flag matrix valid for Kubernetes and Istio."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from agyn_common.access import ANY_WORKLOAD, IdentityRule
from agyn_deploy import charts, generate
from agyn_deploy.deployables import DEPLOYABLES
from agyn_deploy.validate import problems_in
from agyn_files.settings import FilesSettings

ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "agyn"
SERVICES = [deployable.name for deployable in DEPLOYABLES]

METRICS_PORT = 9464  # the charts' default
SCRAPER = {"namespaces": ["monitoring"], "podLabels": {"app.kubernetes.io/name": "prometheus"}}
ALL_OPTIONAL_ON: dict[str, Any] = {
    **{
        name: {
            "podDisruptionBudget": {"enabled": True},
            "autoscaling": {"enabled": True},
            "networkPolicy": {"enabled": True},
            "migrations": {"job": {"enabled": True}},
            "metrics": {
                "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
                "scrapeAnnotations": True,
                "scraper": SCRAPER,
            },
        }
        for name in SERVICES
    },
    "global": {"otel": {"endpoint": "http://collector.observability:4317"}},
    "mesh": {"ingress": {"enabled": True, "apiPathHosts": ["chat.agyn.example.com"]}},
    "nats": {"enabled": True, "storage": "1Gi"},
    "postgresql": {"enabled": True, "storage": "2Gi"},
    "seaweedfs": {"enabled": True, "storage": "1Gi"},
}
MESH_OFF: dict[str, Any] = {
    "global": {"mesh": {"enabled": False}},
    **{name: {"networkPolicy": {"enabled": True}} for name in SERVICES},
    "nats": {"enabled": True},
    "postgresql": {"enabled": True},
    "seaweedfs": {"enabled": True},
}
# An object store outside the cluster, as production has it: another Secret, other keys.
OBJECT_STORE = {
    "endpoint": "https://s3.example.com:9000",
    "publicEndpoint": "files.agyn.example.com",
    "bucket": "agyn-prod-files",
    "region": "eu-west-1",
    "useSSL": True,
    "virtualHostedStyle": True,
    "credentials": {"existingSecret": "files-s3", "accessKeyKey": "AWS_ACCESS_KEY_ID", "secretKeyKey": "key"},
}
EXTERNAL_STORE: dict[str, Any] = {
    "global": {"objectStore": OBJECT_STORE},
    **{d.name: {"networkPolicy": {"enabled": True}} for d in DEPLOYABLES if d.object_store},
}
# A scraper in the mesh (mTLS), known by its principal.
MESH_SCRAPER: dict[str, Any] = {
    name: {
        "networkPolicy": {"enabled": True},
        "metrics": {
            "serviceMonitor": {"enabled": True},
            "scraper": {
                "namespaces": ["monitoring"],
                "principals": ["cluster.local/ns/monitoring/sa/prometheus"],
                "plaintext": False,
            },
        },
    }
    for name in SERVICES
}
# Metrics off, with every metrics switch still on: none of them may render anything.
METRICS_OFF: dict[str, Any] = {
    **ALL_OPTIONAL_ON,
    **{
        name: {**ALL_OPTIONAL_ON[name], "metrics": {**ALL_OPTIONAL_ON[name]["metrics"], "enabled": False}}
        for name in SERVICES
    },
}
KIND = yaml.safe_load((ROOT / "deploy/kind/values.yaml").read_text())  # skaffold's kind profile
SCENARIOS = {
    "defaults": {},
    "all-optional-on": ALL_OPTIONAL_ON,
    "mesh-off": MESH_OFF,
    "mesh-scraper": MESH_SCRAPER,
    "metrics-off": METRICS_OFF,
    "kind": KIND,
    "external-object-store": EXTERNAL_STORE,
}


@pytest.fixture(scope="module")
def helm_dir(tmp_path_factory) -> Path:
    """A copy of deploy/ with every chart's dependencies built (the tree stays untouched)."""
    copy = tmp_path_factory.mktemp("charts") / "deploy"
    shutil.copytree(ROOT / "deploy", copy, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    charts.build_dependencies(copy / "helm")
    return copy / "helm"


def chart_path(helm_dir: Path, chart: str) -> Path:
    return charts.mesh_chart(helm_dir) if chart == generate.MESH else helm_dir / chart


def for_chart(chart: str, umbrella_values: dict[str, Any]) -> dict[str, Any]:
    """A scenario's values as a service chart alone takes them."""
    if chart == generate.UMBRELLA:
        return umbrella_values
    if chart == generate.LIBRARY:
        return {}
    if chart == generate.MESH:
        return umbrella_values.get("mesh", {})
    return {"global": umbrella_values.get("global", {}), **umbrella_values.get(chart, {})}


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def secret_ref(name: str, key: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": name, "key": key}}


def test_generated_files_are_in_step_with_the_service_table_and_the_access_declarations():
    assert generate.drift(ROOT) == [], "run `make generate` and commit the result"


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("chart", [generate.LIBRARY, generate.MESH, *SERVICES, generate.UMBRELLA])
def test_helm_lint_strict(helm_dir, chart, scenario):
    assert charts.lint(chart_path(helm_dir, chart), for_chart(chart, SCENARIOS[scenario]), NAMESPACE) == []


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("chart", [generate.MESH, *SERVICES, generate.UMBRELLA])
def test_every_rendered_object_is_valid(helm_dir, chart, scenario):
    objects = charts.render(chart_path(helm_dir, chart), for_chart(chart, SCENARIOS[scenario]), NAMESPACE)
    assert objects
    assert problems_in(objects) == []


def test_the_umbrella_renders_each_service_with_its_identity_and_policy(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, {}, NAMESPACE)
    for kind in ("Deployment", "Service", "ServiceAccount", "AuthorizationPolicy"):
        assert set(SERVICES) <= set(by_kind(objects, kind)), kind
    assert by_kind(objects, "PeerAuthentication")["default"]["spec"] == {"mtls": {"mode": "STRICT"}}
    assert by_kind(objects, "AuthorizationPolicy")["allow-nothing"]["spec"] == {}
    deployments = by_kind(objects, "Deployment")
    for deployable in DEPLOYABLES:
        pod = deployments[deployable.name]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert pod["serviceAccountName"] == deployable.name
        annotations = deployments[deployable.name]["spec"]["template"]["metadata"]["annotations"]
        assert yaml.safe_load(annotations["proxy.istio.io/config"]) == {
            "holdApplicationUntilProxyStarts": True,
            "terminationDrainDuration": "30s",  # the sidecar outlives the service's stop
        }
        assert container["ports"] == [
            {"name": deployable.port_name, "containerPort": deployable.port, "protocol": "TCP"},
            *(
                {"name": http.endpoint, "containerPort": http.port, "protocol": "TCP"}
                for http in deployable.local.http_ports
            ),
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ]
        assert container["readinessProbe"]["grpc"] == {"port": deployable.port}
        assert container["livenessProbe"]["grpc"] == {"port": deployable.port, "service": "liveness"}
        assert container["startupProbe"]["grpc"] == {"port": deployable.port, "service": "liveness"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        environment = env_of(deployments[deployable.name])
        assert environment["AGYN_ACCESS_MODE"] == "mesh"
        if deployable.local.database:  # the DSN by reference only
            assert environment["DATABASE_URL"] == {
                "secretKeyRef": {"name": "agyn-database-urls", "key": deployable.name}
            }
        for callee in deployable.calls:
            port = next(d.port for d in DEPLOYABLES if d.name == callee)
            assert environment[f"{callee.upper()}_ADDRESS"] == f"{callee}:{port}", deployable.name
        if deployable.object_store:  # the development SeaweedFS by default, keys by reference
            assert {name: value for name, value in environment.items() if name.startswith("S3_")} == {
                "S3_ENDPOINT": "seaweedfs:8333",
                "S3_PUBLIC_ENDPOINT": "",
                "S3_BUCKET": "agyn-files",
                "S3_REGION": "us-east-1",
                "S3_USE_SSL": "false",
                "S3_VIRTUAL_HOSTED_STYLE": "false",
                "S3_ACCESS_KEY": secret_ref("agyn-object-store", "access-key"),
                "S3_SECRET_KEY": secret_ref("agyn-object-store", "secret-key"),
            }
        else:
            assert not [name for name in environment if name.startswith("S3_")], deployable.name
        service_port = by_kind(objects, "Service")[deployable.name]["spec"]["ports"][0]
        assert (service_port["name"], service_port["appProtocol"]) == (deployable.port_name,) * 2
    assert by_kind(objects, "Service")["gateway"]["spec"]["ports"][0]["name"] == "http2"
    # Threads checks SendMessage's file ids with Files; the Gateway serves the Files API.
    for caller in ("threads", "gateway"):
        assert env_of(deployments[caller])["FILES_ADDRESS"] == "files:50051"
    # No development dependency unless asked for.
    assert not by_kind(objects, "StatefulSet")
    assert not by_kind(objects, "Secret")


def admitted(policy: dict[str, Any]) -> dict[tuple[str, str], bool]:
    """(calling ServiceAccount, gRPC path) -> whether every rule admitting it wants an identity."""
    result: dict[tuple[str, str], bool] = {}
    for rule in policy["spec"]["rules"]:
        principals = [p for source in rule.get("from", []) for p in source["source"].get("principals", [])]
        paths = [p for target in rule.get("to", []) for p in target["operation"].get("paths", [])]
        needs_identity = any(
            condition == {"key": "request.headers[x-identity-id]", "values": ["*"]}
            for condition in rule.get("when", [])
        )
        for principal in principals:
            prefix = f"cluster.local/ns/{NAMESPACE}/sa/"
            assert principal.startswith(prefix), principal
            for path in paths:
                key = (principal.removeprefix(prefix), path)
                result[key] = result.get(key, True) and needs_identity
    return result


@pytest.mark.parametrize(
    "deployable", [d for d in DEPLOYABLES if d.access() is not None], ids=lambda d: d.name
)
def test_the_rendered_policy_admits_exactly_what_the_declaration_does(helm_dir, deployable):
    objects = charts.render(helm_dir / generate.UMBRELLA, {}, NAMESPACE)
    policy = by_kind(objects, "AuthorizationPolicy")[deployable.name]
    declaration = deployable.access()
    assert declaration is not None
    expected: dict[tuple[str, str], bool] = {}
    for path, grants in declaration.methods.items():
        for grant in grants:
            for caller in grant.callers - {ANY_WORKLOAD}:  # open paths: the open rule, below
                required = grant.identity is IdentityRule.REQUIRED
                expected[(caller, path)] = expected.get((caller, path), True) and required
    assert admitted(policy) == expected
    open_rule = policy["spec"]["rules"][0]
    assert "from" not in open_rule  # health and reflection: any caller (probes, tooling)
    assert "/grpc.health.v1.Health/*" in open_rule["to"][0]["operation"]["paths"]
    assert set(declaration.open_paths) <= set(open_rule["to"][0]["operation"]["paths"])
    # Whoever the service table says calls this service gets through its policy.
    callers = {caller for caller, _ in admitted(policy)}
    assert {d.name for d in DEPLOYABLES if deployable.name in d.calls} <= callers


def test_optional_objects_when_switched_on(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, ALL_OPTIONAL_ON, NAMESPACE)
    for kind in ("PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"):
        assert set(SERVICES) <= set(by_kind(objects, kind)), kind
    deployments = by_kind(objects, "Deployment")
    assert all("replicas" not in deployment["spec"] for deployment in deployments.values())  # HPA's
    jobs = by_kind(objects, "Job")
    with_database = [d.name for d in DEPLOYABLES if d.local.database]
    assert set(jobs) == {f"{name}-migrate" for name in with_database}
    for name in with_database:
        job = jobs[f"{name}-migrate"]
        assert job["spec"]["template"]["metadata"]["annotations"] == {"sidecar.istio.io/inject": "false"}
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
        assert env_of(deployments[name])["MIGRATE_ON_START"] == "false"
    assert (
        env_of(deployments["users"])["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.observability:4317"
    )
    # The users service admits its declared callers and reaches only what it calls.
    users_policy = by_kind(objects, "NetworkPolicy")["users"]["spec"]
    callers = users_policy["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert "gateway" in callers and "threads" in callers
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "organizations"}}} in [
        target for rule in users_policy["egress"] for target in rule.get("to", [])
    ]
    # Dev dependencies outside the mesh, with one database per service.
    statefulsets = by_kind(objects, "StatefulSet")
    assert set(statefulsets) == {"nats", "postgresql", "seaweedfs"}
    for statefulset in statefulsets.values():
        annotations = statefulset["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {"sidecar.istio.io/inject": "false"}
        pod = statefulset["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
        assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert set(by_kind(objects, "Secret")["agyn-database-urls"]["stringData"]) == set(with_database)


def test_ingress_routes_the_subdomain_and_the_api_prefix(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, ALL_OPTIONAL_ON, NAMESPACE)
    services = by_kind(objects, "VirtualService")
    gateway_port = next(d.port for d in DEPLOYABLES if d.name == "gateway")  # the chart's own default
    destination = {"host": f"gateway.{NAMESPACE}.svc.cluster.local", "port": {"number": gateway_port}}
    subdomain = services["gateway"]["spec"]
    assert subdomain["hosts"] == ["gateway.agyn.example.com"]
    assert subdomain["http"][0]["route"] == [{"destination": destination}]
    prefix = services["gateway-api-path"]["spec"]
    assert prefix["hosts"] == ["chat.agyn.example.com"]
    assert prefix["http"][0]["match"] == [{"uri": {"prefix": "/api/"}}, {"uri": {"exact": "/api"}}]
    assert prefix["http"][0]["rewrite"] == {"uri": "/"}
    assert prefix["http"][0]["route"] == [{"destination": destination}]
    # The gateway's own policy admits the ingress gateway.
    gateway_rules = by_kind(objects, "AuthorizationPolicy")["gateway"]["spec"]["rules"]
    assert {
        "from": [
            {
                "source": {
                    "principals": ["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"]
                }
            }
        ]
    } in gateway_rules


def test_without_the_mesh_no_istio_objects_and_services_trust_the_network(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, MESH_OFF, NAMESPACE)
    assert not [obj for obj in objects if "istio.io" in obj["apiVersion"]]
    for deployment in by_kind(objects, "Deployment").values():
        assert env_of(deployment)["AGYN_ACCESS_MODE"] == "network"


def test_the_stop_fits_in_the_pods_termination_and_readiness_follows_it_quickly(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, {}, NAMESPACE)
    for name, deployment in by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        environment = env_of(deployment)
        lame_duck = float(environment["SHUTDOWN_LAME_DUCK_SECONDS"])
        grace = float(environment["SHUTDOWN_GRACE_SECONDS"])
        assert (lame_duck, grace) == (5, 20), name
        # SIGKILL only after the lame duck, the grace and a margin to close.
        assert pod["terminationGracePeriodSeconds"] == 30, name
        # Readiness sees NOT_SERVING well inside the lame duck: the pod leaves the endpoints
        # while it still serves every call.
        probe = pod["containers"][0]["readinessProbe"]
        detected = probe["periodSeconds"] * probe["failureThreshold"] + probe.get("timeoutSeconds", 1)
        assert detected < lame_duck, name


def test_a_longer_stop_lengthens_the_termination_and_a_too_short_one_is_refused(helm_dir):
    def users(chart: str, values: dict[str, Any]) -> dict[str, Any]:
        return by_kind(charts.render(helm_dir / chart, values, NAMESPACE), "Deployment")["users"]

    longer = users(generate.UMBRELLA, {"users": {"shutdown": {"lameDuckSeconds": 10, "graceSeconds": 60}}})
    assert longer["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 75
    proxy = yaml.safe_load(longer["spec"]["template"]["metadata"]["annotations"]["proxy.istio.io/config"])
    assert proxy["terminationDrainDuration"] == "75s"
    assert env_of(longer)["SHUTDOWN_GRACE_SECONDS"] == "60"
    explicit = users("users", {"terminationGracePeriodSeconds": 40})
    assert explicit["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 40
    with pytest.raises(helm.HelmError, match="must be longer than"):
        charts.render(helm_dir / "users", {"terminationGracePeriodSeconds": 25}, NAMESPACE)


def test_values_are_checked_against_the_schema(helm_dir):
    with pytest.raises(helm.HelmValuesError, match="replica"):
        charts.render(helm_dir / generate.UMBRELLA, {"users": {"replica": 2}}, NAMESPACE)
    with pytest.raises(helm.HelmValuesError, match="natsUrl"):
        charts.render(helm_dir / "users", {"global": {"natsUrl": "http://nats:4222"}}, NAMESPACE)


def test_the_umbrella_states_the_same_global_defaults_as_every_service_chart():
    umbrella = yaml.safe_load((ROOT / generate.HELM / generate.UMBRELLA / "values.yaml").read_text())
    for name in SERVICES:
        service = yaml.safe_load((ROOT / generate.HELM / name / "values.yaml").read_text())
        assert umbrella["global"] == service["global"], name


def port_names(ports: list[dict[str, Any]]) -> list[str]:
    return [port["name"] for port in ports]


def metrics_rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The AuthorizationPolicy rules of the metrics port."""
    return [
        rule
        for rule in policy["spec"]["rules"]
        if rule.get("to", [{}])[0].get("operation", {}).get("ports") == [str(METRICS_PORT)]
    ]


def metrics_ingress(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The NetworkPolicy ingress rules that open the metrics port."""
    return [
        rule
        for rule in policy["spec"].get("ingress") or []
        if {"port": METRICS_PORT, "protocol": "TCP"} in rule.get("ports", [])
    ]


def test_every_workload_serves_metrics_on_a_port_of_its_own(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, {}, NAMESPACE)
    deployments, services = by_kind(objects, "Deployment"), by_kind(objects, "Service")
    policies = by_kind(objects, "AuthorizationPolicy")
    peer_authentications = by_kind(objects, "PeerAuthentication")
    for name in SERVICES:
        assert env_of(deployments[name])["METRICS_PORT"] == str(METRICS_PORT), name
        assert {
            "name": "metrics",
            "port": METRICS_PORT,
            "targetPort": "metrics",
            "appProtocol": "http",
            "protocol": "TCP",
        } in services[name]["spec"]["ports"], name
        annotations = deployments[name]["spec"]["template"]["metadata"]["annotations"]
        assert not [key for key in annotations if key.startswith("prometheus.io/")], name
        # The mesh admits the port from any source (an out-of-mesh scraper has no principal),
        # in plain text there and nowhere else.
        (rule,) = metrics_rules(policies[name])
        assert rule == {"to": [{"operation": {"ports": [str(METRICS_PORT)]}}]}, name
        assert peer_authentications[f"{name}-metrics"]["spec"] == {
            "selector": {
                "matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "agyn"}
            },
            "portLevelMtls": {str(METRICS_PORT): {"mode": "PERMISSIVE"}},
        }
    assert not by_kind(objects, "ServiceMonitor")


def test_a_service_monitor_per_service_on_its_metrics_port(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, ALL_OPTIONAL_ON, NAMESPACE)
    monitors, services = by_kind(objects, "ServiceMonitor"), by_kind(objects, "Service")
    assert set(monitors) == set(SERVICES)
    for name, monitor in monitors.items():
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= services[name]["metadata"]["labels"].items()
        assert [s for s in services.values() if selector.items() <= s["metadata"]["labels"].items()] == [
            services[name]
        ]
        assert monitor["spec"]["endpoints"] == [
            {"port": "metrics", "path": "/metrics", "scheme": "http", "interval": "30s"}
        ]
        assert "metrics" in port_names(services[name]["spec"]["ports"])
    users = charts.render(
        helm_dir / "users", {"metrics": {"serviceMonitor": {"enabled": True, "interval": ""}}}, NAMESPACE
    )
    assert by_kind(users, "ServiceMonitor")["users"]["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "scheme": "http"}
    ]


def test_scrape_annotations_on_the_pod(helm_dir):
    values = {"metrics": {"scrapeAnnotations": True}, "podAnnotations": {"prometheus.io/path": "/other"}}
    for mesh in (True, False):
        objects = charts.render(
            helm_dir / "gateway", {"global": {"mesh": {"enabled": mesh}}, **values}, NAMESPACE
        )
        annotations = by_kind(objects, "Deployment")["gateway"]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(METRICS_PORT)
        assert annotations["prometheus.io/path"] == "/other"  # podAnnotations have the last word
        assert ("proxy.istio.io/config" in annotations) is mesh


def test_the_network_policy_admits_the_scraper_from_its_namespaces_only(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, ALL_OPTIONAL_ON, NAMESPACE)
    for name, policy in by_kind(objects, "NetworkPolicy").items():
        (rule,) = metrics_ingress(policy)
        assert rule["from"] == [
            {
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["monitoring"]}
                    ]
                },
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            }
        ], name
        # The annotations send the scraper to Istio's agent, which serves the merged metrics.
        assert rule["ports"] == [
            {"port": METRICS_PORT, "protocol": "TCP"},
            {"port": 15020, "protocol": "TCP"},
        ], name
    # Without the mesh or the annotations: the metrics port alone.
    users = {"networkPolicy": {"enabled": True}, "metrics": {"scraper": {"namespaces": ["monitoring"]}}}
    for values in ({"global": {"mesh": {"enabled": False}}, **users}, users):
        (rule,) = metrics_ingress(
            by_kind(charts.render(helm_dir / "users", values, NAMESPACE), "NetworkPolicy")["users"]
        )
        assert rule["ports"] == [{"port": METRICS_PORT, "protocol": "TCP"}]
        assert "podSelector" not in rule["from"][0]
    # No namespaces: no scraper gets through.
    objects = charts.render(helm_dir / "users", {"networkPolicy": {"enabled": True}}, NAMESPACE)
    assert metrics_ingress(by_kind(objects, "NetworkPolicy")["users"]) == []


def test_a_scraper_in_the_mesh_is_admitted_by_principal_over_mtls_only(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, MESH_SCRAPER, NAMESPACE)
    policies = by_kind(objects, "AuthorizationPolicy")
    for name in SERVICES:
        assert metrics_rules(policies[name]) == [
            {
                "to": [{"operation": {"ports": [str(METRICS_PORT)]}}],
                "from": [{"source": {"principals": ["cluster.local/ns/monitoring/sa/prometheus"]}}],
            }
        ], name
    assert set(by_kind(objects, "PeerAuthentication")) == {"default"}  # STRICT everywhere
    assert set(by_kind(objects, "ServiceMonitor")) == set(SERVICES)


def test_with_metrics_off_nothing_of_them_is_rendered(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, METRICS_OFF, NAMESPACE)
    assert not by_kind(objects, "ServiceMonitor")
    assert set(by_kind(objects, "PeerAuthentication")) == {"default"}
    for name in SERVICES:
        deployment = by_kind(objects, "Deployment")[name]
        assert env_of(deployment)["METRICS_PORT"] == "0"
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert "metrics" not in port_names(container["ports"])
        assert "metrics" not in port_names(by_kind(objects, "Service")[name]["spec"]["ports"])
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert not [key for key in annotations if key.startswith("prometheus.io/")]
        assert metrics_rules(by_kind(objects, "AuthorizationPolicy")[name]) == []
        assert metrics_ingress(by_kind(objects, "NetworkPolicy")[name]) == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"metrics": {"port": 50051}}, "must differ from port"),
        (
            {"metrics": {"scraper": {"principals": ["cluster.local/ns/monitoring/sa/prometheus"]}}},
            "plaintext",
        ),
        ({"metrics": {"scraper": {"podLabels": {"app": "prometheus"}}}}, "list the scraper's namespaces"),
    ],
)
def test_contradictory_metrics_values_are_refused(helm_dir, values, message):
    with pytest.raises(helm.HelmError, match=message):
        charts.render(helm_dir / "users", values, NAMESPACE)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"metrics": {"scraper": {"principals": ["*"]}}}, "principals"),
        ({"metrics": {"serviceMonitor": {"interval": "30 seconds"}}}, "interval"),
        ({"metrics": {"port": 0}}, "port"),
    ],
)
def test_metrics_values_are_checked_against_the_schema(helm_dir, values, field):
    with pytest.raises(helm.HelmValuesError, match=field):
        charts.render(helm_dir / "users", values, NAMESPACE)


def test_the_development_seaweedfs_serves_s3_with_the_credentials_files_reads(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, {"seaweedfs": {"enabled": True}}, NAMESPACE)
    assert by_kind(objects, "Secret")["agyn-object-store"]["stringData"] == {
        "access-key": "agyn-dev",
        "secret-key": "agyn-dev-secret",
    }
    service = by_kind(objects, "Service")["seaweedfs"]["spec"]
    assert [(port["port"], port["targetPort"]) for port in service["ports"]] == [(8333, "s3")]
    statefulset = by_kind(objects, "StatefulSet")["seaweedfs"]
    assert service["selector"].items() <= statefulset["spec"]["template"]["metadata"]["labels"].items()
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("chrislusf/seaweedfs:")
    assert container["args"][1] == "server"
    # S3 on the pod's address; the bucket made on the first upload, for the admin identity.
    assert {"-s3", "-s3.port=8333", "-s3.ip.bind=0.0.0.0", "-s3.autoCreateBucket=true"} <= set(
        container["args"]
    )
    assert {port["name"]: port["containerPort"] for port in container["ports"]} == {"s3": 8333}
    # Its admin identity is what the Files service is given, from the same Secret.
    environment = env_of(statefulset)
    files = env_of(by_kind(objects, "Deployment")["files"])
    assert environment == {
        "AWS_ACCESS_KEY_ID": files["S3_ACCESS_KEY"],
        "AWS_SECRET_ACCESS_KEY": files["S3_SECRET_KEY"],
    }
    assert files["S3_ENDPOINT"] == f"seaweedfs:{service['ports'][0]['port']}"
    # Other credentials keys: the Secret and both readers follow.
    credentials = {"existingSecret": "s3-dev", "accessKeyKey": "id", "secretKeyKey": "secret"}
    objects = charts.render(
        helm_dir / generate.UMBRELLA,
        {"seaweedfs": {"enabled": True}, "global": {"objectStore": {"credentials": credentials}}},
        NAMESPACE,
    )
    assert set(by_kind(objects, "Secret")["s3-dev"]["stringData"]) == {"id", "secret"}
    assert env_of(by_kind(objects, "StatefulSet")["seaweedfs"])["AWS_ACCESS_KEY_ID"] == secret_ref(
        "s3-dev", "id"
    )
    assert env_of(by_kind(objects, "Deployment")["files"])["S3_SECRET_KEY"] == secret_ref("s3-dev", "secret")


@pytest.mark.parametrize("chart", [generate.UMBRELLA, *[d.name for d in DEPLOYABLES if d.object_store]])
def test_an_object_store_outside_the_cluster_is_read_from_global_values(helm_dir, chart):
    objects = charts.render(helm_dir / chart, for_chart(chart, EXTERNAL_STORE), NAMESPACE)
    assert not by_kind(objects, "StatefulSet")  # no development store
    assert not [secret for secret in by_kind(objects, "Secret") if secret != "agyn-database-urls"]
    for deployable in (d for d in DEPLOYABLES if d.object_store and chart in (d.name, generate.UMBRELLA)):
        deployment = by_kind(objects, "Deployment")[deployable.name]
        environment = env_of(deployment)
        assert {name: value for name, value in environment.items() if name.startswith("S3_")} == {
            "S3_ENDPOINT": "https://s3.example.com:9000",
            "S3_PUBLIC_ENDPOINT": "files.agyn.example.com",
            "S3_BUCKET": "agyn-prod-files",
            "S3_REGION": "eu-west-1",
            "S3_USE_SSL": "true",
            "S3_VIRTUAL_HOSTED_STYLE": "true",
            "S3_ACCESS_KEY": secret_ref("files-s3", "AWS_ACCESS_KEY_ID"),
            "S3_SECRET_KEY": secret_ref("files-s3", "key"),
        }
        # The credentials never appear as a literal value anywhere in the container.
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert not [item for item in container["env"] if item["name"].endswith("_KEY") and "value" in item]
        # The NetworkPolicy lets it reach the store's port.
        egress = by_kind(objects, "NetworkPolicy")[deployable.name]["spec"]["egress"]
        assert {"ports": [{"port": 9000, "protocol": "TCP"}]} in egress


@pytest.mark.parametrize(
    ("endpoint", "use_ssl", "port"),
    [
        ("seaweedfs:8333", False, 8333),
        ("", False, 443),  # AWS S3
        ("s3.example.com", True, 443),
        ("s3.example.com", False, 80),
        ("https://s3.example.com", False, 443),
        ("http://s3.example.com/", True, 80),  # the scheme wins over useSSL
        ("http://minio.storage:9000/", False, 9000),
    ],
)
def test_the_network_policy_opens_the_object_stores_port(helm_dir, endpoint, use_ssl, port):
    values = {
        "global": {"objectStore": {"endpoint": endpoint, "useSSL": use_ssl}},
        "networkPolicy": {"enabled": True, "egressPorts": []},
    }
    (files,) = [d.name for d in DEPLOYABLES if d.object_store]
    policy = by_kind(charts.render(helm_dir / files, values, NAMESPACE), "NetworkPolicy")[files]
    assert [rule for rule in policy["spec"]["egress"] if "to" not in rule] == [
        {"ports": [{"port": port, "protocol": "TCP"}]}
    ]
    # A service without an object store opens no such port.
    users = by_kind(charts.render(helm_dir / "users", values, NAMESPACE), "NetworkPolicy")["users"]
    assert [rule for rule in users["spec"]["egress"] if "to" not in rule] == []


def test_tracing_serves_otlp_http_on_a_port_open_to_any_workload(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, ALL_OPTIONAL_ON, NAMESPACE)
    deployment = by_kind(objects, "Deployment")["tracing"]
    assert env_of(deployment)["OTLP_HTTP_PORT"] == "4318"
    assert {
        "name": "otlp-http",
        "port": 4318,
        "targetPort": "otlp-http",
        "appProtocol": "http",
        "protocol": "TCP",
    } in by_kind(objects, "Service")["tracing"]["spec"]["ports"]
    # The mesh lets any caller POST OTLP/HTTP's path there, and nothing else; so does the network.
    policy = by_kind(objects, "AuthorizationPolicy")["tracing"]
    http_rules = [rule for rule in policy["spec"]["rules"] if rule not in metrics_rules(policy)]
    assert {
        "to": [{"operation": {"ports": ["4318"], "methods": ["POST"], "paths": ["/v1/traces"]}}]
    } in http_rules
    ingress = by_kind(objects, "NetworkPolicy")["tracing"]["spec"]["ingress"]
    assert {"ports": [{"port": 4318, "protocol": "TCP"}]} in ingress
    # Other services have no HTTP port.
    assert "OTLP_HTTP_PORT" not in env_of(by_kind(objects, "Deployment")["users"])
    assert port_names(by_kind(objects, "Service")["users"]["spec"]["ports"]) == ["grpc", "metrics"]


def test_the_otlp_endpoint_reaches_every_service_named_as_a_platform_producer(helm_dir):
    objects = charts.render(helm_dir / generate.UMBRELLA, {}, NAMESPACE)
    for name, deployment in by_kind(objects, "Deployment").items():
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env_of(deployment), name  # default: no export
    endpoint = "http://tracing:50051"  # the platform's own Tracing
    values: dict[str, Any] = {
        "global": {"otel": {"endpoint": endpoint}},
        **{name: {"networkPolicy": {"enabled": True, "egressPorts": []}} for name in SERVICES},
    }
    objects = charts.render(helm_dir / generate.UMBRELLA, values, NAMESPACE)
    for name in SERVICES:
        environment = env_of(by_kind(objects, "Deployment")[name])
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == endpoint, name
        # Named without the mesh too, where x-agyn-caller is how Tracing knows a platform service.
        assert environment["OTEL_EXPORTER_OTLP_HEADERS"] == f"x-agyn-caller={name}", name
        egress = by_kind(objects, "NetworkPolicy")[name]["spec"]["egress"]
        assert {"ports": [{"port": 50051, "protocol": "TCP"}]} in egress, name
    # Headers of the operator's own (a collector's credential) replace ours.
    headers = {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer x"}
    users = charts.render(
        helm_dir / "users", {"global": {"otel": {"endpoint": endpoint, "env": headers}}}, NAMESPACE
    )
    container = by_kind(users, "Deployment")["users"]["spec"]["template"]["spec"]["containers"][0]
    assert [item["value"] for item in container["env"] if item["name"] == "OTEL_EXPORTER_OTLP_HEADERS"] == [
        "authorization=Bearer x"
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"global": {"objectStore": {"bucket": "Agyn_Files"}}}, "bucket"),
        ({"global": {"objectStore": {"credentials": {"existingSecret": ""}}}}, "existingSecret"),
        ({"global": {"objectStore": {"credentials": {"accessKeyKey": "a key"}}}}, "accessKeyKey"),
        ({"global": {"objectStore": {"accessKey": "AKIA..."}}}, "accessKey"),  # no literal credentials
        ({"objectStore": {"enabled": "yes"}}, "enabled"),
    ],
)
def test_object_store_values_are_checked_against_the_schema(helm_dir, values, field):
    with pytest.raises(helm.HelmValuesError, match=field):
        charts.render(helm_dir / "files", values, NAMESPACE)


def test_the_files_chart_states_the_services_own_defaults():
    (files,) = [d for d in DEPLOYABLES if d.object_store]
    settings = FilesSettings.model_validate(
        {
            "database_url": "postgresql://x@db/files",
            "s3_bucket": "bucket",
            "s3_access_key": "a",
            "s3_secret_key": "b",
        }
        | {name.lower(): value for name, value in files.settings.items()}
    )
    defaults = FilesSettings.model_fields
    assert settings.max_file_size == defaults["max_file_size"].default
    assert settings.url_expiry == defaults["url_expiry"].default
    umbrella = yaml.safe_load((ROOT / generate.HELM / generate.UMBRELLA / "values.yaml").read_text())
    assert umbrella[files.name]["settings"] == files.settings
