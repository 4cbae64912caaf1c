"""The benchmarks run (small sizes, no thresholds: a smoke check, not a timed test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_bench_quick_prints_the_table():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--quick"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    for row in ("time to running: bare QEMU, small", "time to running: exec path, small",
                "time to running: python execs QEMU at once, small",
                "time to running: exec path, large", "time to running: feed path, small",
                "time to running: drop-in, small", "time to running: cold first run, small",
                "start to exit: `python -c pass`", "QEMU a stand-in that exits at once",
                "the warm start's cost above the floor", "feed, per command", "parse + plan",
                "--check", "cold probe", "RSS while supervising"):
        assert row in r.stdout
    assert "x |" in r.stdout          # ratios against bare QEMU measured in the same run
