"""Commands → plan: the walk, left to right.

Each command is checked where it stands: its phase (phases.py), the ids it
defines and uses (ids.py), and the channel its role gives it (channel.py for
options; QMP commands run over QMP at the phase they need).  After the walk:
what the board resolves must exist, QEMU's default monitor is written out, the
end phase is reached, and the plan is checked for being direct (direct.py).

Planning knows QEMU only through the profile of the binary and the tables in
qemu/; it starts nothing.  (It does look at the filesystem: monitor paths,
inherited fds.)
"""

from __future__ import annotations

from ..errors import ScriptError
from ..lang import optarg
from ..lang.command import Command
from ..qemu import flags
from ..qemu.commands import (COMMAND_DEFINES, COMMAND_DELETES, COMMAND_PHASES, COMMAND_USES,
                             DONE_ALREADY)
from ..qemu.options import ARGV as ARGV_OPTION, OPTIONS, OptionSpec
from ..qemu.phase import EXIT_PRECONFIG, QUIT, Phase
from . import devices, direct, validate
from .channel import ROLES
from .ids import References
from .monitors import Monitors
from .phases import PhaseMachine
from .step import ARGV, QMP, Plan, Step


def plan(commands: list[Command], profile, *, compat: bool = False,
         feed: bool = False, inspect: bool = False) -> Plan:
    """Plan `commands`.  compat: QEMU-compatible resolution (the drop-in,
    --qemu-compat): a reference QEMU resolves at board init may point at an
    id defined further on, with a warning, as QEMU itself accepts it.
    feed: backends go over QMP at their position even in a direct plan,
    whose backends otherwise ride on argv (direct.on_argv).
    inspect: --dry-run, --check: what only a real run needs (the fds an
    argv from a log names) is a warning, not an error."""
    return Planner(profile, compat, feed, inspect).run(commands).freeze()


