"""The command line: modes, options, and the one map from errors to exit codes.

    inorder-qemu [OPTIONS] SCRIPT [QEMU-ARGS...]    run an ordered script
    inorder-qemu [OPTIONS] -- QEMU-ARGS...           run a QEMU argv, in order
    qemu-system-* QEMU-ARGS...                       a drop-in (a symlink)

The spine of a run: the profile of the binary, the plan (kept, or parsed and
planned now), then --check / --dry-run stop, a direct drop-in plan is exec'd,
and anything else is supervised (run/session.py).

Exit status: QEMU's own once the VM was handed over; 1 when the script does not
plan or a step fails; 2 for a usage error.
"""

from __future__ import annotations

import gc
import getopt
import os
import signal
import sys

from . import __version__, warm
from .errors import InorderError, ScriptError, UsageError
from .lang.source import Location, Source, render
from .plan import kept
from .qemu import binary as binaries
from .qemu import profile as profiles
from .qemu.options import JSON_OPTIONS, QUERY_ARGUMENTS, QUERY_FLAGS, READCONFIG_GROUPS

# a configuration as data (lang/config.py), not a script
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
from .run.exec import exec_plan
from .run.inherited import Inherited
from .timing import Timings

USAGE = ("inorder-qemu [OPTIONS] SCRIPT [QEMU-ARGS...]\n"
         "       inorder-qemu [OPTIONS] -- QEMU-ARGS...")

EPILOG = """\
Each line of SCRIPT is a QEMU option (-device ..., -m 2G), a QMP command
(qom-set path=/machine property=... value=...), a raw QMP line
({"execute": ...}) or 'include FILE'.  Commands run in order: an option runs at
its place like a QMP command, and an id must be defined above its first use.
Phases: startup -> preconfig -> machine-ready -> running.  A command that needs
a later phase advances QEMU to it; one whose phase has passed is an error.
The VM is left running, in machine-ready with -S, in preconfig with --preconfig.

Monitors start suspended: a client of -qmp, -monitor or -mon (unix, TCP or an
inherited listening fd) may connect at any time, but gets its greeting only
when the whole script has been fed: no client ever sees a half-built VM.  A
console or monitor on stdio (-nographic, -monitor stdio) gets the terminal at
that moment.  If inorder-qemu dies during the feed, QEMU is stopped.
With -daemonize, inorder-qemu returns once released; -pidfile appears then.

Called as qemu-system-* (a symlink), the whole argv is QEMU's, with
QEMU-compatible references; when nothing needs the feed, the checked argv is
exec'd: the caller's pid is QEMU's (as libvirt's <emulator>, for example).

Exit status: QEMU's own after the hand-over; 1 if the script fails to plan or
QEMU refuses a step; 2 for a usage error.
"""

# (long, short, metavar or None for a flag, help)
OPTIONS = (
    ("qemu", None, "PATH", f"the QEMU binary (default: ${binaries.ENV_QEMU}, else "
                           f"{binaries.DEFAULT})"),
    ("dry-run", "n", None, "print the plan (QEMU argv, QMP steps by phase) and start nothing"),
    ("json", None, None, "with --dry-run: the plan as JSON"),
    ("check", None, None, "check the script (parse and plan against the binary's profile) "
                          "and start nothing; exit 0 when it is valid"),
    ("qemu-compat", None, None, "QEMU-compatible references: an id a cold device or -numa "
                                "uses may be defined further on, as QEMU accepts (a warning "
                                "with the fix); the default under a qemu-system-* name"),
    ("feed", None, None, "send backends over QMP at their place even when QEMU's argv would "
                         "build the same VM (by default such a plan puts them on argv)"),
    ("probe", None, None, "describe the QEMU binary (its profile, probed once and cached): "
                          "version, machine types, CPU models, accelerators, device and "
                          "object types, QMP commands; with --json, all of it"),
    ("explain", None, None, "show the order QEMU creates a command line's items in (-- "
                            "QEMU-ARGS, a FILE.args as libvirt writes one, or a SCRIPT), stage "
                            "by stage, and where it differs in effect from the written order; "
                            "with --json, the items as a list; starts no VM"),
    ("to-qcmd", None, None, "convert a command line (-- QEMU-ARGS or FILE.args) into an "
                            "ordered script that builds the same machine; starts no VM"),
    ("expect", None, None, "a captured QMP transcript as a test: each answer QEMU gives must "
                           "be the one captured below its command ({\"return\": ...} or "
                           "{\"error\": ...}); the first difference is an error at its line"),
    ("verbose", "v", None, "echo each step and QEMU's reply as it is fed"),
    ("debug", None, None, "show the Python traceback of an unexpected error"),
    ("help", "h", None, "show this help and exit"),
    ("version", None, None, "show the version and exit"),
)


class Options:
    """What the command line asks for."""

    __slots__ = ("qemu", "dry_run", "json", "check", "compat", "feed", "expect", "probe",
                 "explain", "to_qcmd", "verbose", "debug", "help", "version", "script", "extra", "argv", "drop_in")

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, None)
        for flag in ("dry_run", "json", "check", "compat", "feed", "expect", "probe", "explain",
                     "to_qcmd", "verbose", "debug", "help", "version"):
            setattr(self, flag, False)
        self.extra: list[str] = []


