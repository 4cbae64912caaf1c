"""User monitors, as the plan sees them: which options make a monitor that can
be held until the release, which put something on QEMU's stdio, and what QEMU
is given instead of each held socket.

How a monitor is held at run time is run/monitors.py's business; the
mechanism, in short: inorder-qemu listens on the socket itself, queues a
silent hold connection first, and gives QEMU the listening fd; a socket
chardev serves one client at a time, so every later client waits without a
greeting until the hold closes at the release.

Monitors on stdio are held by the terminal relay (run/terminal.py).  A monitor
on an inherited *connected* socket, or a client socket QEMU connects out
from, cannot be held: it is live during the feed, with a warning.
"""

from __future__ import annotations

import os
import stat

from ..errors import ScriptError
from ..lang import optarg
from ..lang.source import Location
from ..qemu import flags
from ..qemu.options import CHARDEV_SPEC_OPTIONS
from . import recheck

_TRUE = {"on", "yes", "true", "y"}


class MonitorSpec:
    """One socket monitor the run holds until the release."""

    __slots__ = ("location", "step", "opts", "mode", "pretty", "legacy", "index",
                 "inherited_fd")

    def __init__(self, location: Location, step, opts: dict, mode: str, pretty: bool,
                 legacy: bool, index: int, inherited_fd: int | None = None):
        self.location = location
        self.step = step              # the plan step whose argv names the socket
        self.opts = opts              # its socket chardev options (QemuOpts, flat)
        self.mode = mode              # control (QMP) or readline (HMP)
        self.pretty = pretty
        self.legacy = legacy          # -qmp/-monitor: given to QEMU as -chardev + -mon
        self.index = index
        self.inherited_fd = inherited_fd

    @property
    def label(self) -> str:
        o = self.opts
        if self.inherited_fd is not None:
            return f"fd {self.inherited_fd}"
        if o.get("path"):
            return o["path"]
        return f"tcp {o.get('host') or '*'}:{o.get('port')}"

    @property
    def public(self) -> bool:
        """A TCP monitor reachable from other hosts."""
        if self.inherited_fd is not None or self.opts.get("path"):
            return False
        host = self.opts.get("host") or ""
        return host not in ("localhost", "127.0.0.1", "::1") and not host.startswith("127.")

    def words(self, fd: int) -> list[str]:
        """What QEMU gets instead of the step's argv: the same monitor on the
        listening socket `fd` inorder-qemu made (an inherited one stays as
        written)."""
        extra = [f"{k}={_escape(v)}" for k, v in self.opts.items()
                 if k not in flags.SOCKET_ADDRESS_KEYS and k not in ("backend", "id")]
        if not self.legacy:
            return ["-chardev", flags.held_socket(self.opts["id"], fd, extra)]
        chardev_id = flags.held_monitor_chardev(self.index)
        mon = f"chardev={chardev_id},mode={self.mode}" + (",pretty=on" if self.pretty else "")
        return ["-chardev", flags.held_socket(chardev_id, fd, extra), "-mon", mon]


