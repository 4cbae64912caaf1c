"""The phase machine: one linear phase, never going back.

A command may run in a range of phases.  If QEMU is not there yet, the plan
advances it (the launch, `x-exit-preconfig`, `cont`: qemu/phase.py); a command
whose range has passed is an error naming the command that moved the phase on,
with both locations.
"""

from __future__ import annotations

from ..errors import ScriptError
from ..lang.command import Command
from ..qemu.phase import ADVANCE, ADVANCED_BY, Phase
from .step import QMP, Step


class PhaseMachine:
    def __init__(self, emit):
        self.emit = emit                  # takes the Step of an implicit advance
        self.phase = Phase.STARTUP
        self.advanced_by: dict[Phase, Command | None] = {}
        self.end = Phase.RUNNING          # where the feed ends (-S, --preconfig)

    def require(self, cmd: Command, lo: Phase, hi: Phase, what: str) -> Phase:
        """Bring QEMU into [lo, hi] for `cmd`, or fail if hi has passed."""
        if self.phase > hi:
            by = self.advanced_by.get(self.phase)
            if hi == Phase.STARTUP:
                msg = (f"{what} can only be given on QEMU's command line, but QEMU is "
                       f"already running the script (phase {self.phase})")
            else:
                msg = (f"{what} is allowed up to phase {hi}, but the machine is already "
                       f"in phase {self.phase}")
            err = ScriptError(msg, cmd.loc)
            if by is not None:
                err.note(by.loc, f"phase {self.phase} was entered here, by '{by.spelling()[:60]}'")
            err.note(None, "move it above that line")
            raise err
        while self.phase < lo:
            self.advance(self.phase + 1, cmd, why=f"needed by {cmd.loc}")
        return self.phase

    def advance(self, to: Phase, cmd: Command | None, why: str) -> None:
        """Move to `to`, with the QMP command that does it, sent implicitly."""
        to = Phase(to)
        command = ADVANCE.get(to)
        if command:
            self.emit(Step(cmd, QMP, self.phase, f"implicit: {why}",
                           execute=command, synthetic=True))
        self.phase = to
        self.advanced_by[to] = cmd

    def ran(self, cmd: Command) -> None:
        """A command of the script ran: if it is an advance, the phase moves."""
        to = ADVANCED_BY.get(cmd.name)
        if to is not None and self.phase < to:
            self.phase = to
            self.advanced_by[to] = cmd

    def stop_at(self, phase: Phase) -> None:
        """-S, --preconfig: the feed ends in `phase` at the latest."""
        self.end = min(self.end, phase)
