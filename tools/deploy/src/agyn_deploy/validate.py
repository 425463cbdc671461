"""Offline checks of the Kubernetes objects our Helm charts render.

`helm template` renders whatever the templates say. The API server or Istio would reject a
misspelt field only at install time, and some mistakes are accepted and then enforced: an
AuthorizationPolicy with gRPC method names in `methods` denies every call (istio/istio#20479).
These checks need no cluster. Core kinds are checked against the Kubernetes schemas that
kubernetes-validate ships, the custom kinds (Istio's, the Prometheus Operator's ServiceMonitor)
against our own strict schemas (schemas/), and AuthorizationPolicies also against the shape
our gRPC services need.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

# The oldest Kubernetes we support: a chart that validates here uses no newer field.
KUBERNETES_VERSION = "1.30.0"

# Custom resources are not among the Kubernetes schemas, so we keep our own (under schemas/).
CUSTOM_SCHEMAS: dict[tuple[str, str], str] = {
    ("security.istio.io/v1", "AuthorizationPolicy"): "istio/authorizationpolicy.json",
    ("security.istio.io/v1", "PeerAuthentication"): "istio/peerauthentication.json",
    ("networking.istio.io/v1", "Gateway"): "istio/gateway.json",
    ("networking.istio.io/v1", "VirtualService"): "istio/virtualservice.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "prometheus-operator/servicemonitor.json",
}

# Long enough for a field name and a short value; jsonschema's messages can quote whole objects.
_MAX_MESSAGE = 200

# `/<package>.<Service>/<Method>` or `/<package>.<Service>/*`. Services and methods are
# PascalCase in protobuf style, and Istio matches paths case-sensitively, so a lowercase
# name would silently match nothing.
_GRPC_PATH = re.compile(r"/[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*\.[A-Z][A-Za-z0-9_]*/([A-Z][A-Za-z0-9_]*|\*)")
# An exact request path of plain HTTP: no wildcard, query or fragment.
_HTTP_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)+")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_PRINCIPAL = re.compile(rf"[a-z0-9]([-a-z0-9.]*[a-z0-9])?/ns/{_DNS_LABEL}/sa/{_DNS_LABEL}")
_WHEN_KEY = re.compile(r"request\.headers\[[a-z0-9_.-]+\]")


def problems_in(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every problem of a chart's rendered objects, including two objects with the same identity."""
    problems: list[str] = []
    seen: set[tuple[str | None, ...]] = set()
    for obj in objects:
        problems += object_problems(obj)
        if obj.get("kind") == "AuthorizationPolicy":
            problems += authorization_policy_problems(obj)
        identity = _identity(obj)
        if identity in seen:
            problems.append(f"{_label(obj)}: defined twice (same apiVersion, kind, namespace and name)")
        seen.add(identity)
    return problems


def object_problems(obj: dict[str, Any]) -> list[str]:
    """Every problem of one rendered object against the schema of its kind."""
    api_version, kind = _text(obj.get("apiVersion")), _text(obj.get("kind"))
    problems = [
        f"$.{field}: required, a non-empty string"
        for field, value in (("apiVersion", api_version), ("kind", kind))
        if value is None
    ]
    problems += _metadata_problems(_mapping(obj.get("metadata")))
    if api_version is not None and kind is not None:
        problems += _schema_problems(obj, api_version, kind)
    return [f"{_label(obj)}: {problem}" for problem in problems]


def authorization_policy_problems(policy: dict[str, Any]) -> list[str]:
    """What the schema cannot say: the shape an AuthorizationPolicy for our gRPC services must have.

    Values of the wrong type read as absent here: the schema reports them.
    """
    spec = _mapping(policy.get("spec"))
    if not spec:  # the namespace's deny-all policy
        return []
    problems: list[str] = []
    action = spec.get("action", "ALLOW")
    if action not in ("ALLOW", "DENY"):
        problems.append(f"$.spec.action: {action!r} is not ALLOW or DENY, the only actions our policies use")
    if not _mapping(_mapping(spec.get("selector")).get("matchLabels")):
        problems.append(
            "$.spec.selector.matchLabels: required, or the policy applies to every workload in the namespace"
        )
    for index, rule in enumerate(_sequence(spec.get("rules"))):
        problems += _rule_problems(f"$.spec.rules[{index}]", _mapping(rule))
    return [f"{_label(policy)}: {problem}" for problem in problems]


def _metadata_problems(metadata: dict[str, Any]) -> Iterator[str]:
    """What the schemas let through: they do not require a name and allow null map values."""
    if not _text(metadata.get("name")):
        yield "$.metadata.name: required, a non-empty string"
    for field in ("labels", "annotations"):
        for key, value in _mapping(metadata.get(field)).items():
            # Helm renders a missing value as null, which the API server would store as "".
            if value is None:
                yield f"$.metadata.{field}.{key}: null, not a string"


