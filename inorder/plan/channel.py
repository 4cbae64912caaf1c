"""Channel choice: what each option's role (qemu/options.py) does at its place.

- argv, fixed at launch: what only argv can set, every cold device (QEMU
  realizes argv devices in argv order during x-exit-preconfig, after every
  preconfig QMP step), and whatever an argv item needs when it is created;
- QMP, in script order, at the phase the command runs in.

Each handler takes the planner, the command, its option spec, and its
argument split into pairs and nested (args); ROLES maps a role to its handler.
"""

from __future__ import annotations

from ..errors import ScriptError
from ..lang import optarg
from ..lang.source import Note
from ..qemu import chardevs
from ..qemu.phase import Phase
from .step import QMP, Step
from .validate import where


def argv_only(p, cmd, spec, pairs, args):
    p.phases.require(cmd, Phase.STARTUP, Phase.STARTUP, f"'-{cmd.name}'")
    if args is not None:
        p.check_ids(cmd, spec.uses, pairs, args, creation=True)
    step = p.argv_step(cmd, "only QEMU's argv can set it", pairs)
    p.refs.define(cmd, spec.defines, pairs, args, step)
    p.monitors.option(step)


def chardev(p, cmd, spec, pairs, args):
    """On argv before the launch; chardev-add once the machine is built; in
    preconfig QEMU has no handler (QEMU 7.2 refuses chardev-add before
    machine-ready).  A chardev a -mon names follows its monitor, onto argv."""
    chardev_id = args.get("id") if isinstance(args, dict) else None
    phase = p.phases.phase
    if phase >= Phase.MACHINE_READY and chardev_id not in p.monitor_chardevs:
        return _hot_chardev(p, cmd, spec, pairs, args)
    why = "QEMU creates chardevs from its command line, before any QMP"
    if phase > Phase.STARTUP and chardev_id in p.monitor_chardevs:
        why = "the chardev of a monitor (-mon), on QEMU's argv with it"
    elif phase > Phase.STARTUP:
        by = p.phases.advanced_by.get(phase)
        err = ScriptError(f"'-chardev' has no handler in phase {phase}: QEMU creates "
                          "chardevs from its command line, and QEMU 7.2 has chardev-add "
                          "only once the machine is built", cmd.loc)
        if by is not None:
            err.note(by.loc, f"phase {phase} was entered here, by '{by.spelling()[:60]}'")
        raise err.note(None, "move it above that line, or below the line that builds "
                             "the machine")
    p.check_ids(cmd, spec.uses, pairs, args, creation=True)
    step = p.argv_step(cmd, why, pairs)
    p.refs.define(cmd, spec.defines, pairs, args, step)
    p.monitors.chardev(step, args)


def _hot_chardev(p, cmd, spec, pairs, args):
    p.check_ids(cmd, spec.uses, pairs, args)
    if cmd.json:
        arguments = args                  # already chardev-add's form
    else:
        try:
            arguments = chardevs.chardev_add(optarg.plain(args))
        except chardevs.NoHotForm as e:
            raise ScriptError(f"after the machine is built, {e}",
                              where(cmd, pairs, e.key)) from e
        arguments = p.profile.schema.coerce_arguments("chardev-add", arguments)
    step = Step(cmd, QMP, p.phases.phase, "chardev-add: the machine is already built",
                execute="chardev-add", arguments=arguments, pairs=pairs)
    p.emit(step)
    p.refs.define(cmd, spec.defines, pairs, args, step)


def drive(p, cmd, spec, pairs, args):
    """On argv before the launch; once the machine is built, HMP drive_add
    (QEMU 7.2 has no QMP form of -drive): a drive for a later device_add."""
    phase = p.phases.phase
    if phase < Phase.MACHINE_READY:
        p.phases.require(cmd, Phase.STARTUP, Phase.STARTUP, "'-drive'")
        return argv_only(p, cmd, spec, pairs, args)
    interface = args.get("if") if isinstance(args, dict) else None
    if interface not in (None, "none"):
        raise ScriptError(f"after the machine is built, a drive is added with if=none and "
                          f"given to a -device (drive_add cannot create if={interface})",
                          cmd.arg_loc or cmd.loc)
    line = cmd.arg if "if=" in cmd.arg else cmd.arg + ",if=none"
    step = Step(cmd, QMP, phase, "drive_add (HMP): the machine is already built",
                execute="human-monitor-command",
                arguments={"command-line": f"drive_add 0 {line}"}, pairs=pairs)
    p.emit(step)
    p.refs.define(cmd, spec.defines, pairs, args, step)


# Release options: what they decide happens at the release (a monitor is
# held until then; -S and --preconfig say where the feed ends; -daemonize
# and -pidfile take effect then), so where they are written changes nothing
# the script observes.  Each is valid until the phase it decides has passed.

def monitor(p, cmd, spec, pairs, args):
    if args is not None:
        p.check_ids(cmd, spec.uses, pairs, args, creation=True)
    why = "a monitor, released when the feed is done"
    if p.phases.phase > Phase.STARTUP:
        why += " (on QEMU's argv wherever it is written: it is held from the launch)"
    step = p.argv_step(cmd, why, pairs)
    p.monitors.monitor(step, args)


