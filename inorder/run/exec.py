"""The exec process model: inorder-qemu becomes QEMU.

When the plan leaves nothing to feed (plan/direct.py), the drop-in execs
QEMU in its own process with the whole argv.  The pid the caller started is
then QEMU's: libvirt, systemd and `$!` track, signal and reap QEMU itself;
every fd the caller passed (a monitor socket, `-add-fd` sets, a pidfile lock)
reaches QEMU unchanged; no inorder-qemu process remains.  QEMU's monitors see
the VM only when QEMU has built it from the complete argv, before its main
loop runs, as with QEMU alone.
"""

from __future__ import annotations

import os
import sys

from ..errors import LaunchError
from ..timing import Timings
from .inherited import Inherited


def exec_qemu(binary: str, argv: list[str], inherited: Inherited, timings: Timings) -> None:
    inherited.unhold()
    timings.mark("exec")
    timings.report()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(binary, [binary, *argv])
    except OSError as e:
        raise LaunchError(f"cannot run {binary}: {e.strerror}") from e
