"""The launch description: what QEMU is given, computed from the plan and
what the run made for it (held sockets, a temporary pidfile, inherited fds),
never written back into the plan."""

from __future__ import annotations

from ..plan.step import Plan
from ..qemu import flags


class Launch:
    __slots__ = ("argv", "pass_fds", "respelled")

    def __init__(self, argv: list[str], pass_fds: set[int], respelled: dict[int, list[str]]):
        self.argv = argv              # QEMU's argv, less the private monitor
        self.pass_fds = pass_fds      # every fd QEMU inherits
        # id(step) -> the words QEMU got instead of the step's argv (a held
        # monitor: "-chardev socket,id=m,fd=5"); QEMU's messages quote these
        self.respelled = respelled

    def spellings(self, step) -> list[list[str]]:
        """How QEMU may quote `step` back: as planned, and as launched."""
        words = self.respelled.get(id(step))
        return [step.argv] if words is None else [words, step.argv]


def describe(plan: Plan, monitors, pidfile_temp: str | None, inherited_fds) -> Launch:
    """`monitors`: the held monitors (run/monitors.py), each with the words
    QEMU gets instead of its step's argv and the fd it must inherit."""
    replaced = {id(m.spec.step): m.words for m in monitors if m.words is not None}
    argv: list[str] = []
    for step in plan.argv_steps:
        argv.extend(replaced.get(id(step), step.argv))
    argv += flags.STOPPED
    if plan.preconfig:
        argv += flags.PRECONFIG
    if pidfile_temp is not None:
        argv += ["-pidfile", pidfile_temp]
    return Launch(argv, set(inherited_fds) | {m.fd for m in monitors}, replaced)
