"""Commands → plan: the phase machine, channel choice and reference checks.

Commands are checked left to right.  Each one may run in a range of phases; if
QEMU is not there yet the plan advances it (the launch, `x-exit-preconfig`,
`cont`), and a command whose range has passed is an error naming the command
that moved the phase on.  Each command then gets the channel that gives it the
meaning of its position:

- argv, fixed at launch: what only argv can set, every cold device (QEMU
  realizes argv devices in argv order during x-exit-preconfig, after every
  preconfig QMP step), and whatever an argv item needs when it is created;
- QMP, in script order, at the phase the command runs in.
"""

from __future__ import annotations

import re
from . import optstr
from .command import Command
from .errors import ScriptError
from .options import (ARGV, BOARD, COMMAND_DEFINES, COMMAND_DELETES, COMMAND_PHASES,
                      COMMAND_USES, DEVICE, LATE_OBJECTS, NATIVE_ORDER, OPTIONS,
                      RESERVED_COMMANDS, OptionSpec)
from .phase import ADVANCE, Phase
from .source import Location, Note

_ID = re.compile(r"[A-Za-z][A-Za-z0-9._-]*\Z")


class Step:
    """One thing the feeder does: an argv item at launch, or a QMP command."""

    __slots__ = ("command", "channel", "phase", "why", "argv", "execute", "arguments",
                 "synthetic", "notes", "pairs")

    def __init__(self, command: Command, channel: str, phase: Phase, why: str, *,
                 argv: list[str] | None = None, execute: str | None = None,
                 arguments: dict | None = None, synthetic: bool = False,
                 pairs: list[optstr.Pair] | None = None):
        self.command = command
        self.channel = channel            # "argv" or "qmp"
        self.phase = phase                # the phase it runs in
        self.why = why
        self.argv = argv
        self.execute = execute
        self.arguments = arguments
        self.synthetic = synthetic        # an advance the plan added
        self.notes: list[Note] = []       # context for failures
        # the pairs of a key=value argument: to rewrite it (monitors), and to
        # point at the key QEMU complains about
        self.pairs = pairs

    @property
    def shows_reply(self) -> bool:
        """A QMP command written as such in the script (not an option, not an
        implicit advance): its answer is the script's output."""
        return self.channel == "qmp" and not self.synthetic and not self.command.is_option

    def to_json(self) -> dict:
        out = {"location": str(self.command.loc), "phase": str(self.phase),
               "channel": self.channel, "why": self.why}
        if self.channel == "argv":
            out["argv"] = self.argv
        else:
            out["execute"] = self.execute
            if self.arguments:
                out["arguments"] = self.arguments
        if self.synthetic:
            out["implicit"] = True
        return out


class Plan:
    def __init__(self, steps: list[Step], preconfig: bool, final: Phase, monitors: list,
                 warnings: list, *, stdio: bool = False, daemonize: bool = False,
                 pidfile: str | None = None, direct_argv: list[str] | None = None):
        self.steps = steps
        self.preconfig = preconfig        # launch with --preconfig
        self.final = final                # where the VM is left (the last phase, if it quits)
        self.monitors = monitors          # monitors.UserMonitor
        self.warnings = warnings          # (Location, message)
        self.stdio = stdio                # QEMU's stdio is a console or monitor: relay it
        self.daemonize = daemonize
        self.pidfile = pidfile
        # QEMU's argv for the whole script, when QEMU given it at once builds
        # the same VM as the feed would: nothing is left to feed (see
        # Planner._direct); else None
        self.direct_argv = direct_argv

    @property
    def direct(self) -> bool:
        return self.direct_argv is not None

    @property
    def quits(self) -> bool:
        steps = self.qmp_steps
        return bool(steps) and steps[-1].execute == "quit"

    @property
    def argv_steps(self) -> list[Step]:
        return [s for s in self.steps if s.channel == "argv"]

    @property
    def qmp_steps(self) -> list[Step]:
        return [s for s in self.steps if s.channel == "qmp"]

    def argv(self) -> list[str]:
        out: list[str] = []
        for step in self.argv_steps:
            out.extend(step.argv)
        return out

    def to_json(self) -> dict:
        return {"preconfig": self.preconfig, "final-phase": str(self.final),
                "argv": self.argv(), "direct-argv": self.direct_argv,
                "steps": [s.to_json() for s in self.steps]}


