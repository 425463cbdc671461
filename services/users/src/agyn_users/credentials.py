"""Secrets handed to clients once and stored only as SHA-256: API tokens, device enrollment
credentials and workload credentials (made as `agyn_common.credentials` says)."""

from __future__ import annotations

from agyn_common.credentials import API_TOKEN_PREFIX, new_secret

DISPLAY_PREFIX_LENGTH = 8


def new_api_token() -> str:
    return new_secret(API_TOKEN_PREFIX)


def display_prefix(plaintext: str) -> str:
    return plaintext[:DISPLAY_PREFIX_LENGTH]
