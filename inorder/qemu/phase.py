"""The one phase of a VM under construction: QEMU's machine phase and run
state folded into a single linear order, and the QMP command that moves QEMU
from one phase to the next.  Phases only move forward."""

from __future__ import annotations

import enum


class Phase(enum.IntEnum):
    STARTUP = 0        # no QEMU process yet: only its argv can be chosen
    PRECONFIG = 1      # QEMU paused by --preconfig, before board init
    MACHINE_READY = 2  # board built, cold devices realized, CPUs stopped (-S)
    RUNNING = 3        # after cont

    def __str__(self) -> str:
        return self.name.lower().replace("_", "-")


EXIT_PRECONFIG = "x-exit-preconfig"    # runs board init, realizes the argv devices
CONT = "cont"
QUIT = "quit"

# What moves QEMU into a phase, as a QMP command.
ADVANCE = {
    Phase.MACHINE_READY: EXIT_PRECONFIG,
    Phase.RUNNING: CONT,
}
# ... and the other way round: the phase a command of the script moves to.
ADVANCED_BY = {command: phase for phase, command in ADVANCE.items()}
