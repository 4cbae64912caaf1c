"""The exec process model: inorder-qemu becomes QEMU.

When the plan leaves nothing to feed (plan/direct.py), inorder-qemu execs
QEMU in its own process with the whole argv, in every mode (a script, a
shebang script, `-- ARGV`, the drop-in).  The pid the caller started is
then QEMU's: libvirt, systemd and `$!` track, signal and reap QEMU itself;
every fd the caller passed (a monitor socket, `-add-fd` sets, a pidfile lock)
reaches QEMU unchanged; no inorder-qemu process remains.  QEMU's monitors see
the VM only when QEMU has built it from the complete argv, before its main
loop runs, as with QEMU alone.  QEMU's own -daemonize (the parent returns
once the VM is built), -pidfile (written at its start), stdio and signal
handling apply as without inorder-qemu.

What the supervisor would have re-checked on the filesystem for a kept plan
is checked here (and by the warm start, warm.py, which execs a kept direct
plan before the command line is read): a monitor path must not be a file
QEMU would delete to bind its socket (QEMU unlinks whatever is there), and a
pidfile another process holds locked is refused at its line.
"""

from __future__ import annotations

from .. import warm
from ..errors import LaunchError, say
from ..plan.monitors import bound, check_path
from ..plan.step import Plan
from ..timing import Timings
from .inherited import Inherited
from .pidfile import PidFile


def exec_plan(plan: Plan, binary: str, inherited: Inherited, timings: Timings,
              verbose: bool = False) -> None:
    """Check what may have changed since the plan was made, then exec."""
    for monitor in bound(plan.monitors):
        check_path(monitor.opts["path"], monitor.location)
    if plan.pidfile:
        PidFile(plan.pidfile).check()
    if verbose:
        for monitor in plan.monitors:
            if monitor.public:
                say(f"monitor {monitor.label} is reachable from other hosts")
        import shlex                    # 0.7 ms: only for -v
        say("exec: " + " ".join(shlex.quote(w) for w in [binary, *plan.direct_argv]))
    exec_qemu(binary, plan.direct_argv, inherited, timings)


def exec_qemu(binary: str, argv: list[str], inherited: Inherited, timings: Timings) -> None:
    inherited.unhold()
    try:
        warm.execv(binary, argv, timings)
    except OSError as e:
        raise LaunchError(f"cannot run {binary}: {e.strerror}") from e
