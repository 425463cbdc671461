"""hypercorn's connection, closed as soon as its client has closed it; and told, when its
server stops (the Gateway's, a service's HTTP port), to take no new streams.

hypercorn 0.18 closes a connection's socket once the connection's task group is done
(`hypercorn.asyncio.tcp_server.TCPServer.run`). That group also runs the keep-alive timer
(`_idle_timeout`), which is started again whenever the connection goes idle and is left
running when the client's end of the stream arrives (`_read_data`): every connection a client
closed stayed half-open (CLOSE-WAIT) for the whole keep-alive, 300 s here. The calls of such a
connection get `http.disconnect` from hypercorn and end; the timer now ends with the reading.

When its shutdown begins, hypercorn closes idle connections, lets busy ones finish their
streams, and answers a new stream on a busy HTTP/2 connection with RST_STREAM NO_ERROR, which
a gRPC client reports as INTERNAL. It cannot send a graceful GOAWAY first (the h2 library
allows no frame after a GOAWAY, so in-flight streams could not finish). What it can send is
SETTINGS_MAX_CONCURRENT_STREAMS 0 (`refuse_new_streams`): the client opens no new stream on
the connection and keeps its next calls until the connection closes, then makes them on a
new one, elsewhere (gRPC retries such never-sent calls by itself). An idle connection then
closed gets a GOAWAY first (`_initiate_server_close`): on a bare close, gRPC clients were seen
keeping such calls until their deadline.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import hypercorn.asyncio.run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.config import Config
from hypercorn.events import Event, RawData, Updated
from hypercorn.protocol.h2 import H2Protocol

# The identifier of SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2).
MAX_CONCURRENT_STREAMS = 0x3

_connections: weakref.WeakSet[_ClosingTCPServer] = weakref.WeakSet()


class _ClosingTCPServer(TCPServer):
    _client_gone = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _connections.add(self)

    async def _read_data(self) -> None:
        await super()._read_data()
        self._client_gone = True
        await self.idle_task.stop()

    async def _initiate_server_close(self) -> None:
        """An idle connection closed by the server (its keep-alive ran out, or the Gateway
        stops) says so with a GOAWAY first: a gRPC client keeping calls for it (after
        SETTINGS_MAX_CONCURRENT_STREAMS 0) then knows they were never taken, and makes them on
        a new connection instead of waiting for their deadline."""
        protocol = getattr(self.protocol, "protocol", None)
        if isinstance(protocol, H2Protocol):
            with contextlib.suppress(Exception):  # closed meanwhile: nothing to say
                protocol.connection.close_connection()
                await self.protocol_send(RawData(data=protocol.connection.data_to_send()))
        await super()._initiate_server_close()

    async def protocol_send(self, event: Event) -> None:
        if isinstance(event, Updated) and self._client_gone:
            return  # an idle connection whose client has gone is closed, not kept alive
        await super().protocol_send(event)


def close_connections_promptly() -> None:
    """Serve every connection hypercorn accepts from here on with `_ClosingTCPServer`."""
    hypercorn.asyncio.run.TCPServer = _ClosingTCPServer  # type: ignore[attr-defined]


def _http2_connections(config: Config) -> Iterator[tuple[_ClosingTCPServer, H2Protocol]]:
    """The HTTP/2 connections one server (the one served with `config`) holds now."""
    for connection in list(_connections):
        protocol = getattr(getattr(connection, "protocol", None), "protocol", None)
        if connection.config is config and isinstance(protocol, H2Protocol):
            yield connection, protocol


async def refuse_new_streams(config: Config) -> int:
    """Send SETTINGS_MAX_CONCURRENT_STREAMS 0 on every HTTP/2 connection served with `config`
    (one server's), so that its clients open no new stream on it; how many were told."""
    told = 0
    for connection, protocol in _http2_connections(config):
        with contextlib.suppress(Exception):  # a connection closing meanwhile has nothing to tell
            protocol.connection.update_settings({MAX_CONCURRENT_STREAMS: 0})
            await connection.protocol_send(RawData(data=protocol.connection.data_to_send()))
            told += 1
    return told


async def close_idle_connections(config: Config) -> int:
    """Close every HTTP/2 connection of one server that holds no stream; how many were closed.

    At its shutdown hypercorn closes a connection when the connection's keep-alive timer sees
    the shutdown, and the timer runs only from the moment the connection last went idle. A
    connection whose client reset its last streams is idle without a timer running: it was
    kept open for the whole graceful timeout, so the stop took the full grace with nothing to
    wait for."""
    closed = 0
    for connection, protocol in _http2_connections(config):
        if protocol.streams or protocol.closed:
            continue
        with contextlib.suppress(Exception):  # closed meanwhile
            await connection._initiate_server_close()
            closed += 1
    return closed
