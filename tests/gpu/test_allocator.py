"""``gpu.allocator.keep_freed_memory``: glibc's thresholds are set once per process."""

from __future__ import annotations

import subprocess
import sys


def test_the_thresholds_are_set_once_in_a_fresh_process() -> None:
    # a child, so that this test process keeps its allocator as it was
    code = (
        "from mipguide.gpu.allocator import keep_freed_memory as k\n"
        "first, again = k(), k()\n"
        "print(first, again)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]  # glibc (Linux): set, and cached after
