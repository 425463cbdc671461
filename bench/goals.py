"""Every benchmark on one local platform, then the goals of issue 23 next to what was measured.

    make bench        (or: .venv/bin/python bench/goals.py)

Runs `messaging.py` (SendMessage and its delivery at 1, 10 and 100 senders, next to raw
PostgreSQL and NATS), `gateway.py` (GetMe through the Gateway and straight to Users),
`calls.py` (GetUser next to a bare grpc.aio echo server, with each server's CPU per call),
`files.py` (20 MiB through the Gateway next to the object store itself, and Files' memory),
`workload_logs.py` (a workload's log through the Gateway and Runners next to the runner itself),
`tracing.py` (OTLP ingest next to a raw PostgreSQL COPY, and Export -> StreamRunEvents) and
`chat.py` (Chat's GetChats next to Threads' GetThreads of the same threads), each printing its
own table, and ends with one row per goal. Every ratio compares two figures
taken in this run on this machine. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import calls
import chat
import files
import gateway
import messaging
import tracing
import workload_logs
from agyn_local.platform import LocalPlatform
from figures import on_a_local_platform


@dataclass
class Goal:
    measure: str
    measured: float
    shown: str  # the figure as printed, with its baseline
    goal: str
    met: Callable[[float], bool]


async def measure(platform: LocalPlatform) -> None:
    print("== SendMessage and its delivery")
    levels = await messaging.measure(platform)
    print("\n== GetMe through the Gateway")
    through_gateway = await gateway.measure_platform(platform)
    print("\n== The cost of one call")
    cost = await calls.measure(platform)
    print("\n== Files: 20 MiB through the Gateway and straight to the store")
    stored = await files.measure(platform)
    print("\n== A workload's log through the Gateway and straight from the runner")
    await workload_logs.measure(platform)
    print("\n== Tracing: OTLP ingest next to a raw COPY, and Export -> StreamRunEvents")
    traced = await tracing.measure(platform)
    print("\n== GetChats next to Threads' own listing of the same threads")
    chats = await chat.measure(platform)

    at_100, at_10 = levels[100], levels[10]
    send_ratio = at_100.sending.throughput / at_100.insert.throughput
    delivery_p99 = at_10.delivery.percentile(0.99)
    get_user_ratio = cost.get_user.figures.throughput / cost.echo.figures.throughput
    cpu_ratio = cost.get_user.cpu_ms / cost.echo.cpu_ms
    gateway_10 = through_gateway[10]
    direct, connect = gateway_10["straight to Users (gRPC)"], gateway_10["through the Gateway (Connect JSON)"]
    connect_ratio = connect.throughput / direct.throughput
    metrics_ratio = cost.with_metrics.cpu_ms / cost.without_metrics.cpu_ms
    ingest_ratio = traced.ingest_spans_per_second / traced.copy_rows_per_second
    followed_p99 = traced.followed.percentile(0.99)
    chats_ratio, chats_alone, chats_with_agents = (
        chats.ratio(chats.people, 10),
        chats.ratio(chats.people, 1),
        chats.ratio(chats.with_agents, 10),
    )
    goals = [
        Goal(
            "SendMessage at 100 senders / raw insert+commit",
            send_ratio,
            f"{send_ratio:.2f}x ({at_100.sending.throughput:.0f}/s vs {at_100.insert.throughput:.0f}/s)",
            ">= 0.40x",
            lambda value: value >= 0.40,
        ),
        Goal(
            "SendMessage -> Subscribe p99, 10 senders",
            delivery_p99,
            f"{delivery_p99:.1f} ms (p50 {at_10.delivery.percentile(0.5):.1f} ms)",
            "<= 20 ms",
            lambda value: value <= 20,
        ),
        Goal(
            "GetUser, 10 callers / bare grpc.aio echo",
            get_user_ratio,
            f"{get_user_ratio:.2f}x ({cost.get_user.figures.throughput:.0f}/s "
            f"vs {cost.echo.figures.throughput:.0f}/s)",
            ">= 0.6x",
            lambda value: value >= 0.6,
        ),
        Goal(
            "CPU per GetUser in Users / echo's",
            cpu_ratio,
            f"{cpu_ratio:.1f}x ({cost.get_user.cpu_ms:.3f} ms vs {cost.echo.cpu_ms:.3f} ms)",
            "<= 3x",
            lambda value: value <= 3,
        ),
        Goal(
            "CPU per SendMessage in Threads, 100 senders",
            at_100.threads_cpu_ms,
            f"{at_100.threads_cpu_ms:.2f} ms (10 senders: {at_10.threads_cpu_ms:.2f} ms)",
            "<= 1 ms",
            lambda value: value <= 1,
        ),
        Goal(
            "GetMe via Gateway Connect JSON / direct, 10",
            connect_ratio,
            f"{connect_ratio:.2f}x, p99/p50 {connect.percentile(0.99) / connect.percentile(0.5):.1f}",
            ">= 0.9x",
            lambda value: value >= 0.9,
        ),
        Goal(
            "CPU per GetUser, metrics on / off (issue 24)",
            metrics_ratio,
            f"{metrics_ratio:.3f}x "
            f"({cost.with_metrics.cpu_ms:.3f} ms vs {cost.without_metrics.cpu_ms:.3f} ms)",
            "<= 1.05x",
            lambda value: value <= 1.05,
        ),
        Goal(
            "Files' memory growth taking a 20 MiB upload",
            stored.peak_rss_mib - stored.idle_rss_mib,
            f"+{stored.peak_rss_mib - stored.idle_rss_mib:.1f} MiB ({stored.idle_rss_mib:.0f} MiB idle)",
            "< 20 MiB",  # less than the file: it is never held whole
            lambda value: value < 20,
        ),
        Goal(
            "Tracing ingest / raw COPY, 512-span batches",
            ingest_ratio,
            f"{ingest_ratio:.2f}x ({traced.ingest_spans_per_second:.0f}/s vs "
            f"{traced.copy_rows_per_second:.0f}/s)",
            # Per span, ingest does what COPY does and more: protobuf to JSON, an upsert with
            # RETURNING instead of an append, two outbox rows and their relay to NATS. About
            # four times COPY's work, so a quarter of its rate.
            ">= 0.25x",
            lambda value: value >= 0.25,
        ),
        Goal(
            "Export -> StreamRunEvents p99, via the Gateway",
            followed_p99,
            f"{followed_p99:.1f} ms (p50 {traced.followed.percentile(0.5):.1f} ms)",
            # SendMessage -> Subscribe's 20 ms, and the hops it adds: the stream re-reads the
            # row, and the Gateway relays it.
            "<= 50 ms",
            lambda value: value <= 50,
        ),
        Goal(
            "GetChats / GetThreads, 50 of 500, 10 callers",
            chats_ratio,
            f"{chats_ratio:.2f}x (1 caller {chats_alone:.2f}x; agents {chats_with_agents:.2f}x)",
            ">= 0.5x",
            lambda value: value >= 0.5,
        ),
    ]
    print("\n== Goals (issues 23 to 29)")
    print(f"{'measure':<48}{'measured':<40}{'goal':<10}")
    for goal in goals:
        verdict = "met" if goal.met(goal.measured) else "NOT met"
        print(f"{goal.measure:<48}{goal.shown:<40}{goal.goal:<10}{verdict}")


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
