"""hypercorn's connection, closed as soon as its client has closed it.

hypercorn 0.18 closes a connection's socket once the connection's task group is done
(`hypercorn.asyncio.tcp_server.TCPServer.run`). That group also runs the keep-alive timer
(`_idle_timeout`), which is started again whenever the connection goes idle and is left
running when the client's end of the stream arrives (`_read_data`): every connection a client
closed stayed half-open (CLOSE-WAIT) for the whole keep-alive, 300 s here. The calls of such a
connection get `http.disconnect` from hypercorn and end; the timer now ends with the reading.
"""

from __future__ import annotations

import hypercorn.asyncio.run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.events import Event, Updated


class _ClosingTCPServer(TCPServer):
    _client_gone = False

    async def _read_data(self) -> None:
        await super()._read_data()
        self._client_gone = True
        await self.idle_task.stop()

    async def protocol_send(self, event: Event) -> None:
        if isinstance(event, Updated) and self._client_gone:
            return  # an idle connection whose client has gone is closed, not kept alive
        await super().protocol_send(event)


def close_connections_promptly() -> None:
    """Serve every connection hypercorn accepts from here on with `_ClosingTCPServer`."""
    hypercorn.asyncio.run.TCPServer = _ClosingTCPServer  # type: ignore[attr-defined]
