"""free_port across processes: a port another process handed out is not handed out again
while its server may still be starting (a benchmark or another checkout's tests beside these)."""

from __future__ import annotations

import subprocess
import sys

from agyn_common import embedded

HOLDER = """
import sys
from agyn_common.embedded import free_port
print(free_port(), flush=True)
sys.stdin.read()
"""


def test_a_port_handed_out_by_another_process_is_reserved_until_it_exits():
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        port = int(holder.stdout.readline())
        assert not embedded._reserve(port)
    finally:
        holder.communicate("")
    assert embedded._reserve(port)
