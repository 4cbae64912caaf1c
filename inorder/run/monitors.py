"""User monitors, held from before the launch until the release.

The mechanism is the same for every socket form (a unix path, TCP, an
inherited listening fd):

1. inorder-qemu binds and listens on the socket itself (an inherited one is
   already listening), and connects to it once: this *hold* connection is
   first in the kernel's accept queue;
2. QEMU gets the listening socket as `fd=N` (plan/monitors.py says how it is
   written); a socket chardev serves one client at a time, so QEMU accepts
   the hold connection and keeps every later client waiting in the queue,
   without a greeting;
3. at release (the last command has taken effect) the hold connection closes
   and QEMU greets the next client.

A new unix socket is bound under a temporary name nobody knows; its hold
connects once QEMU is in its main loop (its private monitor has greeted), and
the socket moves to the user's path only once QEMU has accepted the hold (its
greeting is there to read).  So QEMU never finds a connection queued when it
starts, and a client can only queue behind the hold.  With connections queued
from before QEMU's start, QEMU 7.2 went wrong in about one launch in 100: a
client retrying from before the launch was greeted by a half-configured VM,
or never, or QEMU did not greet its private monitor (a QMP monitor moves its
chardev to the monitor thread while the main loop may already accept on it).
A TCP, abstract or inherited socket is reachable as soon as it listens, so its
hold connects at once, before QEMU starts.  A client may try at any time; it
gets its greeting from a fully configured VM, 0.8 ms (median) after the
release.  The hold connection never speaks:
QEMU 7.2 can hang a client that runs qmp_capabilities on an inherited
listening fd it connected to early (qemu-facts.md).
"""

from __future__ import annotations

import os
import select
import socket

from ..errors import LaunchError
from ..plan.monitors import MonitorSpec, check_path, on
from .inherited import Inherited

BACKLOG = 64


class HeldMonitor:
    def __init__(self, spec: MonitorSpec):
        self.spec = spec
        self.listener: socket.socket | None = None
        self.hold = None    # a socket.socket, or the _socket one run/inherited.py made
        self.fd: int | None = None            # the listening socket QEMU inherits
        self.words: list[str] | None = None   # what QEMU gets instead of the step's argv
        self.bound_path: str | None = None    # a unix path we created: removed at the end
        self._temp_path: str | None = None

    @property
    def label(self) -> str:
        return self.spec.label

    def prepare(self, watchdog, inherited: Inherited) -> None:
        """Create or adopt the listening socket, the fd QEMU inherits.  A
        socket anyone can reach at once (TCP, abstract, an inherited one) is
        held now; a new unix socket, which nobody can reach under its
        temporary name, is held once QEMU runs (hold_now()).  The
        watchdog learns of every socket file before it exists, and keeps a
        copy of each hold."""
        self.fd = self._prepare(watchdog, inherited)

    def hold_now(self, watchdog) -> None:
        """QEMU is in its main loop: queue the hold of a new unix socket, the
        first connection QEMU sees on it."""
        if self._temp_path is None or self.hold is not None:
            return
        self.hold = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.hold.connect(self._temp_path)
        except OSError as e:
            raise LaunchError(f"cannot hold monitor {self.label}: {e.strerror}",
                              self.spec.location) from e
        watchdog.keep(self.hold)

    def _prepare(self, watchdog, inherited: Inherited) -> int:
        fd = self.spec.inherited_fd
        if fd is not None:
            self.hold = inherited.take_hold(fd)
            if self.hold is not None:
                return fd
            self.listener = socket.socket(fileno=os.dup(fd))
            self.listener.set_inheritable(False)
        else:
            self.listener = self._listen(watchdog)
            fd = self.listener.fileno()
            os.set_inheritable(fd, True)
            self.words = self.spec.words(fd)
            if self._temp_path is not None:
                return fd                 # held once QEMU runs: hold_now()
        self.hold = socket.socket(self.listener.family, socket.SOCK_STREAM)
        try:
            self.hold.connect(self.listener.getsockname())
        except OSError as e:
            raise LaunchError(f"cannot hold monitor {self.label}: {e.strerror}",
                              self.spec.location) from e
        watchdog.keep(self.hold)
        if self.spec.inherited_fd is not None:
            self.listener.close()
            self.listener = None
        return fd

    def _listen(self, watchdog) -> socket.socket:
        o = self.spec.opts
        if not o.get("path"):
            s = _listen_tcp(o, self.label, self.spec.location)
            s.listen(BACKLOG)
            return s
        path = o["path"]
        if on(o.get("abstract")):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind("\0" + path)
                s.listen(BACKLOG)
            except OSError as e:
                s.close()
                raise LaunchError(f"cannot create monitor socket @{path}: {e.strerror}",
                                  self.spec.location) from e
            return s
        check_path(path, self.spec.location)      # again: a kept plan was checked before
        # Bind under a temporary name and rename it into place only once the
        # hold connection is queued: a client can never be first.
        temp = os.path.join(os.path.dirname(os.path.abspath(path)),
                            f".iq{os.getpid()}-{self.spec.index}")
        watchdog.remove_at_death(temp)
        watchdog.remove_at_death(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if os.path.exists(temp):
                os.unlink(temp)
            s.bind(temp)
            s.listen(BACKLOG)
        except OSError as e:
            s.close()
            raise LaunchError(f"cannot create monitor socket {path}: {e.strerror}",
                              self.spec.location) from e
        self._temp_path = temp
        return s

    @property
    def waiting(self) -> bool:
        """A new unix socket not yet at the user's path."""
        return self._temp_path is not None

    def place(self, timeout: float = 0.0) -> None:
        """Move a new unix socket to the user's path, once QEMU has accepted
        the hold (waiting up to `timeout` for that; then moved anyway)."""
        temp = self._temp_path
        if temp is None:
            return
        if timeout and self.hold is not None:
            select.select([self.hold], [], [], timeout)
        path = self.spec.opts["path"]
        try:
            if os.path.lexists(path):
                os.unlink(path)           # a stale socket, as QEMU does
            os.rename(temp, path)
        except OSError as e:
            raise LaunchError(f"cannot put monitor socket {path} in place: {e.strerror}",
                              self.spec.location) from e
        self._temp_path = None
        self.bound_path = path

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
        for path in (self._temp_path, self.bound_path):
            if path is not None:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        self._temp_path = self.bound_path = None


def _listen_tcp(o: dict, label: str, loc) -> socket.socket:
    host = o.get("host") or None
    try:
        first = int(o["port"])
        last = int(o.get("to") or first)
    except ValueError as e:
        raise LaunchError(f"monitor {label}: the port is not a number", loc) from e
    family = socket.AF_UNSPEC
    if on(o.get("ipv4")):
        family = socket.AF_INET
    elif on(o.get("ipv6")):
        family = socket.AF_INET6
    error = None
    for port in range(first, last + 1):
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
        except socket.gaierror as e:
            raise LaunchError(f"monitor {label}: {e.strerror}", loc) from e
        for fam, kind, proto, _, address in infos:
            s = socket.socket(fam, kind, proto)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(address)
                return s
            except OSError as e:
                error = e
                s.close()
    raise LaunchError(f"cannot listen for monitor {label}: "
                      f"{error.strerror if error else 'no address'}", loc)
