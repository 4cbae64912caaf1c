"""The fds inorder-qemu was started with, and holds on inherited listeners.

A caller such as libvirt passes its monitor as a listening socket (`fd=N`)
and connects to it right after starting the emulator.  The first connection
in the accept queue is the one QEMU greets first, so inorder-qemu connects its
hold connection before doing anything else (before parsing, before the heavy
imports): 10 to 20 ms after exec, the interpreter's start.  A client faster
than that is first in the queue: inorder-qemu sees it in the queue length
(sock_diag for unix sockets, TCP_INFO for TCP) and warns.

Every other inheritable fd is kept as it is for QEMU, which gets them all, as
it would have had them without inorder-qemu (-add-fd fd=N, fd=N, a pidfile
lock).

This runs before anything else at every start, and under libvirt the warm
start (warm.py) follows it: the sockets are handled with _socket, the C
module under socket, which imports in a fraction of a millisecond where
socket's enum, selectors and array cost a start about 10 ms; struct and
select only once an inherited socket is seen.  A monitor that takes a hold
over (run/monitors.py) only selects on it and closes it, as on its own.

What the fds are is part of a kept exec record's key (describe()).
"""

from __future__ import annotations

import os
import stat


class Inherited:
    def __init__(self):
        self.fds: list[int] = []      # every inheritable fd above 2
        self.holds: dict = {}         # inherited listening fd -> our hold connection
        self.beaten: set[int] = set() # inherited fds with a client queued before our hold
        self.kinds: list[str] = []    # "FD:KIND" of each of self.fds (describe())
        self.listening: set[int] = set()  # inherited listening sockets, held or not

    @classmethod
    def at_start(cls) -> Inherited:
        """Look at every fd, and hold each inherited listening socket."""
        self = cls()
        try:
            names = os.listdir("/proc/self/fd")
        except OSError:
            return self
        for name in names:
            fd = int(name)
            if fd < 3:
                continue
            try:
                if not os.get_inheritable(fd):        # the directory listing itself, say
                    continue
                mode = os.fstat(fd).st_mode
                self.fds.append(fd)
                self.kinds.append(f"{fd}:{stat.S_IFMT(mode):o}")
                if stat.S_ISSOCK(mode):
                    self._hold(fd)
            except OSError:
                continue
        self.fds.sort()
        self.kinds.sort()
        return self

    def describe(self) -> list[str]:
        """What the fds are: a plan made with these fds holds for the same
        numbers of the same kinds (file, pipe, socket, and whether a socket
        listens: the planner refuses a monitor on a connected one)."""
        return self.kinds + [f"{fd}:listening" for fd in sorted(self.listening)]

    def _hold(self, fd: int) -> None:
        import _socket                   # see the docstring
        listener = _socket.socket(fileno=os.dup(fd))
        try:
            if listener.type != _socket.SOCK_STREAM or \
                    not listener.getsockopt(_socket.SOL_SOCKET, _socket.SO_ACCEPTCONN):
                return
            self.listening.add(fd)
            address = listener.getsockname()
            if not address:                   # an unnamed socket: nothing to connect to
                return
            if queue_length(listener):
                self.beaten.add(fd)
            hold = _socket.socket(listener.family, _socket.SOCK_STREAM)
            try:
                hold.connect(address)
            except OSError:
                hold.close()
                return
            self.holds[fd] = hold
        except OSError:
            pass
        finally:
            listener.close()

    def take_hold(self, fd: int):
        """A monitor takes over the hold on its inherited fd (None if none)."""
        return self.holds.pop(fd, None)

    def release_all(self) -> None:
        """The release: close the holds no monitor took over."""
        while self.holds:
            self.holds.popitem()[1].close()

    def unhold(self) -> None:
        """QEMU is about to get the inherited sockets as they were (exec):
        take our hold connections back out of their queues.  Ours is taken
        back only when it is the one connection queued (so the first in line
        is ours); behind a client it stays, closed, and QEMU drops it when
        that client is done."""
        if not self.holds:
            return
        import _socket
        import select
        while self.holds:
            fd, hold = self.holds.popitem()
            try:
                if fd not in self.beaten:
                    listener = _socket.socket(fileno=os.dup(fd))
                    try:
                        if queue_length(listener) == 1 and select.select([listener], [], [], 0)[0]:
                            os.close(listener._accept()[0])
                    finally:
                        listener.close()
            except OSError:
                pass
            finally:
                hold.close()


def queue_length(listener) -> int | None:
    """How many connections wait in a listening socket's accept queue (a
    socket.socket or a _socket.socket)."""
    import _socket
    import struct
    try:
        if listener.family == _socket.AF_UNIX:
            return _unix_queue(os.fstat(listener.fileno()).st_ino)
        info = listener.getsockopt(_socket.IPPROTO_TCP, _socket.TCP_INFO, 104)
        return struct.unpack_from("=I", info, 24)[0]      # tcpi_unacked: the backlog
    except OSError:
        return None


_SOCK_DIAG_BY_FAMILY, _TCP_LISTEN, _UDIAG_SHOW_RQLEN, _UNIX_DIAG_RQLEN = 20, 10, 0x10, 4


def _unix_queue(ino: int) -> int | None:
    import _socket
    import struct
    nl = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, 4)   # NETLINK_SOCK_DIAG
    try:
        req = struct.pack("=BBHIIIII", _socket.AF_UNIX, 0, 0, 1 << _TCP_LISTEN, ino,
                          _UDIAG_SHOW_RQLEN, 0xFFFFFFFF, 0xFFFFFFFF)
        nl.send(struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req)
        data = nl.recv(65536)
    finally:
        nl.close()
    length, kind = struct.unpack_from("=IH", data)
    if kind != _SOCK_DIAG_BY_FAMILY:
        return None
    offset = 16 + 16                      # nlmsghdr, unix_diag_msg
    while offset + 4 <= length:
        size, attr = struct.unpack_from("=HH", data, offset)
        if attr == _UNIX_DIAG_RQLEN:
            return struct.unpack_from("=I", data, offset + 4)[0]
        offset += max((size + 3) & ~3, 4)
    return None
