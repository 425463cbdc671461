"""The values schemas of the charts, written once here and generated into each chart.

JSON Schema draft 7, which every Helm 3 and 4 reads. Strict on typos (`additionalProperties:
false`), with the escape hatches operators ask for (extraEnv, extraEnvFrom, extraVolumes,
podAnnotations, extraRules...) typed as Kubernetes objects and left open inside.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
PORT: Schema = {"type": "integer", "minimum": 1, "maximum": 65535}
OPEN_OBJECT: Schema = {"type": "object"}  # a Kubernetes structure, validated by the API server
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_LIST: Schema = {"type": "array", "items": OPEN_OBJECT}
# Kubernetes names: DNS labels.
NAME: Schema = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
ENV_NAME: Schema = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
# A container or Service port's name (IANA service name).
PORT_NAME: Schema = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 15}
# A Prometheus duration such as 30s or 1m30s (empty matches too).
DURATION: Schema = {
    "type": "string",
    "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
# An S3 bucket name (lower case letters, digits, dots and hyphens).
BUCKET: Schema = {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"}
# A key of a Secret's data.
SECRET_KEY: Schema = {"type": "string", "pattern": "^[-._a-zA-Z0-9]+$"}
# An Istio principal, <trust domain>/ns/<namespace>/sa/<service account>, without wildcards.
PRINCIPAL: Schema = {"type": "string", "pattern": "^[^/*]+/ns/[^/*]+/sa/[^/*]+$"}


def strict(properties: dict[str, Schema], **extra: Any) -> Schema:
    return {"type": "object", "additionalProperties": False, "properties": properties, **extra}


def positive(minimum: int = 1) -> Schema:
    return {"type": "integer", "minimum": minimum}


GLOBAL = strict(
    {
        "image": strict(
            {"registry": STRING, "tag": STRING, "pullPolicy": {"$ref": "#/definitions/pullPolicy"}}
        ),
        "imagePullSecrets": OBJECT_LIST,
        "mesh": strict({"enabled": BOOLEAN, "trustDomain": STRING, "controlPlaneNamespace": NAME}),
        "natsUrl": {"type": "string", "pattern": "^(nats|tls)://"},
        "databaseSecret": NAME,
        "objectStore": strict(
            {
                "endpoint": STRING,
                "publicEndpoint": STRING,
                "bucket": BUCKET,
                "region": {"type": "string", "minLength": 1},
                "useSSL": BOOLEAN,
                "virtualHostedStyle": BOOLEAN,
                "credentials": strict(
                    {"existingSecret": NAME, "accessKeyKey": SECRET_KEY, "secretKeyKey": SECRET_KEY}
                ),
            }
        ),
        "otel": strict({"endpoint": STRING, "env": STRING_MAP}),
    }
)

PROBE = strict(
    {
        "initialDelaySeconds": positive(0),
        "periodSeconds": positive(),
        "timeoutSeconds": positive(),
        "failureThreshold": positive(),
        "successThreshold": positive(),
        "terminationGracePeriodSeconds": positive(),
    }
)

SECRET_REFERENCE = strict(
    {"secretName": NAME, "key": STRING, "optional": BOOLEAN}, required=["secretName", "key"]
)

_DEFINITIONS: Schema = {
    "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never", ""]},
    "global": GLOBAL,
}


def service_values() -> Schema:
    """The values of every service chart (and the shape the library chart expects)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Values of an Agyn service chart",
        "definitions": _DEFINITIONS,
        **strict(
            {
                "global": {"$ref": "#/definitions/global"},
                # Helm adds the library chart's (empty) values under its name.
                "agyn-service": OPEN_OBJECT,
                "enabled": BOOLEAN,
                "nameOverride": {"anyOf": [NAME, {"const": ""}]},
                "image": strict(
                    {"repository": STRING, "tag": STRING, "pullPolicy": {"$ref": "#/definitions/pullPolicy"}}
                ),
                "imagePullSecrets": OBJECT_LIST,
                "replicas": positive(0),
                "port": PORT,
                "portName": {"enum": ["grpc", "http2"]},
                "httpPorts": {
                    "type": "array",
                    "items": strict(
                        {"name": PORT_NAME, "port": PORT, "setting": ENV_NAME},
                        required=["name", "port", "setting"],
                    ),
                },
                "database": strict(
                    {"enabled": BOOLEAN, "existingSecret": {"anyOf": [NAME, {"const": ""}]}, "key": STRING}
                ),
                "objectStore": strict({"enabled": BOOLEAN}),
                "migrations": strict(
                    {
                        "job": strict(
                            {
                                "enabled": BOOLEAN,
                                "hook": {"type": "string", "minLength": 1},
                                "backoffLimit": positive(0),
                                "activeDeadlineSeconds": positive(),
                            }
                        )
                    }
                ),
                "addresses": {
                    "type": "object",
                    "propertyNames": NAME,
                    "additionalProperties": {"type": "string", "pattern": "^[^:/]+:[0-9]+$"},
                },
                "settings": {
                    "type": "object",
                    "propertyNames": ENV_NAME,
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
                "secretSettings": {
                    "type": "object",
                    "propertyNames": ENV_NAME,
                    "additionalProperties": SECRET_REFERENCE,
                },
                "extraEnv": OBJECT_LIST,
                "extraEnvFrom": OBJECT_LIST,
                "extraVolumes": OBJECT_LIST,
                "extraVolumeMounts": OBJECT_LIST,
                "resources": OPEN_OBJECT,
                "podSecurityContext": OPEN_OBJECT,
                "securityContext": OPEN_OBJECT,
                "shutdown": strict({"lameDuckSeconds": positive(0), "graceSeconds": positive()}),
                "terminationGracePeriodSeconds": {"type": ["integer", "null"], "minimum": 1},
                "probes": strict({"startup": PROBE, "liveness": PROBE, "readiness": PROBE}),
                "serviceAccount": strict({"annotations": STRING_MAP}),
                "service": strict(
                    {"type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]}, "annotations": STRING_MAP}
                ),
                "podAnnotations": STRING_MAP,
                "podLabels": STRING_MAP,
                "nodeSelector": STRING_MAP,
                "tolerations": OBJECT_LIST,
                "affinity": OPEN_OBJECT,
                "topologySpreadConstraints": OBJECT_LIST,
                "priorityClassName": STRING,
                "podDisruptionBudget": strict(
                    {
                        "enabled": BOOLEAN,
                        "minAvailable": {"type": ["integer", "string"]},
                        "maxUnavailable": {"type": ["integer", "string"]},
                    }
                ),
                "autoscaling": strict(
                    {
                        "enabled": BOOLEAN,
                        "minReplicas": positive(),
                        "maxReplicas": positive(),
                        "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
                    }
                ),
                "networkPolicy": strict(
                    {
                        "enabled": BOOLEAN,
                        "egressPorts": {"type": "array", "items": PORT},
                        "extraIngress": OBJECT_LIST,
                        "extraEgress": OBJECT_LIST,
                    }
                ),
                "authorizationPolicy": strict({"enabled": BOOLEAN, "extraRules": OBJECT_LIST}),
                "metrics": strict(
                    {
                        "enabled": BOOLEAN,
                        "port": PORT,
                        "serviceMonitor": strict(
                            {"enabled": BOOLEAN, "interval": DURATION, "labels": STRING_MAP}
                        ),
                        "scrapeAnnotations": BOOLEAN,
                        "scraper": strict(
                            {
                                "namespaces": {"type": "array", "items": NAME},
                                "podLabels": STRING_MAP,
                                "principals": {"type": "array", "items": PRINCIPAL},
                                "plaintext": BOOLEAN,
                            }
                        ),
                    }
                ),
            }
        ),
    }


def mesh_values() -> Schema:
    """The values of the agyn-mesh chart (deploy/istio)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Values of the agyn-mesh chart",
        **strict(
            {
                "global": OPEN_OBJECT,  # the umbrella's, passed to every dependency
                "peerAuthentication": strict({"enabled": BOOLEAN}),
                "denyByDefault": BOOLEAN,
                "gateway": strict({"service": NAME, "port": PORT}),
                "ingress": strict(
                    {
                        "enabled": BOOLEAN,
                        "domain": STRING,
                        "gatewaySelector": STRING_MAP,
                        "tls": strict({"enabled": BOOLEAN, "credentialName": STRING}),
                        # Hosts of the UIs that call the API on their own origin under /api/.
                        "apiPathHosts": {"type": "array", "items": STRING},
                    }
                ),
            }
        ),
    }


def umbrella_values(services: list[str]) -> Schema:
    """The umbrella's own keys; each service's block is checked by that service's schema."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Values of the agyn umbrella chart",
        "definitions": _DEFINITIONS,
        **strict(
            {
                "global": {"$ref": "#/definitions/global"},
                **{name: OPEN_OBJECT for name in services},
                "mesh": OPEN_OBJECT,  # checked by the agyn-mesh chart's schema
                "nats": strict(
                    {
                        "enabled": BOOLEAN,
                        "image": STRING,
                        "storage": STRING,
                        "resources": OPEN_OBJECT,
                    }
                ),
                "postgresql": strict(
                    {
                        "enabled": BOOLEAN,
                        "image": STRING,
                        "password": STRING,
                        "storage": STRING,
                        "resources": OPEN_OBJECT,
                    }
                ),
                "seaweedfs": strict(
                    {
                        "enabled": BOOLEAN,
                        "image": STRING,
                        "accessKey": {"type": "string", "minLength": 1},
                        "secretKey": {"type": "string", "minLength": 1},
                        "storage": STRING,
                        "resources": OPEN_OBJECT,
                    }
                ),
            }
        ),
    }
