"""Checks of request fields shared by the resources: each turns a request's field into the
columns it is stored as, or raises INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agyn_common.errors import invalid_argument
from agyn_common.validation import check_length, parse_uuid

from agyn_agents import convert

Check = Callable[[Any, str], dict[str, Any]]  # (request, field) -> the field's columns
MAX_QUANTITY = 64  # a Kubernetes quantity ("500m", "1Gi")
# Limits the contract leaves open, the same for every resource (DESIGN §6).
MAX_DESCRIPTION = 4096
MAX_IMAGE = 1024


def text(max_chars: int, *, required: bool = False) -> Check:
    def check(request: Any, field: str) -> dict[str, Any]:
        return {field: check_length(getattr(request, field), field, max_chars=max_chars, required=required)}

    return check


def resources(request: Any, field: str) -> dict[str, Any]:
    """ComputeResources, replaced as a whole: unset sub-fields become ""."""
    for name in convert.RESOURCE_FIELDS:
        check_length(getattr(request.resources, name), f"{field}.{name}", max_chars=MAX_QUANTITY)
    return convert.resources_columns(request.resources)


def pattern(regex: str, max_chars: int) -> Check:
    """A required string matching `regex` as a whole."""
    compiled = re.compile(regex)

    def check(request: Any, field: str) -> dict[str, Any]:
        value = check_length(getattr(request, field), field, max_chars=max_chars, required=True)
        if not compiled.fullmatch(value):
            raise invalid_argument(field, f"must match {regex}")
        return {field: value}

    return check


def uuid_field(request: Any, field: str) -> dict[str, Any]:
    """A required UUID, stored as one."""
    return {field: parse_uuid(getattr(request, field).strip(), field)}
