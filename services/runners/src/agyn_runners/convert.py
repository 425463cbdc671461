"""Rows <-> messages: the enums as stored text, containers as JSON (runners sheet §6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from agyn_common.errors import invalid_argument
from agyn_common.timestamps import timestamp
from agynio.api.runners.v1 import runners_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

RUNNER_STATUS: dict[str, int] = {
    "pending": pb.RUNNER_STATUS_PENDING,
    "enrolled": pb.RUNNER_STATUS_ENROLLED,
    "offline": pb.RUNNER_STATUS_OFFLINE,
}
WORKLOAD_STATUS: dict[int, str] = {
    pb.WORKLOAD_STATUS_STARTING: "starting",
    pb.WORKLOAD_STATUS_RUNNING: "running",
    pb.WORKLOAD_STATUS_STOPPING: "stopping",
    pb.WORKLOAD_STATUS_STOPPED: "stopped",
    pb.WORKLOAD_STATUS_FAILED: "failed",
}
AGENT_STATE: dict[int, str] = {
    pb.WORKLOAD_AGENT_STATE_PROCESSING: "processing",
    pb.WORKLOAD_AGENT_STATE_IDLE: "idle",
}
FAILURE_REASON: dict[int, str] = {
    pb.WORKLOAD_FAILURE_REASON_START_FAILED: "start_failed",
    pb.WORKLOAD_FAILURE_REASON_IMAGE_PULL_FAILED: "image_pull_failed",
    pb.WORKLOAD_FAILURE_REASON_CONFIG_INVALID: "config_invalid",
    pb.WORKLOAD_FAILURE_REASON_CRASHLOOP: "crashloop",
    pb.WORKLOAD_FAILURE_REASON_RUNTIME_LOST: "runtime_lost",
}
CONTAINER_ROLE: dict[int, str] = {
    pb.CONTAINER_ROLE_MAIN: "main",
    pb.CONTAINER_ROLE_SIDECAR: "sidecar",
    pb.CONTAINER_ROLE_INIT: "init",
}
CONTAINER_STATUS: dict[int, str] = {
    pb.CONTAINER_STATUS_RUNNING: "running",
    pb.CONTAINER_STATUS_TERMINATED: "terminated",
    pb.CONTAINER_STATUS_WAITING: "waiting",
}
VOLUME_STATUS: dict[int, str] = {
    pb.VOLUME_STATUS_PROVISIONING: "provisioning",
    pb.VOLUME_STATUS_ACTIVE: "active",
    pb.VOLUME_STATUS_DEPROVISIONING: "deprovisioning",
    pb.VOLUME_STATUS_DELETED: "deleted",
    pb.VOLUME_STATUS_FAILED: "failed",
}


def _reverse(table: Mapping[int, str]) -> dict[str, int]:
    return {text: number for number, text in table.items()}


_WORKLOAD_STATUS_NUMBER = _reverse(WORKLOAD_STATUS)
_AGENT_STATE_NUMBER = _reverse(AGENT_STATE)
_FAILURE_REASON_NUMBER = _reverse(FAILURE_REASON)
_ROLE_NUMBER = _reverse(CONTAINER_ROLE)
_CONTAINER_STATUS_NUMBER = _reverse(CONTAINER_STATUS)
_VOLUME_STATUS_NUMBER = _reverse(VOLUME_STATUS)


def enum_text(table: Mapping[int, str], value: int, field: str) -> str:
    """A defined, non-zero enum value as stored; INVALID_ARGUMENT on `field` otherwise."""
    if value not in table:
        raise invalid_argument(field, f"must be a defined value other than UNSPECIFIED, got {value}")
    return table[value]


def _iso(stamp: Timestamp) -> str:
    return stamp.ToDatetime(tzinfo=UTC).isoformat()


def _stamp(text: str | None) -> Timestamp | None:
    return timestamp(datetime.fromisoformat(text)) if text else None


MAX_CONTAINERS = 64
MAX_CONTAINER_TEXT = 4096


def containers_json(containers: Sequence[pb.Container], field: str = "containers") -> list[dict[str, Any]]:
    """The containers as stored; each role and status defined (INVALID_ARGUMENT naming it)."""
    if len(containers) > MAX_CONTAINERS:
        raise invalid_argument(field, f"at most {MAX_CONTAINERS} containers")
    stored = []
    for index, container in enumerate(containers):
        at = f"{field}[{index}]"
        for name in ("container_id", "name", "image", "reason", "message"):
            if len(getattr(container, name)) > MAX_CONTAINER_TEXT:
                raise invalid_argument(f"{at}.{name}", f"must be at most {MAX_CONTAINER_TEXT} characters")
        item: dict[str, Any] = {
            "container_id": container.container_id,
            "name": container.name,
            "role": enum_text(CONTAINER_ROLE, container.role, f"{at}.role"),
            "image": container.image,
            "status": enum_text(CONTAINER_STATUS, container.status, f"{at}.status"),
            "restart_count": container.restart_count,
        }
        for name in ("reason", "message", "exit_code"):
            if container.HasField(name):
                item[name] = getattr(container, name)
        for name in ("started_at", "finished_at"):
            if container.HasField(name):
                item[name] = _iso(getattr(container, name))
        stored.append(item)
    return stored


def container_message(item: Mapping[str, Any]) -> pb.Container:
    return pb.Container(
        container_id=item["container_id"],
        name=item["name"],
        role=_ROLE_NUMBER[item["role"]],  # type: ignore[arg-type]
        image=item["image"],
        status=_CONTAINER_STATUS_NUMBER[item["status"]],  # type: ignore[arg-type]
        reason=item.get("reason"),
        message=item.get("message"),
        exit_code=item.get("exit_code"),
        restart_count=item["restart_count"],
        started_at=_stamp(item.get("started_at")),
        finished_at=_stamp(item.get("finished_at")),
    )


def _meta(row: Any) -> pb.EntityMeta:
    return pb.EntityMeta(
        id=str(row.id), created_at=timestamp(row.created_at), updated_at=timestamp(row.updated_at)
    )


def runner_message(row: Any) -> pb.Runner:
    return pb.Runner(
        meta=_meta(row),
        name=row.name,
        organization_id=None if row.organization_id is None else str(row.organization_id),
        identity_id=str(row.identity_id),
        status=RUNNER_STATUS[row.status],  # type: ignore[arg-type]
        labels=row.labels,
        openziti_service_name=row.service_name,
        capabilities=row.capabilities,
    )


def workload_message(row: Any, *, agent_name: str = "", runner_name: str = "") -> pb.Workload:
    return pb.Workload(
        meta=_meta(row),
        runner_id=str(row.runner_id),
        thread_id=str(row.thread_id),
        agent_id=str(row.agent_id),
        organization_id=str(row.organization_id),
        status=_WORKLOAD_STATUS_NUMBER[row.status],  # type: ignore[arg-type]
        containers=[container_message(item) for item in row.containers],
        ziti_identity_id=row.ziti_identity_id,
        instance_id=row.instance_id,
        last_activity_at=timestamp(row.last_activity_at),
        last_metering_sampled_at=timestamp(row.last_metering_sampled_at),
        removed_at=timestamp(row.removed_at),
        allocated_cpu_millicores=row.allocated_cpu_millicores,
        allocated_ram_bytes=row.allocated_ram_bytes,
        failure_reason=None if row.failure_reason is None else _FAILURE_REASON_NUMBER[row.failure_reason],  # type: ignore[arg-type]
        failure_message=row.failure_message,
        agent_name=agent_name,
        runner_name=runner_name,
        agent_state=_AGENT_STATE_NUMBER[row.agent_state],  # type: ignore[arg-type]
    )


def volume_message(
    row: Any, *, volume_name: str = "", attachments: Sequence[pb.Attachment] = ()
) -> pb.Volume:
    return pb.Volume(
        meta=_meta(row),
        instance_id=row.instance_id,
        volume_id=str(row.volume_id),
        thread_id=str(row.thread_id),
        runner_id=str(row.runner_id),
        agent_id=str(row.agent_id),
        organization_id=str(row.organization_id),
        size_gb=row.size_gb,
        status=_VOLUME_STATUS_NUMBER[row.status],  # type: ignore[arg-type]
        removed_at=timestamp(row.removed_at),
        last_metering_sampled_at=timestamp(row.last_metering_sampled_at),
        volume_name=volume_name,
        attachments=attachments,
    )
