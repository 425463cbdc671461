"""The offline checks of rendered objects: what passes and what each rule catches."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from agyn_deploy.validate import (
    CUSTOM_SCHEMAS,
    KUBERNETES_VERSION,
    authorization_policy_problems,
    object_problems,
    problems_in,
)

PRINCIPAL = "cluster.local/ns/agyn/sa/gateway"


def deployment() -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "users"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "users", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "users",
                    "containers": [
                        {
                            "name": "users",
                            "image": "ghcr.io/agynio/users:0.1.0",
                            "args": ["serve"],
                            "ports": [{"name": "grpc", "containerPort": 50051}],
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                        }
                    ],
                },
            },
        },
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "users"},
        "spec": {
            "selector": {"app.kubernetes.io/name": "users"},
            "ports": [{"name": "grpc", "port": 50051, "targetPort": "grpc", "appProtocol": "grpc"}],
        },
    }


def service_account() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "users"}}


def authorization_policy() -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "users"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "users"}},
            "action": "ALLOW",
            "rules": [
                {
                    "from": [{"source": {"principals": [PRINCIPAL]}}],
                    "to": [
                        {
                            "operation": {
                                "methods": ["POST"],
                                "paths": [
                                    "/agynio.api.users.v1.UsersService/GetMe",
                                    "/grpc.health.v1.Health/*",
                                ],
                            }
                        }
                    ],
                    "when": [{"key": "request.headers[x-agyn-organization]", "values": ["*"]}],
                }
            ],
        },
    }


def operation(policy: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = policy["spec"]["rules"][0]["to"][0]["operation"]
    return operation


def peer_authentication(mode: str) -> dict[str, Any]:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default"},
        "spec": {"mtls": {"mode": mode}},
    }


def service_monitor() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "users", "labels": {"release": "prometheus"}},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "users"}},
            "endpoints": [{"port": "metrics", "path": "/metrics", "scheme": "http", "interval": "30s"}],
        },
    }


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "agyn"},
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [
                {
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": ["agyn.example.com"],
                    "tls": {"mode": "SIMPLE", "credentialName": "agyn-tls", "minProtocolVersion": "TLSV1_2"},
                },
                {
                    "port": {"number": 80, "name": "http", "protocol": "HTTP"},
                    "hosts": ["agyn.example.com"],
                    "tls": {"httpsRedirect": True},
                },
            ],
        },
    }


def virtual_service() -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "agyn"},
        "spec": {
            "hosts": ["agyn.example.com"],
            "gateways": ["agyn"],
            "http": [
                {
                    "name": "api",
                    "match": [{"uri": {"prefix": "/api/"}}],
                    "rewrite": {"uri": "/"},
                    "route": [
                        {"destination": {"host": "gateway.agyn.svc.cluster.local", "port": {"number": 8080}}}
                    ],
                    "timeout": "30s",
                    "retries": {"attempts": 2, "perTryTimeout": "10s", "retryOn": "unavailable"},
                    "corsPolicy": {"allowOrigins": [{"exact": "https://app.example.com"}], "maxAge": "24h"},
                }
            ],
        },
    }


def test_the_kubernetes_schemas_for_the_supported_version_are_shipped() -> None:
    schemas = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    assert (schemas / f"v{KUBERNETES_VERSION}-local-strict" / "deployment-apps-v1.json").is_file()


@pytest.mark.parametrize("schema_file", sorted(CUSTOM_SCHEMAS.values()))
def test_custom_schema_files_are_valid_schemas(schema_file: str) -> None:
    path = resources.files("agyn_deploy") / "schemas" / schema_file
    jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_a_service_s_core_objects_pass() -> None:
    assert problems_in([deployment(), service(), service_account()]) == []


def test_a_grpc_probe_passes() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = {
        "grpc": {"port": 50051, "service": "liveness"}
    }
    assert object_problems(obj) == []


def test_an_unknown_field_is_reported_with_its_path() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    (problem,) = object_problems(obj)
    assert problem.startswith("Deployment/users: $.spec.template.spec.containers[0]: ")
    assert "'imagePullPolicyy' was unexpected" in problem


def test_a_missing_selector_is_reported() -> None:
    obj = deployment()
    del obj["spec"]["selector"]
    assert object_problems(obj) == ["Deployment/users: $.spec: 'selector' is a required property"]


def test_a_missing_name_and_a_null_label_are_reported() -> None:
    obj = service_account()
    obj["metadata"] = {"labels": {"version": None}}
    assert object_problems(obj) == [
        "ServiceAccount/<no name>: $.metadata.name: required, a non-empty string",
        "ServiceAccount/<no name>: $.metadata.labels.version: null, not a string",
    ]


def test_missing_api_version_and_kind_are_problems_not_exceptions() -> None:
    assert object_problems({"metadata": {"name": "x"}}) == [
        "<no kind>/x: $.apiVersion: required, a non-empty string",
        "<no kind>/x: $.kind: required, a non-empty string",
    ]


def test_an_unknown_kind_is_reported() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert object_problems(obj) == ["Widget/w: no schema for example.com/v1 Widget"]


def test_an_older_istio_api_version_has_no_schema() -> None:
    policy = authorization_policy()
    policy["apiVersion"] = "security.istio.io/v1beta1"
    assert object_problems(policy) == [
        "AuthorizationPolicy/users: no schema for security.istio.io/v1beta1 AuthorizationPolicy"
    ]


def test_a_grpc_authorization_policy_passes() -> None:
    assert problems_in([authorization_policy()]) == []


def test_the_deny_all_policy_passes() -> None:
    policy = authorization_policy()
    policy["spec"] = {}
    assert problems_in([policy]) == []
    del policy["spec"]
    assert problems_in([policy]) == []


def test_a_grpc_method_name_in_methods_is_reported() -> None:
    policy = authorization_policy()
    operation(policy)["methods"] = ["GetMe"]
    (problem,) = authorization_policy_problems(policy)
    assert problem.startswith(
        "AuthorizationPolicy/users: $.spec.rules[0].to[0].operation.methods[0]: 'GetMe'"
    )
    assert "istio/istio#20479" in problem


def test_a_plain_http_ports_rule_takes_exact_paths() -> None:
    policy = authorization_policy()
    operation(policy).update({"ports": ["4318"], "paths": ["/v1/traces"]})
    assert authorization_policy_problems(policy) == []
    operation(policy)["paths"] = ["/v1/*"]
    assert authorization_policy_problems(policy) == [
        "AuthorizationPolicy/users: $.spec.rules[0].to[0].operation.paths[0]: '/v1/*' is not an exact path"
        " /<segment>/..."
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/users/me",
        "/agynio.api.users.v1.UsersService",
        "/agynio.api.users.v1.UsersService/getMe",
        "/UsersService/GetMe",
        "/agynio.api.users.v1.UsersService/Get*",
    ],
)
def test_a_non_grpc_path_is_reported(path: str) -> None:
    policy = authorization_policy()
    operation(policy)["paths"] = [path]
    assert authorization_policy_problems(policy) == [
        f"AuthorizationPolicy/users: $.spec.rules[0].to[0].operation.paths[0]: {path!r} is not a gRPC path"
        " /<package>.<Service>/<Method> or /<package>.<Service>/*"
    ]


@pytest.mark.parametrize("principal", ["*", "cluster.local/ns/agyn/*", "spiffe://cluster.local/ns/agyn/sa/x"])
def test_a_wildcard_or_malformed_principal_is_reported(principal: str) -> None:
    policy = authorization_policy()
    policy["spec"]["rules"][0]["from"][0]["source"]["principals"] = [principal]
    (problem,) = authorization_policy_problems(policy)
    assert problem.startswith(
        f"AuthorizationPolicy/users: $.spec.rules[0].from[0].source.principals[0]: {principal!r}"
    )


def test_a_rule_without_to_needs_principals_in_every_from() -> None:
    policy = authorization_policy()
    rule = policy["spec"]["rules"][0]
    del rule["to"]
    assert authorization_policy_problems(policy) == []
    rule["from"].append({"source": {"namespaces": ["agyn"]}})
    assert authorization_policy_problems(policy) == [
        "AuthorizationPolicy/users: $.spec.rules[0]: without `to`, every `from` must list principals,"
        " or the rule matches any request"
    ]


def test_a_rule_with_nothing_is_reported() -> None:
    policy = authorization_policy()
    policy["spec"]["rules"] = [{}]
    (problem,) = authorization_policy_problems(policy)
    assert problem.startswith("AuthorizationPolicy/users: $.spec.rules[0]: without `to`")


def test_a_policy_needs_a_selector() -> None:
    policy = authorization_policy()
    del policy["spec"]["selector"]
    assert authorization_policy_problems(policy) == [
        "AuthorizationPolicy/users: $.spec.selector.matchLabels: required,"
        " or the policy applies to every workload in the namespace"
    ]


@pytest.mark.parametrize("action", ["PERMIT", "AUDIT"])
def test_an_action_other_than_allow_or_deny_is_reported(action: str) -> None:
    policy = authorization_policy()
    policy["spec"]["action"] = action
    assert authorization_policy_problems(policy) == [
        f"AuthorizationPolicy/users: $.spec.action: {action!r} is not ALLOW or DENY,"
        " the only actions our policies use"
    ]


def test_an_unknown_action_breaks_the_schema_too() -> None:
    policy = authorization_policy()
    policy["spec"]["action"] = "PERMIT"
    (problem,) = object_problems(policy)
    assert problem.startswith("AuthorizationPolicy/users: $.spec.action: 'PERMIT' is not one of")


@pytest.mark.parametrize(
    "key", ["source.principal", "request.headers[X-Agyn-Organization]", "request.auth.claims[sub]"]
)
def test_a_when_key_other_than_a_lowercase_header_is_reported(key: str) -> None:
    policy = authorization_policy()
    policy["spec"]["rules"][0]["when"][0]["key"] = key
    assert authorization_policy_problems(policy) == [
        f"AuthorizationPolicy/users: $.spec.rules[0].when[0].key: {key!r}"
        " is not request.headers[<lowercase header>]"
    ]


def test_a_when_condition_needs_values() -> None:
    policy = authorization_policy()
    del policy["spec"]["rules"][0]["when"][0]["values"]
    assert object_problems(policy) == [
        "AuthorizationPolicy/users: $.spec.rules[0].when[0]: one of:"
        " 'notValues' is a required property; 'values' is a required property"
    ]


def test_an_unknown_field_in_an_istio_object_is_reported() -> None:
    policy = authorization_policy()
    operation(policy)["grpcMethods"] = ["GetMe"]
    assert object_problems(policy) == [
        "AuthorizationPolicy/users: $.spec.rules[0].to[0].operation:"
        " Additional properties are not allowed ('grpcMethods' was unexpected)"
    ]


def test_every_schema_error_of_an_istio_object_is_reported() -> None:
    policy = authorization_policy()
    operation(policy)["ports"] = [50051]
    policy["metadata"]["lables"] = {}
    assert object_problems(policy) == [
        "AuthorizationPolicy/users: $.metadata:"
        " Additional properties are not allowed ('lables' was unexpected)",
        "AuthorizationPolicy/users: $.spec.rules[0].to[0].operation.ports[0]: 50051 is not of type 'string'",
    ]


def test_peer_authentication_modes() -> None:
    assert object_problems(peer_authentication("STRICT")) == []
    (problem,) = object_problems(peer_authentication("STRICTER"))
    assert problem.startswith("PeerAuthentication/default: $.spec.mtls.mode: 'STRICTER' is not one of")


def test_port_level_mtls_needs_a_selector() -> None:
    obj = peer_authentication("STRICT")
    obj["spec"]["portLevelMtls"] = {"50051": {"mode": "PERMISSIVE"}}
    assert object_problems(obj) == [
        "PeerAuthentication/default: $.spec: 'selector' is a dependency of 'portLevelMtls'"
    ]
    obj["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "users"}}
    assert object_problems(obj) == []


def test_a_gateway_and_a_prefix_rewriting_virtual_service_pass() -> None:
    assert problems_in([gateway(), virtual_service()]) == []


def test_a_string_match_takes_exactly_one_kind_of_match() -> None:
    obj = virtual_service()
    obj["spec"]["http"][0]["match"][0]["uri"] = {"prefix": "/api/", "exact": "/api"}
    (problem,) = object_problems(obj)
    assert problem.startswith("VirtualService/agyn: $.spec.http[0].match[0].uri: ")
    assert "has too many properties" in problem


def test_a_malformed_timeout_is_reported() -> None:
    obj = virtual_service()
    obj["spec"]["http"][0]["timeout"] = 30
    obj["spec"]["http"][0]["retries"]["perTryTimeout"] = "10 seconds"
    problems = object_problems(obj)
    assert [problem.split(": ")[1] for problem in problems] == [
        "$.spec.http[0].retries.perTryTimeout",
        "$.spec.http[0].timeout",
    ]


def test_a_gateway_port_needs_a_known_protocol() -> None:
    obj = gateway()
    obj["spec"]["servers"][0]["port"]["protocol"] = "HTTP3"
    (problem,) = object_problems(obj)
    assert problem.startswith("Gateway/agyn: $.spec.servers[0].port.protocol: 'HTTP3' is not one of")


def test_duplicates_are_reported() -> None:
    other_namespace = copy.deepcopy(service())
    other_namespace["metadata"]["namespace"] = "other"
    assert problems_in([service(), other_namespace, service_account()]) == []
    assert problems_in([service(), service_account(), service()]) == [
        "Service/users: defined twice (same apiVersion, kind, namespace and name)"
    ]


def test_problems_in_applies_the_policy_rules() -> None:
    policy = authorization_policy()
    operation(policy)["methods"] = ["GetMe"]
    (problem,) = problems_in([policy])
    assert "'GetMe' is not POST" in problem


def test_a_service_monitor_passes() -> None:
    assert problems_in([service_monitor()]) == []


def test_a_service_monitor_needs_a_selector() -> None:
    obj = service_monitor()
    del obj["spec"]["selector"]
    assert object_problems(obj) == ["ServiceMonitor/users: $.spec: 'selector' is a required property"]


def test_a_service_monitor_endpoint_is_strict() -> None:
    obj = service_monitor()
    endpoint = obj["spec"]["endpoints"][0]
    endpoint["interval"] = "30 seconds"
    endpoint["portName"] = "metrics"
    problems = object_problems(obj)
    assert [problem.split(": ")[1] for problem in problems] == [
        "$.spec.endpoints[0]",  # portName was unexpected
        "$.spec.endpoints[0].interval",
    ]
    assert "'portName' was unexpected" in problems[0]
