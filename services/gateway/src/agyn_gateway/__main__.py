"""The gateway deployable: the external API over Connect, gRPC and gRPC-Web on one port."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from agyn_common.commandline import parse_command
from agyn_common.logs import configure_logging
from agyn_common.server import run_on
from agyn_common.settings import load_settings
from agyn_common.telemetry import configure_tracing

from agyn_gateway.server import RunningGateway, start_gateway
from agyn_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


async def serve_until_signalled(settings: GatewaySettings) -> None:
    provider = configure_tracing("gateway")
    stop = asyncio.Event()
    running: RunningGateway | None = None

    def on_signal() -> None:
        if stop.is_set() and running is not None:
            running.hurry()  # the second signal: no more lame duck
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    running = await start_gateway(settings, tracer_provider=provider)
    stopped_by_itself = asyncio.ensure_future(running.serving)
    signalled = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopped_by_itself, signalled], return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    log.info(
        "stopping: NOT_SERVING, still serving for the %gs lame duck", settings.shutdown_lame_duck_seconds
    )
    await running.stop()
    provider.shutdown()  # flushes the spans still batched
    log.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_command("agyn-gateway", (), argv)
    settings = load_settings(GatewaySettings, "agyn-gateway")
    configure_logging("gateway", settings.log_level, settings.log_format)
    if options.command == "serve":  # `migrate` is a no-op: the Gateway has no database
        run_on(settings.event_loop, serve_until_signalled(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
