"""The fds inorder-qemu was started with, and holds on inherited listeners.

A caller such as libvirt passes its monitor as a listening socket (`fd=N`)
and connects to it right after starting the emulator.  The first connection
in the accept queue is the one QEMU greets first, so inorder-qemu connects its
hold connection before doing anything else (before parsing, before the heavy
imports): about 20 ms after exec.  A client faster than that is first in the
queue: inorder-qemu sees it in the queue length (sock_diag for unix sockets,
TCP_INFO for TCP) and warns.

Every other inheritable fd is kept as it is for QEMU, which gets them all, as
it would have had them without inorder-qemu (-add-fd fd=N, fd=N, a pidfile
lock).

This runs before anything else at every start, so socket, struct and select
are imported only once an inherited socket is seen (socket alone: 2 to 7 ms).
"""

from __future__ import annotations

import os
import stat


class Inherited:
    def __init__(self):
        self.fds: list[int] = []      # every inheritable fd above 2
        self.holds: dict = {}         # inherited listening fd -> our hold connection
        self.beaten: set[int] = set() # inherited fds with a client queued before our hold

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
                self.fds.append(fd)
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    self._hold(fd)
            except OSError:
                continue
        return self

    def _hold(self, fd: int) -> None:
        import socket                    # see the docstring
        listener = socket.socket(fileno=os.dup(fd))
        try:
            if listener.type != socket.SOCK_STREAM or \
                    not listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return
            address = listener.getsockname()
            if not address:                   # an unnamed socket: nothing to connect to
                return
            if queue_length(listener):
                self.beaten.add(fd)
            hold = socket.socket(listener.family, socket.SOCK_STREAM)
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
        import select
        import socket
        while self.holds:
            fd, hold = self.holds.popitem()
            try:
                if fd not in self.beaten:
                    listener = socket.socket(fileno=os.dup(fd))
                    try:
                        if queue_length(listener) == 1 and select.select([listener], [], [], 0)[0]:
                            listener.accept()[0].close()
                    finally:
                        listener.close()
            except OSError:
                pass
            finally:
                hold.close()


def queue_length(listener) -> int | None:
    """How many connections wait in a listening socket's accept queue."""
    import socket
    import struct
    try:
        if listener.family == socket.AF_UNIX:
            return _unix_queue(os.fstat(listener.fileno()).st_ino)
        info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return struct.unpack_from("=I", info, 24)[0]      # tcpi_unacked: the backlog
    except OSError:
        return None


_SOCK_DIAG_BY_FAMILY, _TCP_LISTEN, _UDIAG_SHOW_RQLEN, _UNIX_DIAG_RQLEN = 20, 10, 0x10, 4


def _unix_queue(ino: int) -> int | None:
    import socket
    import struct
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4) as nl:   # NETLINK_SOCK_DIAG
        req = struct.pack("=BBHIIIII", socket.AF_UNIX, 0, 0, 1 << _TCP_LISTEN, ino,
                          _UDIAG_SHOW_RQLEN, 0xFFFFFFFF, 0xFFFFFFFF)
        nl.send(struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req)
        data = nl.recv(65536)
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
