"""Wall-clock marks for the benchmarks (bench/): set INORDER_TIMINGS=1 and
inorder-qemu prints one line `inorder-timings {...}` on stderr at the release.
Wall-clock time, so a benchmark can line the marks up with its own clock."""

from __future__ import annotations

import json
import os
import sys
import time

_marks: dict[str, float] | None = {} if os.environ.get("INORDER_TIMINGS") else None


def mark(name: str) -> None:
    if _marks is not None:
        _marks[name] = time.time()


def report() -> None:
    if _marks:
        print("inorder-timings " + json.dumps(_marks), file=sys.stderr, flush=True)
