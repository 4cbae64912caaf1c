"""Wall-clock marks for the benchmarks (bench/): with INORDER_TIMINGS=1,
inorder-qemu prints one line `inorder-timings {...}` on stderr at the release
(or the exec, or a dry run).  Wall-clock time, so a benchmark can line the
marks up with its own clock.  One Timings per run, made by cli.main and
handed to what marks."""

from __future__ import annotations

import os
import sys
import time


class Timings:
    def __init__(self, on: bool):
        self._marks: dict[str, float] | None = {} if on else None

    @classmethod
    def from_env(cls) -> Timings:
        return cls(bool(os.environ.get("INORDER_TIMINGS")))

    def mark(self, name: str) -> None:
        if self._marks is not None:
            self._marks[name] = time.time()

    def report(self) -> None:
        if self._marks:
            # the JSON of a flat dict of floats, by hand: json and re cost
            # the warm start 5 to 13 ms (warm.py)
            marks = ", ".join(f'"{name}": {t!r}' for name, t in self._marks.items())
            print("inorder-timings {" + marks + "}", file=sys.stderr, flush=True)
