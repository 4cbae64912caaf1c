"""The command line: modes, options, exit codes.

    inorder-qemu [OPTIONS] SCRIPT [QEMU-ARGS...]    run an ordered script
    inorder-qemu [OPTIONS] -- QEMU-ARGS...           run a QEMU argv, in order

Exit status: QEMU's own once the VM was handed over; 1 when the script does not
plan or a step fails; 2 for a usage error.
"""

from __future__ import annotations

import os
import sys

from .errors import InorderError, UsageError

DEFAULT_QEMU = "qemu-system-x86_64"
ENV_QEMU = "INORDER_QEMU"

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


def _parser():
    import argparse               # only for what _plain_options leaves (--help, mistakes)
    p = argparse.ArgumentParser(
        prog="inorder-qemu",
        usage="inorder-qemu [OPTIONS] SCRIPT [QEMU-ARGS...]\n"
              "       inorder-qemu [OPTIONS] -- QEMU-ARGS...",
        description="Run QEMU configured by an ordered program.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("script", nargs="?", help="a .qcmd script")
    p.add_argument("--qemu", metavar="PATH",
                   help=f"the QEMU binary (default: ${ENV_QEMU}, else {DEFAULT_QEMU})")
    p.add_argument("-n", "--dry-run", action="store_true",
                   help="print the plan (QEMU argv, QMP steps by phase) and start nothing")
    p.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    p.add_argument("--check", action="store_true",
                   help="check the script (parse and plan against the binary's profile) "
                        "and start nothing; exit 0 when it is valid")
    p.add_argument("--qemu-compat", dest="compat", action="store_true",
                   help="QEMU-compatible references: an id a cold device or -numa uses may "
                        "be defined further on, as QEMU accepts (a warning with the fix); "
                        "the default under a qemu-system-* name")
    p.add_argument("--feed", action="store_true",
                   help="send backends over QMP at their place even when QEMU's argv "
                        "would build the same VM (by default such a plan puts them on argv)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="echo each step and QEMU's reply as it is fed")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks")
    p.add_argument("--version", action="version", version=_version())
    return p


# The options as they are usually written, parsed without argparse: building
# an ArgumentParser costs about 7 ms (argparse, locale, and shutil for the
# terminal width of a help text nobody asked for).  Anything else goes to
# argparse, which answers as it always does.
_FLAGS = {"-n": "dry_run", "--dry-run": "dry_run", "--json": "json", "--check": "check",
          "--qemu-compat": "compat", "--feed": "feed", "-v": "verbose", "--verbose": "verbose",
          "--debug": "debug"}


def _plain_options(words: list[str]):
    from types import SimpleNamespace
    args = SimpleNamespace(script=None, qemu=None, **dict.fromkeys(_FLAGS.values(), False))
    i = 0
    while i < len(words):
        word = words[i]
        if word in _FLAGS:
            setattr(args, _FLAGS[word], True)
        elif word == "--qemu" and i + 1 < len(words):
            args.qemu = words[i + 1]
            i += 1
        elif word.startswith("--qemu="):
            args.qemu = word[len("--qemu="):]
        elif (not word.startswith("-") or word == "-") and args.script is None:
            args.script = word
        else:
            return None
        i += 1
    return args


def _version() -> str:
    from . import __version__
    return f"inorder-qemu {__version__}"


def _split(argv: list[str]) -> tuple[list[str], list[str] | None, list[str]]:
    """inorder's options, then either '-- QEMU-ARGV' or 'SCRIPT ARGS...'.
    Everything after the script belongs to QEMU, as with a shebang line."""
    ours: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return ours, argv[i + 1:], []
        if not word.startswith("-") or word == "-":
            return ours + [word], None, argv[i + 1:]
        ours.append(word)
        if word == "--qemu" and i + 1 < len(argv):     # the option's value
            ours.append(argv[i + 1])
            i += 1
        i += 1
    return ours, None, []


def main(argv: list[str] | None = None) -> int:
    from .early import hold_inherited_listeners
    hold_inherited_listeners()          # first: a caller may connect at once
    from .timing import mark
    mark("main")
    argv = sys.argv[1:] if argv is None else argv
    name = os.path.basename(sys.argv[0])
    if name.startswith("qemu-system-"):
        # a drop-in: the whole argv is QEMU's
        args, qemu_argv, extra = _DropIn(name), argv, []
    else:
        ours, qemu_argv, extra = _split(argv)
        args = _plain_options(ours)
        if args is None:                # help, version, abbreviations, mistakes
            try:
                args = _parser().parse_args(ours)
            except SystemExit as e:
                return int(e.code or 0)
    try:
        return _run(args, qemu_argv, extra)
    except InorderError as e:
        print(e.render(), file=sys.stderr)
        return e.exit_status
    except KeyboardInterrupt:
        return 130
    except Exception as e:            # a bug: say so plainly
        if args.debug:
            raise
        print(f"inorder-qemu: internal error: {type(e).__name__}: {e} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1


class _DropIn:
    """The options of a drop-in run (called as qemu-system-*)."""

    script = None
    compat = True
    dry_run = json = check = verbose = debug = feed = False

    def __init__(self, name: str):
        self.name = name

    @property
    def qemu(self) -> str:
        return real_qemu(self.name)


def real_qemu(name: str) -> str:
    """The QEMU this wrapper stands for: $INORDER_QEMU, else the first `name`
    on PATH that is not inorder-qemu itself (no recursion through a symlink)."""
    if os.environ.get(ENV_QEMU):
        return os.environ[ENV_QEMU]
    from .profile import on_path
    found = on_path(name, skip=os.path.realpath(sys.argv[0]))
    if found is not None:
        return found
    raise UsageError(f"no {name} other than this wrapper on PATH (set ${ENV_QEMU})")


def _is_query(argv: list[str]) -> bool:
    """-version, -h, `-machine help`, `-device virtio-net-pci,help`: QEMU
    answers and exits; there is nothing to order."""
    from .options import QUERY_ARGUMENTS, QUERY_FLAGS
    for i, word in enumerate(argv):
        if word.startswith("-") and word.lstrip("-") in QUERY_FLAGS:
            return True
        if word.startswith("-") and i + 1 < len(argv):
            value = argv[i + 1]
            if value in QUERY_ARGUMENTS or value.endswith(tuple("," + q for q in QUERY_ARGUMENTS)):
                return True
    return False


def _run(args, qemu_argv: list[str] | None, extra: list[str]) -> int:
    from . import profile as profiles
    from .argv import parse_argv
    from .plan import plan as make_plan
    from .source import render
    from .timing import mark

    if args.json and not args.dry_run:
        raise UsageError("--json goes with --dry-run")
    if args.check and args.dry_run:
        raise UsageError("--check and --dry-run exclude each other")
    if qemu_argv is None and not args.script:
        raise UsageError("no script given (usage: inorder-qemu SCRIPT, or inorder-qemu -- QEMU-ARGS)")
    binary = args.qemu or os.environ.get(ENV_QEMU) or DEFAULT_QEMU
    if qemu_argv is not None and _is_query(qemu_argv):
        real = profiles.resolve(binary)
        os.execv(real, [real, *qemu_argv])
    profile = profiles.load(binary)
    mark("profile")
    from . import plancache
    mode = ("compat" if args.compat else "in-order") + (" feed" if args.feed else "")
    if qemu_argv is not None:
        key = plancache.key(mode + " argv", qemu_argv, profile)
    else:
        key = plancache.key(mode + " script", [os.path.abspath(args.script)] + extra, profile)
    plan = plancache.load(key)
    if plan is None:
        files: list[str] = []
        if qemu_argv is not None:
            commands = parse_argv(qemu_argv, profile.options)
        else:
            from .parse import parse_file
            commands = parse_file(args.script, files=files)
            if extra:
                commands += parse_argv(extra, profile.options, name="args")
        from .readconfig import expand
        commands = expand(commands, files)
        mark("parse")
        plan = make_plan(commands, profile, compat=args.compat, feed=args.feed)
        plancache.store(key, plan, files)
    mark("plan")
    for loc, message in plan.warnings:
        print(render("warning", loc, message), file=sys.stderr)
    if args.check:
        return 0
    if args.dry_run:
        from .timing import report
        report()
        from . import show
        print(show.as_json(plan, profile.binary) if args.json else show.text(plan, profile.binary))
        return 0
    if isinstance(args, _DropIn) and plan.direct:
        # the exec process model: the caller's pid becomes QEMU's (launch.py)
        from .launch import exec_qemu
        exec_qemu(profile.binary, plan.direct_argv)
    from . import feed
    return feed.run(plan, profile.binary, verbose=args.verbose, debug=args.debug)