def _schema_problems(obj: dict[str, Any], api_version: str, kind: str) -> list[str]:
    schema_file = CUSTOM_SCHEMAS.get((api_version, kind))
    if schema_file is not None:
        errors = _custom_validator(schema_file).iter_errors(obj)
        return [_error_text(error) for error in sorted(errors, key=lambda error: error.json_path)]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema for {api_version} {kind}"]
    except kubernetes_validate.ValidationError as error:
        # kubernetes-validate raises only the best-matching error, so one per object.
        return [_error_text(error)]
    return []


@cache
def _custom_validator(schema_file: str) -> Any:
    schema = json.loads(
        resources.files("agyn_deploy").joinpath("schemas", schema_file).read_text(encoding="utf-8")
    )
    return jsonschema.Draft202012Validator(schema, registry=_kubernetes_definitions())


@cache
def _kubernetes_definitions() -> Registry[Any]:
    """The Kubernetes definitions, so that custom objects' metadata is checked as for any other object."""
    definitions = (
        resources.files("kubernetes_validate")
        / "kubernetes-json-schema"
        / f"v{KUBERNETES_VERSION}-local-strict"
        / "_definitions.json"
    )
    resource: Resource[Any] = Resource.from_contents(json.loads(definitions.read_text(encoding="utf-8")))
    return resource @ Registry()


def _error_text(error: jsonschema.ValidationError) -> str:
    return f"{error.json_path}: {_error_message(error)}"


def _error_message(error: jsonschema.ValidationError) -> str:
    if error.context:
        # An anyOf or oneOf whose branches all failed: the branches say what is missing, the
        # message would only quote the whole value.
        return "one of: " + "; ".join(sorted({_error_message(branch) for branch in error.context}))
    message: str = error.message
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _rule_problems(path: str, rule: dict[str, Any]) -> Iterator[str]:
    sources = [_mapping(_mapping(item).get("source")) for item in _sequence(rule.get("from"))]
    for index, source in enumerate(sources):
        yield from _principal_problems(f"{path}.from[{index}].source.principals", source)
    for index, item in enumerate(_sequence(rule.get("to"))):
        yield from _operation_problems(
            f"{path}.to[{index}].operation", _mapping(_mapping(item).get("operation"))
        )
    # `from` entries are alternatives, so each must name its callers: one entry without
    # principals lets anyone in.
    if not _sequence(rule.get("to")) and not (
        sources and all(_sequence(source.get("principals")) for source in sources)
    ):
        yield f"{path}: without `to`, every `from` must list principals, or the rule matches any request"
    for index, condition in enumerate(_sequence(rule.get("when"))):
        key = _mapping(condition).get("key")
        if not (isinstance(key, str) and _WHEN_KEY.fullmatch(key)):
            yield f"{path}.when[{index}].key: {key!r} is not request.headers[<lowercase header>]"


def _principal_problems(path: str, source: dict[str, Any]) -> Iterator[str]:
    for index, principal in enumerate(_sequence(source.get("principals"))):
        if not (isinstance(principal, str) and _PRINCIPAL.fullmatch(principal)):
            yield (
                f"{path}[{index}]: {principal!r} is not <trust-domain>/ns/<namespace>/sa/<serviceaccount>"
                " (wildcards let in callers nobody named)"
            )


def _operation_problems(path: str, operation: dict[str, Any]) -> Iterator[str]:
    # An operation on named ports is a plain-HTTP port's (OTLP/HTTP): its paths are exact ones.
    plain = bool(_sequence(operation.get("ports")))
    # The negative fields match the same values, so the same mistakes apply to them.
    for field in ("paths", "notPaths"):
        for index, request_path in enumerate(_sequence(operation.get(field))):
            if plain:
                if not (isinstance(request_path, str) and _HTTP_PATH.fullmatch(request_path)):
                    yield f"{path}.{field}[{index}]: {request_path!r} is not an exact path /<segment>/..."
            elif not (isinstance(request_path, str) and _GRPC_PATH.fullmatch(request_path)):
                yield (
                    f"{path}.{field}[{index}]: {request_path!r} is not a gRPC path"
                    " /<package>.<Service>/<Method> or /<package>.<Service>/*"
                )
    for field in ("methods", "notMethods"):
        for index, method in enumerate(_sequence(operation.get(field))):
            if method != "POST":
                yield (
                    f"{path}.{field}[{index}]: {method!r} is not POST, the HTTP method of every gRPC call;"
                    " gRPC methods go in `paths` (istio/istio#20479)"
                )


def _identity(obj: dict[str, Any]) -> tuple[str | None, ...]:
    """What the API server keys objects by (namespace None: the release's namespace)."""
    metadata = _mapping(obj.get("metadata"))
    fields = (obj.get("apiVersion"), obj.get("kind"), metadata.get("namespace"), metadata.get("name"))
    return tuple(_text(value) for value in fields)


def _label(obj: dict[str, Any]) -> str:
    kind = _text(obj.get("kind")) or "<no kind>"
    name = _text(_mapping(obj.get("metadata")).get("name")) or "<no name>"
    return f"{kind}/{name}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