def stop(p, cmd, spec, pairs, args):
    p.phases.require(cmd, Phase.STARTUP, Phase.MACHINE_READY, "'-S'")
    p.phases.stop_at(Phase.MACHINE_READY)


def preconfig(p, cmd, spec, pairs, args):
    p.phases.require(cmd, Phase.STARTUP, Phase.PRECONFIG, "'--preconfig'")
    p.phases.stop_at(Phase.PRECONFIG)


def readiness(p, cmd, spec, pairs, args):
    # Kept off QEMU's argv as written: QEMU would detach and show its
    # pidfile while still in preconfig.  inorder-qemu detaches once the VM
    # is released and puts QEMU's pidfile in place then (run/pidfile.py).
    if cmd.name == "daemonize":
        p.daemonize = True
    else:
        p.pidfile = cmd.arg


def device(p, cmd, spec, pairs, args):
    cold = p.phases.phase <= Phase.PRECONFIG
    # compat: a cold device's references are resolved at board init
    p.check_ids(cmd, spec.uses, pairs, args, board=p.compat and cold)
    if cold:
        step = p.argv_step(cmd, "cold plug: realized at machine-ready, in argv order", pairs)
        p.refs.define(cmd, spec.defines, pairs, args, step)
        dev_id = args.get("id") if isinstance(args, dict) else None
        if isinstance(dev_id, str):
            p.cold_devices.add(dev_id)
        return
    by = p.phases.advanced_by.get(Phase.MACHINE_READY)
    notes = []
    if by is not None:
        notes.append(Note(by.loc, f"the machine was built here, by '{by.spelling()[:60]}'; "
                                  "put the device above it to cold-plug it"))
    step = Step(cmd, QMP, p.phases.phase, "hot plug: the machine is already built",
                execute=spec.qmp, arguments=optarg.plain(args), pairs=pairs, notes=notes)
    p.emit(step)
    p.refs.define(cmd, spec.defines, pairs, args, step)


def backend(p, cmd, spec, pairs, args):
    p.check_ids(cmd, spec.uses, pairs, args)
    phase = max(p.phases.phase, Phase.PRECONFIG)
    arguments = args if cmd.json else p.profile.schema.coerce_arguments(spec.qmp, args)
    step = Step(cmd, QMP, phase, f"{spec.qmp} at its position",
                execute=spec.qmp, arguments=arguments, pairs=pairs)
    p.emit(step)
    p.refs.define(cmd, spec.defines, pairs, args, step)


def numa(p, cmd, spec, pairs, args):
    p.phases.require(cmd, Phase.STARTUP, Phase.PRECONFIG, "'-numa'")
    forward = p.check_ids(cmd, spec.uses, pairs, args, board=p.compat)
    arguments = p.profile.schema.coerce_arguments(spec.qmp, args)
    why = "set-numa-node before board init"
    if forward:
        why += " (after the backends it names, as QEMU orders it)"
    step = Step(cmd, QMP, Phase.PRECONFIG, why, execute=spec.qmp, arguments=arguments,
                pairs=pairs)
    if forward:
        p.deferred.append(step)           # QEMU applies -numa after every backend
    else:
        p.emit(step)


ROLES = {
    "argv": argv_only, "chardev": chardev, "monitor": monitor, "stop": stop,
    "preconfig": preconfig, "daemonize": readiness, "device": device,
    "backend": backend, "numa": numa, "drive": drive,
}

# What each role does at each phase (startup, preconfig, machine-ready,
# running): the handlers above, in words, for the README's table (a test
# checks the two agree).
HANDLERS = {
    "argv": ("argv", "error: argv only", "error: argv only", "error: argv only"),
    "chardev": ("argv", "error: no chardev-add before machine-ready", "chardev-add",
                "chardev-add"),
    "drive": ("argv", "error: argv only", "HMP drive_add (if=none)", "HMP drive_add (if=none)"),
    "monitor": ("argv, held", "argv, held", "argv, held", "argv, held"),
    "stop": ("feed ends in machine-ready", "feed ends in machine-ready",
             "feed ends in machine-ready", "error: names the cont"),
    "preconfig": ("feed ends in preconfig", "feed ends in preconfig",
                  "error: phase passed", "error: phase passed"),
    "daemonize": ("at the release", "at the release", "at the release", "at the release"),
    "device": ("argv, cold plug", "argv, cold plug", "device_add (hot)", "device_add (hot)"),
    "backend": ("QMP in preconfig (argv if direct)", "QMP", "QMP", "QMP"),
    "numa": ("set-numa-node in preconfig", "set-numa-node", "error: phase passed",
             "error: phase passed"),
}


def handler_rows(options: dict) -> list[tuple[str, ...]]:
    """The table of handlers by phase, one row per listed option (and one
    for every other option): the README and qcmd(5) show it."""
    rows = [(f"-{name}", *HANDLERS[spec.role]) for name, spec in options.items()]
    return rows + [("any other option", *HANDLERS["argv"])]