def parse_options(words: list[str]) -> Options:
    """inorder-qemu's options, then either `-- QEMU-ARGV` or `SCRIPT ARGS...`.
    getopt stops at the first word that is not an option, so everything after
    the script belongs to QEMU, as with a shebang line."""
    short = "".join(s for _, s, _, _ in OPTIONS if s)
    long = [name + ("=" if metavar else "") for name, _, metavar, _ in OPTIONS]
    try:
        given, rest = getopt.getopt(words, short, long)
    except getopt.GetoptError as e:
        raise UsageError(e.msg).note(None, f"usage: {USAGE.splitlines()[0]} (see --help)") from e
    options = Options()
    by_short = {f"-{s}": name for name, s, _, _ in OPTIONS if s}
    for flag, value in given:
        name = by_short.get(flag) or flag[2:]
        if name == "qemu":
            options.qemu = value
        else:
            setattr(options, {"dry-run": "dry_run", "qemu-compat": "compat",
                              "to-qcmd": "to_qcmd"}.get(name, name), True)
    if _ended_by_dashes(words[:len(words) - len(rest)], long):
        options.argv = rest
    elif rest:
        options.script, options.extra = rest[0], rest[1:]
    return options


def _ended_by_dashes(consumed: list[str], long: list[str]) -> bool:
    """Whether getopt stopped at a `--` of its own (`-- QEMU-ARGV`), and not
    at one that was an option's value (`--qemu -- x`).  getopt does not say."""
    valued = [name[:-1] for name in long if name.endswith("=")]
    words = iter(consumed)
    for word in words:
        if word == "--":
            return True
        if word.startswith("--") and "=" not in word and \
                any(name.startswith(word[2:]) for name in valued):
            next(words, None)             # its value, whatever it looks like
    return False


def drop_in(name: str, argv: list[str]) -> Options:
    """Called as qemu-system-*: the whole argv is QEMU's, references are
    QEMU-compatible, and the real QEMU is the one this name stands for."""
    options = Options()
    options.drop_in = name
    options.compat = True
    options.argv = argv
    options.qemu = binaries.stood_for(name, sys.argv[0])
    return options


def main(argv: list[str] | None = None, inherited: Inherited | None = None) -> int:
    # __main__ holds inherited listeners before importing this module
    inherited = inherited or Inherited.at_start()
    timings = Timings.from_env()
    timings.mark("main")
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    if hasattr(sys.stdout, "reconfigure"):
        # an argv word that is not UTF-8 (or text an ASCII terminal cannot
        # show) is printed escaped, not a UnicodeEncodeError
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        name = os.path.basename(sys.argv[0])
        if name.startswith("qemu-system-"):
            options = drop_in(name, argv)
        else:
            options = parse_options(argv)
        debug = options.debug
        return run(options, inherited, timings)
    except InorderError as e:
        if debug:
            _traceback()
        print(e.render(), file=sys.stderr)
        return e.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout closed early (`--dry-run | head`): end quietly, with the
        # status a shell gives a tool SIGPIPE ended
        _quiet_stdout()
        return 128 + signal.SIGPIPE
    except Exception as e:            # a bug: say so plainly, or show it
        if debug:
            _traceback()
        else:
            print(f"inorder-qemu: internal error: {type(e).__name__}: {e} "
                  "(run with --debug for the traceback)", file=sys.stderr)
        return 1


def _quiet_stdout() -> None:
    # what is left in stdout's buffer would fail again at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _traceback() -> None:
    import traceback                  # 7 ms: only with --debug
    traceback.print_exc()


def help_text() -> str:
    import argparse                   # renders --help only: 4 ms to import, more to build
    p = argparse.ArgumentParser(prog="inorder-qemu", usage=USAGE, epilog=EPILOG,
                                description="Run QEMU configured by an ordered program.",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                add_help=False)
    p.add_argument("script", nargs="?", help="a .qcmd script")
    for name, short, metavar, text in OPTIONS:
        flags = [f"-{short}"] if short else []
        p.add_argument(*flags, f"--{name}", help=text,
                       **({"metavar": metavar} if metavar else {"action": "store_true"}))
    return p.format_help()


def is_query(argv: list[str]) -> bool:
    """-version, -h, `-machine help`, `-device virtio-net-pci,help`: QEMU
    answers and exits; there is nothing to order."""
    for i, word in enumerate(argv):
        if word.startswith("-") and word.lstrip("-") in QUERY_FLAGS:
            return True
        if word.startswith("-") and i + 1 < len(argv):
            value = argv[i + 1]
            if value in QUERY_ARGUMENTS or value.endswith(tuple("," + q for q in QUERY_ARGUMENTS)):
                return True
    return False


