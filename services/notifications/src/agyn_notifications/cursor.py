"""Stream cursors: where a Subscribe stream stood, to resume after a reconnect.

Opaque to clients: base64url (no padding) of the envelope copy's JetStream stream sequence
(8 bytes, big-endian) followed by the envelope id (16 bytes).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from agyn_common.errors import invalid_argument

_SIZE = 24


@dataclass(frozen=True)
class Cursor:
    sequence: int  # stream sequence of the copy that was delivered
    envelope_id: str

    def encode(self) -> str:
        raw = self.sequence.to_bytes(8, "big") + uuid.UUID(self.envelope_id).bytes
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, field: str) -> Cursor:
    """The cursor in `value`; INVALID_ARGUMENT naming `field` when it is not one we issued."""
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    sequence = int.from_bytes(raw[:8], "big") if len(raw) == _SIZE else 0
    if sequence < 1:
        raise invalid_argument(field, "not a cursor issued by this service")
    return Cursor(sequence, str(uuid.UUID(bytes=raw[8:])))
