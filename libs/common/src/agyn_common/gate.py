"""The door of a server's calls during its stop, shared by the gRPC services and the Gateway.

A server that stops must not fail a call it has accepted. grpc.aio cannot promise that by
itself: `server.stop()` sends HTTP/2 GOAWAY and closes the port, but it also cancels
(RST_STREAM CANCEL, so CANCELLED at the client) every call gRPC's core has received and
Python has not taken yet (`Server::ShutdownAndNotify` → `KillPendingWorkLocked` →
`ZombifyPending`), and every call that reaches the core after it and before the client has
read the GOAWAY. A call on its way while the server stops would be lost.

So, after the lame duck, the door closes first: a call that arrives waits at the door instead
of running. A client sends its next call only once an answer came, or on its own schedule;
once no call has arrived (nor ended) for `QUIET_SECONDS`, none is on its way, the core's queue
is empty, and the GOAWAY can go out. Then the door opens again: the calls that waited run and
answer (after the GOAWAY on their connection, so that their clients send their next call
elsewhere), and the calls that were running finish within the grace period.

The quiet wait is only paid when calls were arriving or ending just before: a server whose
last call ended `QUIET_SECONDS` ago closes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# Longer than a call takes to travel from a client to the handler (network, gRPC's core, a
# busy event loop) when nothing is held up: the time a server waits, after the last call
# arrived or ended, before it believes no call is on its way to it.
QUIET_SECONDS = 0.05
# Clients that keep sending calls without waiting for answers never leave a quiet moment:
# the door then stays closed this long at most before the GOAWAY goes out anyway.
HOLD_LIMIT_SECONDS = 1.0


class CallGate:
    """The calls of one server: how many run, when the last one arrived or ended, and the door."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.running = 0  # counted calls inside, and those waiting at the door
        self._last_activity = 0.0  # loop time a call last arrived or ended
        self._changed = asyncio.Event()

    def _activity(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._changed.set()

    @contextlib.asynccontextmanager
    async def call(self, *, counted: bool = True) -> AsyncIterator[None]:
        """One call: it waits while the door is closed, then runs; `counted` calls are waited
        for by `drain` (not health checks and other calls that never end by themselves)."""
        self._activity()
        if counted:
            self.running += 1
        try:
            await self._open.wait()
            yield
        finally:
            if counted:
                self.running -= 1
            self._activity()

    async def close_door(self, *, quiet: float = QUIET_SECONDS, limit: float = HOLD_LIMIT_SECONDS) -> bool:
        """Hold every call that arrives from now on at the door, and wait until none has arrived
        or ended for `quiet` seconds (`limit` seconds at most): whether it came quiet."""
        self._open.clear()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit):
                while (quiet_for := loop.time() - self._last_activity) < quiet:
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(quiet - quiet_for):
                            await self._changed.wait()
        except TimeoutError:
            return False
        return True

    def open_door(self) -> None:
        """Let the calls that wait at the door (and every later one) in."""
        self._open.set()

    async def drain(self, timeout: float) -> int:
        """Wait (up to `timeout` seconds) until no counted call is left; how many are left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.running:
                    self._changed.clear()
                    await self._changed.wait()
        return self.running
