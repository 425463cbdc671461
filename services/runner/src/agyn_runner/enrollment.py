"""Enrollment: the service token from RegisterRunner exchanged, once, for the daemon's
credential (runners sheet, EnrollRunner; DESIGN §3).

One Connect JSON call to the Gateway's `RunnersGateway/EnrollRunner`, with the address
Runners dials back in `x-runner-address`. The credential (the response's `identity_json`)
is kept in `<state>/credential` (mode 0600); a daemon that has one does not enroll again.
While the Gateway cannot answer, the call is retried with backoff in the background: the
daemon serves meanwhile. A refused token is not retried: it will not become valid.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from pathlib import Path

import httpx

from agyn_runner.state import write_atomically

log = logging.getLogger(__name__)

PATH = "/agynio.api.gateway.v1.RunnersGateway/EnrollRunner"
ADDRESS_HEADER = "x-runner-address"
CREDENTIAL_FILE = "credential"
MAX_RETRY_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0
# Connect codes that say the token itself is no good, not that the Gateway is away.
REFUSED = frozenset(
    {"unauthenticated", "permission_denied", "not_found", "invalid_argument", "failed_precondition"}
)


class Refused(Exception):
    """The Gateway answered, and said no."""


class Enrollment:
    def __init__(
        self, state_dir: Path, gateway_url: str, token: str, address: str, retry_seconds: float
    ) -> None:
        self.credential_path = state_dir / CREDENTIAL_FILE
        self.url = gateway_url.rstrip("/") + PATH
        self.token = token
        self.address = address
        self.retry_seconds = retry_seconds

    async def run(self) -> None:
        """Enroll unless enrolled already; retry while the Gateway is away."""
        if await asyncio.to_thread(self.credential_path.exists):
            log.info("enrolled already: the credential is in %s", self.credential_path)
            return
        wait = self.retry_seconds
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            while True:
                try:
                    identity_id = await self._enroll(client)
                except Refused as refusal:
                    log.error(
                        "enrollment refused, the runner stays unenrolled: %s (check RUNNER_SERVICE_TOKEN)",
                        refusal,
                    )
                    return
                except (httpx.HTTPError, ValueError, OSError) as error:
                    log.warning("enrollment at %s failed (%s); retrying in %.1fs", self.url, error, wait)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, MAX_RETRY_SECONDS)
                    continue
                log.info(
                    "enrolled as runner identity %s; the credential is in %s",
                    identity_id,
                    self.credential_path,
                )
                return

    async def _enroll(self, client: httpx.AsyncClient) -> str:
        response = await client.post(
            self.url,
            json={"serviceToken": self.token},
            headers={"Connect-Protocol-Version": "1", ADDRESS_HEADER: self.address},
        )
        if response.status_code != 200:
            code, message = _connect_error(response)
            if code in REFUSED:
                raise Refused(f"{code}: {message}")
            raise httpx.HTTPStatusError(
                f"HTTP {response.status_code} {code}: {message}", request=response.request, response=response
            )
        body = response.json()
        try:
            credential = base64.b64decode(body["identityJson"], validate=True)
        except (KeyError, TypeError, binascii.Error) as error:
            raise ValueError(f"the Gateway's answer has no usable identityJson ({error!r})") from None
        await asyncio.to_thread(self._keep, credential)
        return str(body.get("identityId", ""))

    def _keep(self, credential: bytes) -> None:
        self.credential_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.credential_path, credential, 0o600)


def _connect_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body.get("code", "unknown")), str(body.get("message", ""))
    except ValueError:
        return "unknown", response.text[:200]