class Monitors:
    """What the planner learns about monitors, in script order."""

    def __init__(self, inspect: bool = False):
        # --dry-run, --check: an argv from a log names fds that are not open
        # here; only a real run needs them
        self.inspect = inspect
        self.user: list[MonitorSpec] = []
        self.warnings: list[tuple[Location, str]] = []
        self._stdio: Location | None = None     # an option that uses QEMU's stdio
        self._nographic: Location | None = None
        self._nodefaults = False
        self._socket_chardevs: dict[str, tuple[object, dict]] = {}
        self._stdio_chardevs: set[str] = set()

    def chardev(self, step, args: dict | None) -> None:
        """Remember server sockets: a later -mon may make one a monitor."""
        if not isinstance(args, dict) or not args.get("id"):
            return
        args = optarg.plain(args)         # a key given twice: QEMU reads the last
        backend = args.get("backend")
        if backend == "stdio":
            self._uses_stdio(step.command.loc)
            self._stdio_chardevs.add(args["id"])
        if backend == "socket":
            self._socket_chardevs[args["id"]] = (step, optarg.plain(args))

    @property
    def stdio(self) -> Location | None:
        """The first option that puts a console or monitor on QEMU's stdio.
        -nographic does only through the default serial port and monitor,
        which -nodefaults removes (libvirt's probe gives both, with -daemonize)."""
        if self._stdio is not None:
            return self._stdio
        return None if self._nodefaults else self._nographic

    def option(self, step) -> None:
        """Options whose argument is a chardev spec (-serial mon:stdio)."""
        cmd = step.command
        if cmd.name == "nographic":
            self._nographic = self._nographic or cmd.loc
        elif cmd.name == "nodefaults":
            self._nodefaults = True
        elif cmd.name in CHARDEV_SPEC_OPTIONS and isinstance(cmd.arg, str):
            spec = cmd.arg.removeprefix("mon:")
            if spec == "stdio" or spec.startswith("stdio,"):
                self._uses_stdio(cmd.loc)

    def _uses_stdio(self, loc: Location) -> None:
        if self._stdio is None:
            self._stdio = loc

    def monitor(self, step, args: dict | None) -> None:
        cmd = step.command
        if cmd.name == "mon":
            args = optarg.plain(args)
            name = args.get("chardev") if isinstance(args, dict) else None
            if name in self._socket_chardevs and on(self._socket_chardevs[name][1].get("server")):
                chardev_step, opts = self._socket_chardevs.pop(name)
                mode = args.get("mode", "readline")
                self._add(chardev_step, opts, mode, on(args.get("pretty")), legacy=False)
            elif name is not None and name not in self._stdio_chardevs:
                self.warnings.append((cmd.loc, f"the monitor on chardev '{name}' is not a "
                                               "server socket: it is live while the script is fed"))
            return
        self.option(step)
        text = cmd.arg or ""
        kind, opts = legacy_socket(text)
        if kind is not None and on(opts.get("server")):
            self._add(step, opts, flags.MONITOR_MODES[cmd.name], cmd.name == "qmp-pretty",
                      legacy=True)
        elif text.removeprefix("mon:") not in ("stdio", "none", "") and not text.startswith("stdio,"):
            self.warnings.append((cmd.loc, f"'-{cmd.name} {text}' is not a server socket: "
                                           "it is live while the script is fed"))

    def _add(self, step, opts: dict, mode: str, pretty: bool, legacy: bool) -> None:
        loc = step.command.arg_loc or step.command.loc
        fd = None
        if opts.get("fd") is not None:
            try:
                fd = inherited_listener(opts["fd"], loc)
            except ScriptError as e:
                if not self.inspect or not isinstance(opts["fd"], str) or \
                        not opts["fd"].isdigit():
                    raise
                # as the caller would pass it: planned, with a warning
                self.warnings.append((loc, e.message + " here: a real run needs it passed "
                                           "as a listening socket"))
                fd = int(opts["fd"])
        elif opts.get("path"):
            if not on(opts.get("abstract")):
                check_path(opts["path"], loc)
                for other in self.user:
                    if other.opts.get("path") == opts["path"]:
                        raise ScriptError(f"two monitors on {opts['path']}", loc).note(
                            other.location, "the other one")
        elif opts.get("port") is None:
            self.warnings.append((loc, "this socket has neither a path nor a port"))
            return
        else:
            for key in ("port", "to"):
                value = opts.get(key)
                if value is not None and not (isinstance(value, str) and value.isdigit()):
                    raise ScriptError(f"{key} '{value}' of this monitor is not a port number",
                                      loc)
        self.user.append(MonitorSpec(loc, step, opts, mode, pretty, legacy, len(self.user), fd))


def legacy_socket(text: str) -> tuple[str | None, dict]:
    """QEMU's legacy chardev specs for sockets: unix:PATH[,opts],
    tcp:HOST:PORT[,opts], telnet:HOST:PORT[,opts]."""
    if text.startswith("unix:"):
        pairs = [p for p, _ in optarg.split(text[5:], "path")]
        return "unix", optarg.plain(optarg.nest(pairs, dotted=False))
    for prefix in ("tcp:", "telnet:"):
        if text.startswith(prefix):
            address, _, rest = text[len(prefix):].partition(",")
            host, _, port = address.rpartition(":")
            pairs = [p for p, _ in optarg.split(rest, None)] if rest else []
            opts = optarg.plain(optarg.nest(pairs, dotted=False))
            opts.update(host=host.strip("[]"), port=port)
            if prefix == "telnet:":
                opts["telnet"] = "on"
            return "tcp", opts
    return None, {}


def inherited_listener(value: str, loc: Location) -> int:
    """An fd the caller passed (as libvirt does): it must be a listening
    socket for the monitor to be held."""
    try:
        fd = int(value)
        st = os.fstat(fd)
    except (ValueError, OSError, OverflowError) as e:
        raise ScriptError(f"fd={value} is not an open file descriptor", loc) from e
    if not stat.S_ISSOCK(st.st_mode):
        raise ScriptError(f"fd={value} is not a socket", loc)
    import socket                 # 6 ms of every cold plan otherwise; only for fd=N
    s = socket.socket(fileno=os.dup(fd))
    try:
        listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    finally:
        s.close()
    if not listening:
        raise ScriptError(f"fd={value} is a connected socket: a monitor on it would be live "
                          "during the feed; pass a listening socket", loc)
    return fd


def bound(monitors) -> list:
    """The monitors QEMU itself binds a socket path for (exec'd: no hold),
    whose paths a kept plan checks again before the exec."""
    return [m for m in monitors if m.opts.get("path") and m.inherited_fd is None]


def check_path(path: str, loc: Location) -> None:
    """A monitor path the run may bind: checked when planning, and again at
    the launch of a kept plan."""
    problem = recheck.monitor_path(path)
    if problem:
        raise ScriptError(problem, loc)


def on(value) -> bool:
    """A QemuOpts boolean that is on."""
    return isinstance(value, str) and value.lower() in _TRUE



def _escape(value: str) -> str:
    return value.replace(",", ",,")
