"""User monitors: created suspended, released when the feed is done.

No client of a user monitor may see a half-configured VM.  The mechanism is
the same for every socket form (a unix path, TCP, an inherited listening fd):

1. inorder-qemu binds and listens on the socket itself (an inherited one is
   already listening), and connects to it once: this *hold* connection is
   first in the kernel's accept queue;
2. QEMU gets the listening socket as `fd=N`; a socket chardev serves one
   client at a time, so QEMU accepts the hold connection and keeps every
   later client waiting in the queue, without a greeting;
3. at release (the last command has taken effect) the hold connection closes
   and QEMU greets the next client.

A client may connect at any time; it gets its greeting from a fully configured
VM.  Measured here on QEMU 7.2: 0 failures in 200 launches, the next client
greeted 0.8 ms (median) after the release.  The hold connection never speaks:
QEMU 7.2 can hang a client that runs qmp_capabilities on an inherited
listening fd it connected to early (qemu-facts.md).

Monitors on stdio are held by the terminal relay (terminal.py).  A monitor on
an inherited *connected* socket, or a client socket QEMU connects out from,
cannot be held: it is live during the feed, with a warning.
"""

from __future__ import annotations

import os
import socket
import stat

from . import early, optstr
from .errors import InorderError, ScriptError
from .options import CHARDEV_SPEC_OPTIONS
from .source import Location

_TRUE = {"on", "yes", "true", "y"}
# chardev socket keys that say where the socket is: replaced by fd=N
_ADDRESS_KEYS = {"path", "abstract", "tight", "host", "port", "to", "ipv4", "ipv6",
                 "numeric", "server", "wait", "fd"}
_MODES = {"qmp": "control", "qmp-pretty": "control", "monitor": "readline"}