def run(options: Options, inherited: Inherited, timings: Timings) -> int:
    if options.help:
        sys.stdout.write(help_text())
        return 0
    if options.version:
        print(f"inorder-qemu {__version__}")
        return 0
    if options.probe:
        from .qemu import describe              # only for --probe
        print(describe.text(profiles.load(binaries.chosen(options.qemu)), options.json))
        return 0
    if options.explain or options.to_qcmd:
        if options.explain and options.to_qcmd or options.dry_run or options.check:
            raise UsageError("--explain, --to-qcmd, --dry-run and --check exclude each other")
        if options.json and options.to_qcmd:
            raise UsageError("--json goes with --explain, --dry-run or --probe")
        if options.argv is None and not options.script:
            raise UsageError("nothing to explain (usage: inorder-qemu --explain -- QEMU-ARGS, "
                             "or inorder-qemu --explain FILE.args)")
        from .explain import mode            # only for --explain, --to-qcmd
        print(mode.run(options, profiles.load(binaries.chosen(options.qemu))))
        return 0
    if options.json and not options.dry_run:
        raise UsageError("--json goes with --dry-run, --explain or --probe")
    if options.check and options.dry_run:
        raise UsageError("--check and --dry-run exclude each other")
    if options.argv is None and not options.script:
        raise UsageError("no script given (usage: inorder-qemu SCRIPT, or inorder-qemu -- QEMU-ARGS)")
    binary = binaries.chosen(options.qemu)
    if options.argv is not None and is_query(options.argv):
        real = binaries.resolve(binary)
        os.execv(real, [real, *options.argv])
    profile = profiles.load(binary)
    timings.mark("profile")
    plan = _plan(options, profile, inherited, timings)
    timings.mark("plan")
    for loc, message in plan.warnings:
        print(render("warning", loc, message), file=sys.stderr)
    if options.check:
        return 0
    if options.dry_run:
        from .plan import show        # 2 ms: only for --dry-run
        timings.report()
        print(show.as_json(plan, profile.binary, options.feed) if options.json
              else show.text(plan, profile.binary, options.feed))
        return 0
    if plan.direct and not options.feed:
        # nothing needs the feed: the caller's pid becomes QEMU's (run/exec.py)
        exec_plan(plan, profile.binary, inherited, timings, options.verbose)
    gc.enable()                        # off while planning (_plan)
    from .run import session           # 19 ms (subprocess, socket): not for --check, --dry-run, exec
    return session.run(plan, profile.binary, inherited, timings, verbose=options.verbose,
                       debug=options.debug, expect=options.expect)


def _plan(options: Options, profile, inherited: Inherited, timings: Timings):
    """The kept plan, or the commands parsed and planned now (and kept)."""
    inspect = bool(options.dry_run or options.check)
    if options.argv is not None:
        mode = warm.mode(options.compat, options.feed, inspect, "argv")
        words = options.argv
    else:
        mode = warm.mode(options.compat, options.feed, inspect, "script")
        words = [os.path.abspath(options.script)] + options.extra
    # Parsing, planning and keeping a plan make many objects and no cycles:
    # the collector finds nothing, yet took 40% of the time of a
    # 40,000-command script, and enabled again before an exec it spent 10 to
    # 14 ms on the parse's objects.  It runs again before QEMU is supervised
    # (run()).
    gc.disable()
    return _load_or_make(mode, words, options, profile, inherited, timings)


def _load_or_make(mode: str, words: list[str], options: Options, profile,
                  inherited: Inherited, timings: Timings):
    key = kept.key(mode, words, profile)
    files: list[str] = []
    plan = kept.load(key, files)
    if plan is None:
        plan = _make(options, profile, timings, files)
        kept.store(key, plan, files)
    if not (options.feed or options.dry_run or options.check):
        # a plan the run execs is also kept as the warm start's exec record,
        # also when the plan was kept: a record is for the inherited fds
        # too, which the plan's key does not name (a script first run with
        # other fds open)
        kept.store_record(mode, words, plan, files, profile.binary, inherited)
    return plan


def _make(options: Options, profile, timings: Timings, files: list[str]):
    """Parse and plan the command line; `files` gets the files read."""
    # the language and the planner: 7 ms of imports, only when no plan is kept
    from .lang.argv import parse_argv
    from .lang.parse import parse_file
    from .lang.readconfig import expand
    from .plan.planner import plan as make_plan
    if options.argv is not None:
        commands = parse_argv(options.argv, profile.options, JSON_OPTIONS)
    else:
        if options.script.endswith(CONFIG_SUFFIXES):
            from .lang.config import parse_config     # PyYAML: only for a YAML/JSON file
            commands = parse_config(options.script, files=files)
        else:
            commands = parse_file(options.script, files=files)
        if options.extra:
            commands += parse_argv(options.extra, profile.options, JSON_OPTIONS, name="args")
    commands = expand(commands, files, READCONFIG_GROUPS)
    if not commands:
        if options.argv is not None:
            raise UsageError("nothing to run: no QEMU arguments after --")
        raise ScriptError("nothing to run: the script has no commands",
                          Location(Source(options.script), 1, 1))
    timings.mark("parse")
    return make_plan(commands, profile, compat=options.compat, feed=options.feed,
                     inspect=bool(options.dry_run or options.check))