def plan(commands: list[Command], profile, *, compat: bool = False,
         feed: bool = False) -> Plan:
    """Plan `commands`.  compat: QEMU-compatible resolution (the drop-in,
    --qemu-compat): a reference QEMU resolves at board init may point at an
    id defined further on, with a warning, as QEMU itself accepts it.
    feed: backends go over QMP at their position even in a direct plan,
    whose backends otherwise ride on argv (see _on_argv)."""
    return Planner(profile, compat, feed).run(commands)


class Planner:
    def __init__(self, profile, compat: bool = False, feed: bool = False):
        self.profile = profile
        self.compat = compat
        self.feed = feed
        self.warnings: list[tuple[Location, str]] = []
        self.deferred: list[Step] = []      # compat: steps moved to the end of preconfig
        self._splits: dict[int, list] = {}
        self.phase = Phase.STARTUP
        self.advanced_by: dict[Phase, Command] = {}
        self.end = Phase.RUNNING
        self.steps: list[Step] = []
        # namespace -> id -> (location of the definition, step)
        self.defined: dict[str, dict[str, tuple[Location, Step]]] = {}
        self.cold_devices: set[str] = set()
        # (namespace, id) -> the command that first defines it
        self.all_definitions: dict[tuple[str, str], Command] = {}
        # (namespace, id, where, the user if the definition must be on argv)
        self.board_uses: list[tuple[str, str, Location, Command | None]] = []
        self.daemonize = False
        self.pidfile: str | None = None
        # QEMU's native creation rank of each defining step, and every
        # (rank of the user, defining step) reference: see _direct
        self._ranks: dict[int, int] = {}
        self._refs: list[tuple[int | None, Step]] = []
        from .monitors import Monitors
        self.monitors = Monitors()

    # -- the walk ---------------------------------------------------------

    def run(self, commands: list[Command]) -> Plan:
        self._index_definitions(commands)
        quit_cmd = None
        for cmd in commands:
            if quit_cmd is not None:
                raise ScriptError("nothing runs after 'quit'", cmd.loc).note(
                    quit_cmd.loc, "QEMU quits here")
            if cmd.name == "quit" and not cmd.is_option:
                quit_cmd = cmd
            if cmd.is_option:
                self._option(cmd)
            else:
                self._qmp(cmd)
        if self.daemonize and self.monitors.stdio is not None:
            raise ScriptError("-daemonize cannot be used with a console or monitor on stdio",
                              self.monitors.stdio)
        for ns, name, loc, argv_user in self.board_uses:
            found = self.defined.get(ns, {}).get(name)
            if found is None:
                raise ScriptError(f"{ns} '{name}' is never defined", loc)
            if argv_user is not None:
                self._hoist(found[1], argv_user)
        self._place_deferred()
        self._default_monitor(commands)
        final = self.phase if quit_cmd else max(self.phase, self.end)
        last = commands[-1] if commands else None
        while self.phase < final:
            self._advance(self.phase + 1, last, why="end of script")
        direct = self._direct(self.steps)
        if direct and not self.feed:
            self.steps = _on_argv(self.steps)
        preconfig = self.end == Phase.PRECONFIG or any(
            s.channel == "qmp" and s.phase == Phase.PRECONFIG and not s.synthetic
            for s in self.steps)
        steps = self.steps
        if not preconfig:
            # Without --preconfig QEMU starts in machine-ready: nothing to exit.
            steps = [s for s in steps if not (s.synthetic and s.execute == "x-exit-preconfig")]
        _one_device_syntax([s for s in steps if s.channel == "argv" and s.command.name == "device"
                            and s.command.is_option])
        direct_argv = _words(commands, steps) if direct else None
        return Plan(steps, preconfig, final, self.monitors.user,
                    self.warnings + self.monitors.warnings,
                    stdio=self.monitors.stdio is not None, daemonize=self.daemonize,
                    pidfile=self.pidfile, direct_argv=direct_argv)

    def _direct(self, steps: list[Step]) -> bool:
        """Whether QEMU, given every option of the script on its argv at once,
        builds the VM the feed would build.  It does when every QMP step
        creates a backend before board init (the advances aside: QEMU makes
        those itself), and every reference among backends points down QEMU's
        own creation order (NATIVE_ORDER): QEMU then creates each backend
        after everything it names, as the script does, and realizes the cold
        devices in argv order after all of them."""
        for s in steps:
            if s.channel != "qmp" or s.synthetic and s.execute in ("x-exit-preconfig", "cont"):
                continue
            cmd = s.command
            if not (cmd.is_option and s.phase == Phase.PRECONFIG
                    and OPTIONS.get(cmd.name, ARGV).role in ("backend", "numa")):
                return False
        for user_rank, definition in self._refs:
            rank = self._ranks.get(id(definition))
            if user_rank is not None and rank is not None and rank > user_rank:
                return False
        return True

    def _default_monitor(self, commands: list[Command]) -> None:
        """QEMU creates a default monitor only when no monitor option is given;
        the private monitor is one, so create QEMU's default explicitly (as
        vl.c would: muxed with the serial port on stdio under -nographic)."""
        seen = {c.name for c in commands if c.is_option}
        if "nodefaults" in seen or seen & {"monitor", "qmp", "qmp-pretty", "mon"} or not commands:
            return
        if "nographic" in seen:
            words = ["-monitor", "stdio"] if "serial" in seen else ["-serial", "mon:stdio"]
        else:
            words = ["-monitor", "vc:80Cx24C"]
        cmd = next((c for c in commands if c.name == "nographic" and c.is_option), commands[0])
        self.steps.insert(0, Step(cmd, "argv", Phase.STARTUP,
                                  "QEMU's default monitor: the private one would suppress it",
                                  argv=words, synthetic=True))

    def _index_definitions(self, commands: list[Command]) -> None:
        """Where each id is first defined, for 'defined later' notes."""
        for cmd in commands:
            spec = OPTIONS.get(cmd.name) if cmd.is_option else None
            key = spec.defines if spec else COMMAND_DEFINES.get(cmd.name) if not cmd.is_option else None
            if not key:
                continue
            ns, member = key
            if isinstance(cmd.arg, dict):
                value = cmd.arg.get(member)
            elif isinstance(cmd.arg, str):
                pair = optstr.get([p for p, _ in self._split(cmd, spec)], member)
                value = pair.value if pair else None
            else:
                value = None
            if isinstance(value, str):
                self.all_definitions.setdefault((ns, value), cmd)

    # -- phases -----------------------------------------------------------

    def _require(self, cmd: Command, lo: Phase, hi: Phase, what: str) -> Phase:
        """Bring QEMU into [lo, hi] for `cmd`, or fail if hi has passed."""
        if self.phase > hi:
            by = self.advanced_by.get(self.phase)
            if hi == Phase.STARTUP:
                msg = f"{what} can only be given on QEMU's command line, but QEMU is already running the script (phase {self.phase})"
            else:
                msg = f"{what} is allowed up to phase {hi}, but the machine is already in phase {self.phase}"
            err = ScriptError(msg, cmd.loc)
            if by is not None:
                err.note(by.loc, f"phase {self.phase} was entered here, by '{by.spelling()[:60]}'")
            err.note(None, "move it above that line")
            raise err
        while self.phase < lo:
            self._advance(self.phase + 1, cmd, why=f"needed by {cmd.loc}")
        return self.phase

    def _advance(self, to: Phase, cmd: Command | None, why: str) -> None:
        to = Phase(to)
        command = ADVANCE.get(to)
        if command:
            self.steps.append(Step(cmd, "qmp", self.phase, f"implicit: {why}",
                                   execute=command, synthetic=True))
        self.phase = to
        self.advanced_by[to] = cmd

    # -- options ----------------------------------------------------------

    def _option(self, cmd: Command) -> None:
        name = cmd.name
        takes = self.profile.options.get(name)
        if takes is None:
            raise ScriptError(f"unknown option '-{name}' (not in {self.profile.binary} -h)", cmd.loc)
        spec = OPTIONS.get(name, ARGV)
        if takes and cmd.arg is None:
            raise ScriptError(f"option '-{name}' requires an argument", cmd.loc)
        if not takes and cmd.arg is not None:
            raise ScriptError(f"option '-{name}' takes no argument", cmd.arg_loc)
        if cmd.json and not spec.json:
            raise ScriptError(f"option '-{name}' does not take a JSON argument", cmd.arg_loc)
        pairs, args = self._arguments(cmd, spec)
        getattr(self, "_role_" + spec.role)(cmd, spec, pairs, args)

    def _split(self, cmd: Command, spec: OptionSpec) -> list:
        """The key=value pairs of an option argument, split once per command
        (the index of definitions and the walk both need them)."""
        found = self._splits.get(id(cmd))
        if found is None:
            found = self._splits[id(cmd)] = optstr.split(
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
        return pairs, optstr.nest(pairs, dotted=spec.syntax == "keyval")

    def _argv_step(self, cmd: Command, why: str, pairs=None) -> Step:
        step = Step(cmd, "argv", Phase.STARTUP, why, argv=cmd.words(), pairs=pairs)
        self.steps.append(step)
        return step

    def _role_argv(self, cmd, spec, pairs, args):
        self._require(cmd, Phase.STARTUP, Phase.STARTUP, f"'-{cmd.name}'")
        if args is not None:
            self._check_ids(cmd, spec, pairs, args, creation=True)
        step = self._argv_step(cmd, "only QEMU's argv can set it")
        self._define(cmd, spec.defines, pairs, args, step)
        self.monitors.option(step)

    def _role_chardev(self, cmd, spec, pairs, args):
        self._require(cmd, Phase.STARTUP, Phase.STARTUP, "'-chardev'")
        self._check_ids(cmd, spec, pairs, args, creation=True)
        step = self._argv_step(cmd, "QEMU 7.2 refuses chardev-add before machine-ready", pairs)
        self._define(cmd, spec.defines, pairs, args, step)
        self.monitors.chardev(step, args)

    def _role_monitor(self, cmd, spec, pairs, args):
        self._require(cmd, Phase.STARTUP, Phase.STARTUP, f"'-{cmd.name}'")
        if args is not None:
            self._check_ids(cmd, spec, pairs, args, creation=True)
        step = self._argv_step(cmd, "a monitor, released when the feed is done", pairs)
        self.monitors.monitor(step, args)

    def _role_stop(self, cmd, spec, pairs, args):
        self._require(cmd, Phase.STARTUP, Phase.STARTUP, "'-S'")
        self.end = min(self.end, Phase.MACHINE_READY)

    def _role_preconfig(self, cmd, spec, pairs, args):
        self._require(cmd, Phase.STARTUP, Phase.STARTUP, "'--preconfig'")
        self.end = Phase.PRECONFIG

    def _role_daemonize(self, cmd, spec, pairs, args):
        # Kept off QEMU's argv as written: QEMU would detach and show its
        # pidfile while still in preconfig.  inorder-qemu detaches once the VM
        # is released and puts QEMU's pidfile in place then (feed.PidFile).
        self._require(cmd, Phase.STARTUP, Phase.STARTUP, f"'-{cmd.name}'")
        if cmd.name == "daemonize":
            self.daemonize = True
        else:
            self.pidfile = cmd.arg

    def _role_device(self, cmd, spec, pairs, args):
        # compat: a cold device's references are resolved at board init
        self._check_ids(cmd, spec, pairs, args,
                        board=self.compat and self.phase <= Phase.PRECONFIG)
        if self.phase <= Phase.PRECONFIG:
            step = self._argv_step(cmd, "cold plug: realized at machine-ready, in argv order", pairs)
            self._define(cmd, spec.defines, pairs, args, step)
            dev_id = args.get("id") if isinstance(args, dict) else None
            if isinstance(dev_id, str):
                self.cold_devices.add(dev_id)
            return
        by = self.advanced_by.get(Phase.MACHINE_READY)
        step = Step(cmd, "qmp", self.phase, "hot plug: the machine is already built",
                    execute="device_add", arguments=optstr.plain(args), pairs=pairs)
        if by is not None:
            step.notes.append(Note(by.loc, f"the machine was built here, by '{by.spelling()[:60]}'; "
                                           "put the device above it to cold-plug it"))
        self.steps.append(step)
        self._define(cmd, spec.defines, pairs, args, step)

    def _role_backend(self, cmd, spec, pairs, args):
        self._check_ids(cmd, spec, pairs, args)
        phase = max(self.phase, Phase.PRECONFIG)
        arguments = args if cmd.json else self.profile.schema.coerce_arguments(spec.qmp, args)
        step = Step(cmd, "qmp", phase, f"{spec.qmp} at its position",
                    execute=spec.qmp, arguments=arguments, pairs=pairs)
        self.steps.append(step)
        self._define(cmd, spec.defines, pairs, args, step)

    def _role_numa(self, cmd, spec, pairs, args):
        self._require(cmd, Phase.STARTUP, Phase.PRECONFIG, "'-numa'")
        forward = self._check_ids(cmd, spec, pairs, args, board=self.compat)
        arguments = self.profile.schema.coerce_arguments("set-numa-node", args)
        step = Step(cmd, "qmp", Phase.PRECONFIG, "set-numa-node before board init",
                    execute="set-numa-node", arguments=arguments, pairs=pairs)
        if forward:
            # QEMU applies -numa after every backend: so does the plan
            step.why += " (after the backends it names, as QEMU orders it)"
            self.deferred.append(step)
        else:
            self.steps.append(step)

    def _place_deferred(self) -> None:
        """Compat: steps that name backends defined further on run at the end
        of preconfig, where QEMU itself would resolve them."""
        if not self.deferred:
            return
        at = next((i for i, s in enumerate(self.steps)
                   if s.channel == "qmp" and s.phase > Phase.PRECONFIG
                   or s.synthetic and s.execute == "x-exit-preconfig"), len(self.steps))
        self.steps[at:at] = self.deferred

    # -- QMP commands -----------------------------------------------------

    def _qmp(self, cmd: Command) -> None:
        name = cmd.name
        if name in RESERVED_COMMANDS:
            raise ScriptError(RESERVED_COMMANDS[name], cmd.loc)
        if name not in self.profile.commands:
            raise ScriptError(f"unknown QMP command '{name}' (not in query-commands of {self.profile.binary})", cmd.loc)
        if name in COMMAND_PHASES:
            lo, hi = (Phase(p) for p in COMMAND_PHASES[name])
        else:
            lo = Phase.PRECONFIG if name in self.profile.preconfig else Phase.MACHINE_READY
            hi = Phase.RUNNING
        if self._touches_cold_device(cmd):
            lo = max(lo, Phase.MACHINE_READY)
        spec = OptionSpec(defines=COMMAND_DEFINES.get(name), uses=COMMAND_USES.get(name, {}))
        self._check_ids(cmd, spec, None, cmd.arg)
        phase = self._require(cmd, lo, hi, f"'{name}'")
        step = Step(cmd, "qmp", phase, "QMP command", execute=name, arguments=cmd.arg)
        self.steps.append(step)
        self._define(cmd, spec.defines, None, cmd.arg, step)
        if name in COMMAND_DELETES:
            ns, key = COMMAND_DELETES[name]
            self.defined.get(ns, {}).pop(cmd.arg.get(key), None)
        for to, command in ADVANCE.items():
            if command == name and self.phase < to:
                self.phase = to
                self.advanced_by[to] = cmd

    def _touches_cold_device(self, cmd: Command) -> bool:
        path = cmd.arg.get("path") if isinstance(cmd.arg, dict) else None
        if isinstance(path, str) and path.startswith("/machine/peripheral/"):
            return path.split("/")[3] in self.cold_devices
        return False

    # -- ids --------------------------------------------------------------

    def _key_loc(self, cmd: Command, pairs, key: str) -> Location:
        if pairs is not None:
            pair = optstr.get(pairs, key)
            if pair is not None:
                return cmd.arg_at(pair.value_offset, max(len(pair.value), 1))
        if key in cmd.key_locs:
            return cmd.key_locs[key]
        return cmd.arg_loc or cmd.loc

    def _define(self, cmd, defines, pairs, args, step) -> None:
        if not defines or not isinstance(args, dict):
            return
        ns, key = defines
        value = args.get(key)
        if not isinstance(value, str):
            return
        rank = _native_rank(cmd, args)
        if rank is not None:
            self._ranks[id(step)] = rank
        loc = self._key_loc(cmd, pairs, key)
        if not _ID.match(value):
            raise ScriptError(f"invalid {ns} id '{value}': an id starts with a letter and has "
                              "only letters, digits, '-', '.' and '_'", loc)
        table = self.defined.setdefault(ns, {})
        if value in table:
            raise ScriptError(f"{ns} '{value}' is already defined", loc).note(
                table[value][0], "first defined here")
        table[value] = (loc, step)

    def _check_ids(self, cmd, spec, pairs, args, creation: bool = False,
                   board: bool = False) -> bool:
        """Every id an argument refers to must already be defined.  With
        `board` (compat mode, QEMU resolves these at board init) one defined
        further on is accepted with a warning; returns True if one was."""
        forward = False
        if not isinstance(args, dict):
            return
        for key, use in spec.uses.items():
            value = args.get(key)
            if not isinstance(value, str) or not value:
                continue
            loc = self._key_loc(cmd, pairs, key)
            if use.namespace == DEVICE:            # bus=
                self._check_bus(value, loc)
                continue
            if use.when == BOARD:
                self.board_uses.append((use.namespace, value, loc, cmd if use.on_argv else None))
                continue
            found = self.defined.get(use.namespace, {}).get(value)
            if found is None:
                later = self.all_definitions.get((use.namespace, value))
                message = f"{use.namespace} '{value}' is used before it is defined"
                if board and later is not None:
                    self.warnings.append((loc, f"{message} (QEMU resolves it at board init); "
                                               f"{_fix(later, cmd)}"))
                    self.board_uses.append((use.namespace, value, loc, None))
                    forward = True
                    continue
                err = ScriptError(message, loc)
                if later is not None:
                    err.note(later.loc, f"'{value}' is defined here; {_fix(later, cmd)}")
                raise err
            self._refs.append((_native_rank(cmd, args), found[1]))
            if creation:
                self._hoist(found[1], cmd)
        return forward

    def _check_bus(self, bus: str, loc: Location) -> None:
        # bus=rp1 names the bus of device rp1; bus=pcie.0 a machine bus
        owner = bus.rsplit(".", 1)[0] if re.search(r"\.\d+\Z", bus) else bus
        if owner in self.defined.get(DEVICE, {}):
            return
        later = self.all_definitions.get((DEVICE, owner))
        if later is not None:
            raise ScriptError(f"bus '{bus}' is used before device '{owner}' is defined", loc).note(
                later.loc, f"'{owner}' is defined here")

    def _hoist(self, step: Step, user: Command) -> None:
        """An argv item that resolves an id when QEMU creates it needs the
        definition on argv too: QMP steps only run after the launch."""
        if step.channel == "argv":
            return
        cmd = step.command
        if not cmd.is_option:
            raise ScriptError(f"'{cmd.name}' over QMP runs after QEMU starts, but {user.loc} "
                              "needs its result when QEMU starts: use the option form", cmd.loc)
        step.channel = "argv"
        step.phase = Phase.STARTUP
        step.why = f"needed when QEMU creates {user.loc}"
        step.argv = cmd.words()


def _native_rank(cmd: Command, args) -> int | None:
    """Where QEMU creates this option's result among the backends (None: not
    a backend, or not an option)."""
    if not cmd.is_option:
        return None
    if cmd.name == "object":
        kind = args.get("qom-type") if isinstance(args, dict) else None
        late = isinstance(kind, str) and any(
            kind.startswith(t) if t.endswith("-") else kind == t for t in LATE_OBJECTS)
        return NATIVE_ORDER["late-object" if late else "early-object"]
    return NATIVE_ORDER.get(cmd.name)


def _on_argv(steps: list[Step]) -> list[Step]:
    """A direct plan, launched: its backends ride on QEMU's argv (QEMU creates
    them where the script does: before board init, each after what it names)
    and QEMU builds the machine itself; only `cont` is left to send.  The same
    VM as the feed builds, without a QMP round trip per backend."""
    out = []
    for s in steps:
        if s.synthetic and s.execute == "x-exit-preconfig":
            continue
        if s.channel == "qmp" and not s.synthetic:
            s.channel, s.phase, s.argv = "argv", Phase.STARTUP, s.command.words()
            s.why = "on argv: QEMU creates it where the script has it; nothing needs the feed"
        out.append(s)
    return out


def _words(commands: list[Command], steps: list[Step]) -> list[str]:
    """The script's options as QEMU's argv, in script order; an option with
    an argv step as that step has it (devices all in one syntax)."""
    on_argv = {id(s.command): s.argv for s in steps if s.channel == "argv" and not s.synthetic}
    out: list[str] = []
    for cmd in commands:
        if not cmd.is_option:
            continue
        out.extend(on_argv.get(id(cmd)) or cmd.words())
    return out


def _fix(definer: Command, user: Command) -> str:
    """How to put a definition first: 'move that line above line 4', or for
    an argv 'move -netdev user,id=n0 (argv[12]) before argv[7]'."""
    if user.loc.is_argv:
        return f"move {definer.spelling()[:60]} ({definer.loc}) before {user.loc}"
    if definer.loc.source is user.loc.source:
        return f"move that line above line {user.loc.line}"
    return f"move it above {user.loc}"


def _one_device_syntax(steps: list[Step]) -> None:
    """QEMU creates key=value -device options before JSON ones: keep argv order
    by writing them all in one syntax."""
    json_steps = [s for s in steps if s.command.json]
    if not json_steps or len(json_steps) == len(steps):
        return
    for step in json_steps:
        words = []
        for key, value in step.command.arg.items():
            if isinstance(value, bool):
                value = "on" if value else "off"
            elif isinstance(value, (int, float)):
                value = str(value)
            elif not isinstance(value, str):
                raise ScriptError("this JSON -device has structured values and cannot be "
                                  "ordered among key=value -device options: write all "
                                  "-device options as JSON", step.command.arg_loc)
            words.append(f"{key}={value.replace(',', ',,')}")
        step.argv = ["-device", ",".join(words)]
        step.why += " (rewritten as key=value to keep argv order)"