class UserMonitor:
    """One socket monitor, held until the release."""

    def __init__(self, location: Location, step, opts: dict, mode: str, pretty: bool,
                 legacy: bool, index: int):
        self.location = location
        self.step = step              # the plan step whose argv names the socket
        self.opts = opts              # its socket chardev options (QemuOpts, flat)
        self.mode = mode              # control (QMP) or readline (HMP)
        self.pretty = pretty
        self.legacy = legacy          # -qmp/-monitor: rewritten as -chardev + -mon
        self.index = index
        self.inherited_fd: int | None = None
        self.listener: socket.socket | None = None
        self.hold: socket.socket | None = None
        self.bound_path: str | None = None    # a unix path we created: removed at the end
        self._temp_path: str | None = None
        self._watchdog = None

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

    # -- lifecycle (feed.py) ---------------------------------------------

    def prepare(self, watchdog) -> int:
        """Create or adopt the listening socket, connect the hold; returns
        the fd QEMU must inherit.  The watchdog learns of every socket file
        before it exists, and keeps a copy of the hold."""
        self._watchdog = watchdog
        if self.inherited_fd is not None:
            fd = self.inherited_fd
            self.hold = early.HOLDS.pop(fd, None)
            if self.hold is not None:
                return fd
            self.listener = socket.socket(fileno=os.dup(fd))
            self.listener.set_inheritable(False)
        else:
            self.listener = self._listen()
            fd = self.listener.fileno()
            os.set_inheritable(fd, True)
            self._rewrite(fd)
        self.hold = socket.socket(self.listener.family, socket.SOCK_STREAM)
        try:
            self.hold.connect(self.listener.getsockname())
        except OSError as e:
            raise InorderError(f"cannot hold monitor {self.label}: {e.strerror}") from None
        watchdog.keep(self.hold)
        self._place()
        if self.inherited_fd is not None:
            self.listener.close()
            self.listener = None
        return fd

    def _listen(self) -> socket.socket:
        o = self.opts
        if not o.get("path"):
            s = _listen_tcp(o, self.label)
            s.listen(64)
            return s
        path = o["path"]
        if _on(o.get("abstract")):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind("\0" + path)
            s.listen(64)
            return s
        _check_path(path, self.location)
        # Bind under a temporary name and rename it into place only once the
        # hold connection is queued: a client can never be first.
        temp = os.path.join(os.path.dirname(os.path.abspath(path)), f".iq{os.getpid()}-{self.index}")
        self._watchdog.remove_at_death(temp)
        self._watchdog.remove_at_death(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if os.path.exists(temp):
                os.unlink(temp)
            s.bind(temp)
            s.listen(64)
        except OSError as e:
            s.close()
            raise InorderError(f"cannot create monitor socket {path}: {e.strerror}") from None
        self._temp_path = temp
        return s

    def _place(self) -> None:
        """Move a new unix socket to the user's path (after the hold)."""
        temp = self._temp_path
        if temp is None:
            return
        path = self.opts["path"]
        if os.path.lexists(path):
            os.unlink(path)               # a stale socket, as QEMU does
        os.rename(temp, path)
        self._temp_path = None
        self.bound_path = path

    def _rewrite(self, fd: int) -> None:
        extra = [f"{k}={_escape(v)}" for k, v in self.opts.items()
                 if k not in _ADDRESS_KEYS and k not in ("backend", "id")]
        if self.legacy:
            chardev_id = f"inorder-mon{self.index}"
            mon = f"chardev={chardev_id},mode={self.mode}" + (",pretty=on" if self.pretty else "")
            self.step.argv = ["-chardev", ",".join(
                [f"socket,id={chardev_id},fd={fd},server=on,wait=off"] + extra),
                "-mon", mon]
        else:
            self.step.argv = ["-chardev", ",".join(
                [f"socket,id={self.opts['id']},fd={fd},server=on,wait=off"] + extra)]

    def release(self) -> None:
        if self.hold is not None:
            self.hold.close()
            self.hold = None

    def close_listener(self) -> None:
        """Once QEMU has its copy, ours only keeps the port busy after QEMU exits."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def cleanup(self) -> None:
        self.release()
        self.close_listener()
        temp = self._temp_path
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
        if self.bound_path is not None:
            try:
                os.unlink(self.bound_path)
            except OSError:
                pass
            self.bound_path = None


class Monitors:
    """What the planner learns about monitors, in script order."""

    def __init__(self):
        self.user: list[UserMonitor] = []
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
        backend = args.get("backend")
        if backend == "stdio":
            self._uses_stdio(step.command.loc)
            self._stdio_chardevs.add(args["id"])
        if backend == "socket":
            self._socket_chardevs[args["id"]] = (step, optstr.plain(args))

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
            name = args.get("chardev") if isinstance(args, dict) else None
            if name in self._socket_chardevs and _on(self._socket_chardevs[name][1].get("server")):
                chardev_step, opts = self._socket_chardevs.pop(name)
                mode = args.get("mode", "readline")
                self._add(chardev_step, opts, mode, _on(args.get("pretty")), legacy=False)
            elif name is not None and name not in self._stdio_chardevs:
                self.warnings.append((cmd.loc, f"the monitor on chardev '{name}' is not a "
                                               "server socket: it is live while the script is fed"))
            return
        self.option(step)
        text = cmd.arg or ""
        kind, opts = _legacy_socket(text)
        if kind is not None and _on(opts.get("server")):
            self._add(step, opts, _MODES[cmd.name], cmd.name == "qmp-pretty", legacy=True)
        elif text.removeprefix("mon:") not in ("stdio", "none", "") and not text.startswith("stdio,"):
            self.warnings.append((cmd.loc, f"'-{cmd.name} {text}' is not a server socket: "
                                           "it is live while the script is fed"))

    def _add(self, step, opts: dict, mode: str, pretty: bool, legacy: bool) -> None:
        loc = step.command.arg_loc or step.command.loc
        monitor = UserMonitor(loc, step, opts, mode, pretty, legacy, len(self.user))
        if opts.get("fd") is not None:
            monitor.inherited_fd = _inherited_listener(opts["fd"], loc)
        elif opts.get("path"):
            if not _on(opts.get("abstract")):
                _check_path(opts["path"], loc)
                for other in self.user:
                    if other.opts.get("path") == opts["path"]:
                        raise ScriptError(f"two monitors on {opts['path']}", loc).note(
                            other.location, "the other one")
        elif opts.get("port") is None:
            self.warnings.append((loc, "this socket has neither a path nor a port"))
            return
        self.user.append(monitor)


def _legacy_socket(text: str) -> tuple[str | None, dict]:
    """QEMU's legacy chardev specs for sockets: unix:PATH[,opts],
    tcp:HOST:PORT[,opts], telnet:HOST:PORT[,opts]."""
    if text.startswith("unix:"):
        pairs = [p for p, _ in optstr.split(text[5:], "path")]
        return "unix", optstr.plain(optstr.nest(pairs, dotted=False))
    for prefix in ("tcp:", "telnet:"):
        if text.startswith(prefix):
            address, _, rest = text[len(prefix):].partition(",")
            host, _, port = address.rpartition(":")
            pairs = [p for p, _ in optstr.split(rest, None)] if rest else []
            opts = optstr.plain(optstr.nest(pairs, dotted=False))
            opts.update(host=host.strip("[]"), port=port)
            if prefix == "telnet:":
                opts["telnet"] = "on"
            return "tcp", opts
    return None, {}


def _listen_tcp(o: dict, label: str) -> socket.socket:
    host = o.get("host") or None
    first = int(o["port"])
    last = int(o.get("to") or first)
    family = socket.AF_UNSPEC
    if _on(o.get("ipv4")):
        family = socket.AF_INET
    elif _on(o.get("ipv6")):
        family = socket.AF_INET6
    error = None
    for port in range(first, last + 1):
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
        except socket.gaierror as e:
            raise InorderError(f"monitor {label}: {e.strerror}") from None
        for fam, kind, proto, _, address in infos:
            s = socket.socket(fam, kind, proto)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(address)
                return s
            except OSError as e:
                error = e
                s.close()
    raise InorderError(f"cannot listen for monitor {label}: {error.strerror if error else 'no address'}")


def _inherited_listener(value: str, loc: Location) -> int | None:
    """An fd the caller passed (as libvirt does): it must be a listening
    socket for the monitor to be held."""
    try:
        fd = int(value)
        st = os.fstat(fd)
    except (ValueError, OSError):
        raise ScriptError(f"fd={value} is not an open file descriptor", loc) from None
    if not stat.S_ISSOCK(st.st_mode):
        raise ScriptError(f"fd={value} is not a socket", loc)
    s = socket.socket(fileno=os.dup(fd))
    try:
        listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    finally:
        s.close()
    if not listening:
        raise ScriptError(f"fd={value} is a connected socket: a monitor on it would be live "
                          "during the feed; pass a listening socket", loc)
    return fd


def _check_path(path: str, loc: Location) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise ScriptError(f"monitor path {path}: {e.strerror}", loc) from None
    if st is not None and not stat.S_ISSOCK(st.st_mode):
        raise ScriptError(f"monitor path {path} exists and is not a socket: "
                          "refusing to replace it", loc)
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise ScriptError(f"monitor path {path}: no such directory", loc)
    if len(os.fsencode(path)) > 107:
        raise ScriptError(f"monitor path {path} is longer than a unix socket path may be (107 bytes)", loc)


def _on(value) -> bool:
    return isinstance(value, str) and value.lower() in _TRUE


def _escape(value: str) -> str:
    return value.replace(",", ",,")