class Planner:
    def __init__(self, profile, compat: bool = False, feed: bool = False,
                 inspect: bool = False):
        self.profile = profile
        self.compat = compat
        self.feed = feed
        self.monitor_chardevs: set[str] = set()   # named by a -mon: run() fills it
        self.steps: list[Step] = []
        self.phases = PhaseMachine(self.emit)
        self.refs = References(self.hoist)
        self.monitors = Monitors(inspect)
        self.warnings: list = []            # (Location, message)
        self.deferred: list[Step] = []      # compat: steps moved to the end of preconfig
        self.cold_devices: set[str] = set()
        # the QOM types of the paths a qom-set may name: /machine and each
        # -device's /machine/peripheral/ID (validate.qom)
        self.qom_types: dict[str, str] = {}
        self.daemonize = False
        self.pidfile: str | None = None
        self._splits: dict[int, list] = {}

    def emit(self, step: Step) -> None:
        self.steps.append(step)

    # -- the walk ---------------------------------------------------------

    def run(self, commands: list[Command]) -> Plan:
        self.refs.index(commands, self._defines_of)
        self.monitor_chardevs = _monitor_chardevs(commands)
        validate.machine_given(self.profile, commands)
        quit_cmd = None
        for cmd in commands:
            if quit_cmd is not None:
                raise ScriptError(f"nothing runs after '{QUIT}'", cmd.loc).note(
                    quit_cmd.loc, "QEMU quits here")
            if cmd.name == QUIT and not cmd.is_option:
                quit_cmd = cmd
            if cmd.is_option:
                self._option(cmd)
            else:
                self._qmp(cmd)
        if self.daemonize and self.monitors.stdio is not None:
            raise ScriptError("-daemonize cannot be used with a console or monitor on stdio",
                              self.monitors.stdio)
        self.refs.resolve_board_uses()
        self._place_deferred()
        self._default_monitor(commands)
        phases = self.phases
        final = phases.phase if quit_cmd else max(phases.phase, phases.end)
        last = commands[-1] if commands else None
        while phases.phase < final:
            phases.advance(phases.phase + 1, last, why="end of script")
        return self._finish(commands, final)

    def _finish(self, commands: list[Command], final: Phase) -> Plan:
        steps = self.steps
        is_direct = direct.is_direct(steps, self.refs.refs, self.refs.ranks)
        if is_direct and not self.feed:
            steps = direct.on_argv(steps)
        preconfig = self.phases.end == Phase.PRECONFIG or any(
            s.channel == QMP and s.phase == Phase.PRECONFIG and not s.synthetic for s in steps)
        if not preconfig:
            # Without --preconfig QEMU starts in machine-ready: nothing to exit.
            steps = [s for s in steps if not (s.synthetic and s.execute == EXIT_PRECONFIG)]
        steps = devices.one_syntax(steps)
        return Plan(steps, preconfig, final, self.monitors.user,
                    self.warnings + self.monitors.warnings,
                    stdio=self.monitors.stdio is not None, daemonize=self.daemonize,
                    pidfile=self.pidfile,
                    direct_argv=direct.whole_argv(commands, steps) if is_direct else None)

    def _default_monitor(self, commands: list[Command]) -> None:
        """QEMU creates a default monitor only when no monitor option is given;
        the private monitor is one, so create QEMU's default explicitly."""
        if not commands:
            return
        words = flags.default_monitor({c.name for c in commands if c.is_option})
        if words is None:
            return
        cmd = next((c for c in commands if c.name == "nographic" and c.is_option), commands[0])
        self.steps.insert(0, Step(cmd, ARGV, Phase.STARTUP,
                                  "QEMU's default monitor: the private one would suppress it",
                                  argv=words, synthetic=True))

    def _defines_of(self, cmd: Command):
        """The id `cmd` defines: ((namespace, key), value), or None."""
        if cmd.is_option:
            spec = OPTIONS.get(cmd.name)
            key = spec.defines if spec else None
        else:
            spec, key = None, COMMAND_DEFINES.get(cmd.name)
        if not key:
            return None
        member = key[1]
        if isinstance(cmd.arg, dict):
            return key, cmd.arg.get(member)
        if isinstance(cmd.arg, str):
            pairs = [p for p, _ in self._split(cmd, spec)]
            if member == "id":            # the first, as QEMU takes it
                pair = next((p for p in pairs if p.key == "id"), None)
            else:
                pair = optarg.get(pairs, member)
            return key, pair.value if pair else None
        return None

    def _place_deferred(self) -> None:
        """Compat: steps that name backends defined further on run at the end
        of preconfig, where QEMU itself would resolve them."""
        if not self.deferred:
            return
        at = next((i for i, s in enumerate(self.steps)
                   if s.channel == QMP and s.phase > Phase.PRECONFIG
                   or s.synthetic and s.execute == EXIT_PRECONFIG), len(self.steps))
        self.steps[at:at] = self.deferred

    # -- options ----------------------------------------------------------

    def _option(self, cmd: Command) -> None:
        name = cmd.name
        takes = self.profile.options.get(name)
        if takes is None:
            raise ScriptError(f"unknown option '-{name}' (not in {self.profile.binary} -h)", cmd.loc)
        spec = OPTIONS.get(name, ARGV_OPTION)
        if takes and cmd.arg is None:
            raise ScriptError(f"option '-{name}' requires an argument", cmd.loc)
        if not takes and cmd.arg is not None:
            raise ScriptError(f"option '-{name}' takes no argument", cmd.arg_loc or cmd.loc)
        if cmd.json and not spec.json:
            raise ScriptError(f"option '-{name}' does not take a JSON argument", cmd.arg_loc or cmd.loc)
        pairs, args = self._arguments(cmd, spec)
        validate.option(self.profile, cmd, spec, pairs, args)
        ROLES[spec.role](self, cmd, spec, pairs, args)
        self._qom_type(cmd, args)

    def _qom_type(self, cmd: Command, args) -> None:
        if not isinstance(args, dict):
            return
        plain = optarg.plain(args)
        if cmd.name in ("machine", "M") and isinstance(plain.get("type"), str):
            self.qom_types["/machine"] = plain["type"]
        elif cmd.name == "device" and isinstance(plain.get("id"), str) \
                and isinstance(plain.get("driver"), str):
            driver = validate.DEVICE_ALIASES.get(plain["driver"], plain["driver"])
            self.qom_types[f"/machine/peripheral/{plain['id']}"] = driver

    def _split(self, cmd: Command, spec: OptionSpec) -> list:
        """The key=value pairs of an option argument, split once per command
        (the index of definitions and the walk both need them)."""
        found = self._splits.get(id(cmd))
        if found is None:
            found = self._splits[id(cmd)] = optarg.split(
                cmd.arg, spec.implied, keyval=spec.syntax == "keyval")
        return found

    def _arguments(self, cmd: Command, spec: OptionSpec):
        if cmd.json:
            return None, cmd.arg
        if spec.syntax is None or cmd.arg is None:
            return None, None
        pairs = []
        for pair, problem in self._split(cmd, spec):
            if problem:
                raise ScriptError(f"malformed option argument: {problem}",
                                  cmd.arg_at(pair.offset, max(len(pair.key), 1)))
            pairs.append(pair)
        return pairs, optarg.option_arguments(pairs, dotted=spec.syntax == "keyval")

    def argv_step(self, cmd: Command, why: str, pairs=None) -> Step:
        step = Step(cmd, ARGV, Phase.STARTUP, why, argv=cmd.words(), pairs=pairs)
        self.emit(step)
        return step

    def check_ids(self, cmd, uses, pairs, args, *, creation=False, board=False) -> bool:
        return self.refs.check(cmd, uses, pairs, args, creation=creation, board=board,
                               warnings=self.warnings)

    def hoist(self, step: Step, user: Command) -> None:
        """An argv item that resolves an id when QEMU creates it needs the
        definition on argv too: QMP steps only run after the launch.  (The
        plan is still being made: the step moves in place, so every
        reference to it follows.)"""
        if step.channel == ARGV:
            return
        cmd = step.command
        if not cmd.is_option:
            raise ScriptError(f"'{cmd.name}' over QMP runs after QEMU starts, but {user.loc} "
                              "needs its result when QEMU starts: use the option form", cmd.loc)
        step.channel = ARGV
        step.phase = Phase.STARTUP
        step.why = f"needed when QEMU creates {user.loc}"
        step.argv = cmd.words()

    # -- QMP commands -----------------------------------------------------

    def _qmp(self, cmd: Command) -> None:
        name = cmd.name
        if name in DONE_ALREADY:
            return                        # no step: see DONE_ALREADY
        if name not in self.profile.commands:
            raise ScriptError(f"unknown QMP command '{name}' (not in query-commands of "
                              f"{self.profile.binary})", cmd.loc)
        validate.command(self.profile, cmd)
        validate.qom(self.profile, cmd, self.qom_types)
        if name in COMMAND_PHASES:
            lo, hi = COMMAND_PHASES[name]
        else:
            lo = Phase.PRECONFIG if name in self.profile.preconfig else Phase.MACHINE_READY
            hi = Phase.RUNNING
        if self._touches_cold_device(cmd):
            lo = max(lo, Phase.MACHINE_READY)
        defines = COMMAND_DEFINES.get(name)
        self.check_ids(cmd, COMMAND_USES.get(name, {}), None, cmd.arg)
        phase = self.phases.require(cmd, lo, hi, f"'{name}'")
        step = Step(cmd, QMP, phase, "QMP command", execute=name, arguments=cmd.arg)
        self.emit(step)
        self.refs.define(cmd, defines, None, cmd.arg, step)
        if name in COMMAND_DELETES:
            ns, key = COMMAND_DELETES[name]
            self.refs.undefine(ns, cmd.arg.get(key))
        self.phases.ran(cmd)

    def _touches_cold_device(self, cmd: Command) -> bool:
        path = cmd.arg.get("path") if isinstance(cmd.arg, dict) else None
        if isinstance(path, str) and path.startswith("/machine/peripheral/"):
            return path.split("/")[3] in self.cold_devices
        return False


def _monitor_chardevs(commands: list[Command]) -> set[str]:
    """The chardevs some -mon names (wherever it is written)."""
    out = set()
    for cmd in commands:
        if cmd.is_option and cmd.name == "mon":
            if isinstance(cmd.arg, dict) and isinstance(cmd.arg.get("chardev"), str):
                out.add(cmd.arg["chardev"])
            elif isinstance(cmd.arg, str):
                for part in cmd.arg.split(","):
                    if part.startswith("chardev="):
                        out.add(part.removeprefix("chardev="))
    return out
