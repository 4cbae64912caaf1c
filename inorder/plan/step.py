"""The plan's types: a Step (one thing the run does) and the Plan.

A plan is immutable once made: plan() freezes it, and the run computes what
it needs (rewritten monitor arguments, held sockets, inherited fds) into its
own launch description (run/launch.py) instead of writing into steps.
"""

from __future__ import annotations

from ..lang import optarg
from ..lang.command import Command
from ..lang.source import Note
from ..qemu.phase import Phase, QUIT

ARGV, QMP = "argv", "qmp"          # the channels


class Step:
    """An argv item at launch, or a QMP command at a phase."""

    __slots__ = ("command", "channel", "phase", "why", "argv", "execute", "arguments",
                 "synthetic", "notes", "pairs")

    def __init__(self, command: Command, channel: str, phase: Phase, why: str, *,
                 argv: list[str] | None = None, execute: str | None = None,
                 arguments: dict | None = None, synthetic: bool = False,
                 pairs: list[optarg.Pair] | None = None, notes: list[Note] | None = None):
        self.command = command
        self.channel = channel            # ARGV or QMP
        self.phase = phase                # the phase it runs in
        self.why = why
        self.argv = argv
        self.execute = execute
        self.arguments = arguments
        self.synthetic = synthetic        # an advance, or a default, the plan added
        self.notes = notes if notes is not None else []   # context for failures
        # the pairs of a key=value argument: to point at the key QEMU
        # complains about
        self.pairs = pairs

    def on_argv(self, why: str, argv: list[str] | None = None) -> Step:
        """The same command, moved onto QEMU's argv."""
        return Step(self.command, ARGV, Phase.STARTUP, why,
                    argv=argv or self.command.words(), pairs=self.pairs, notes=self.notes)

    @property
    def shows_reply(self) -> bool:
        """A QMP command written as such in the script (not an option, not an
        implicit advance): its answer is the script's output."""
        return self.channel == QMP and not self.synthetic and not self.command.is_option

    def to_json(self) -> dict:
        out = {"location": str(self.command.loc), "phase": str(self.phase),
               "channel": self.channel, "why": self.why}
        if self.channel == ARGV:
            out["argv"] = self.argv
        else:
            out["execute"] = self.execute
            if self.arguments:
                out["arguments"] = self.arguments
        if self.synthetic:
            out["implicit"] = True
        return out


class Plan:
    __slots__ = ("steps", "preconfig", "final", "monitors", "warnings", "stdio",
                 "daemonize", "pidfile", "direct_argv")

    def __init__(self, steps: list[Step], preconfig: bool, final: Phase, monitors: list,
                 warnings: list, *, stdio: bool = False, daemonize: bool = False,
                 pidfile: str | None = None, direct_argv: list[str] | None = None):
        self.steps = tuple(steps)
        self.preconfig = preconfig        # launch with --preconfig
        self.final = final                # where the VM is left (the last phase, if it quits)
        self.monitors = tuple(monitors)   # plan.monitors.MonitorSpec
        self.warnings = tuple(warnings)   # (Location, message)
        self.stdio = stdio                # QEMU's stdio is a console or monitor: relay it
        self.daemonize = daemonize
        self.pidfile = pidfile
        # QEMU's argv for the whole script, when QEMU given it at once builds
        # the same VM as the feed would: nothing is left to feed (see
        # plan/direct.py); else None
        self.direct_argv = direct_argv

    @property
    def direct(self) -> bool:
        return self.direct_argv is not None

    @property
    def quits(self) -> bool:
        steps = self.qmp_steps
        return bool(steps) and steps[-1].execute == QUIT

    @property
    def argv_steps(self) -> list[Step]:
        return [s for s in self.steps if s.channel == ARGV]

    @property
    def qmp_steps(self) -> list[Step]:
        return [s for s in self.steps if s.channel == QMP]

    def argv(self) -> list[str]:
        out: list[str] = []
        for step in self.argv_steps:
            out.extend(step.argv)
        return out

    def to_json(self) -> dict:
        return {"preconfig": self.preconfig, "final-phase": str(self.final),
                "argv": self.argv(), "direct-argv": self.direct_argv,
                "steps": [s.to_json() for s in self.steps]}

    def freeze(self) -> Plan:
        """From here on, neither the plan nor its steps change."""
        for step in self.steps:
            step.__class__ = _FrozenStep
        self.__class__ = _FrozenPlan
        return self


def _refuse(self, name, value):
    raise AttributeError(f"a plan is immutable once made (setting {type(self).__bases__[0].__name__}.{name})")


class _FrozenStep(Step):
    __slots__ = ()
    __setattr__ = _refuse


class _FrozenPlan(Plan):
    __slots__ = ()
    __setattr__ = _refuse
