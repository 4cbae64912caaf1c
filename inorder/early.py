"""Hold inherited listening sockets from inorder-qemu's first instructions.

A caller such as libvirt passes its monitor as a listening socket (`fd=N`)
and connects to it right after starting the emulator.  The first connection
in the accept queue is the one QEMU greets first, so inorder-qemu connects its
hold connection before doing anything else (before parsing, before the heavy
imports): about 20 ms after exec.  A client faster than that is first in the
queue: inorder-qemu sees it in the queue length (sock_diag for unix sockets,
TCP_INFO for TCP) and warns.
"""

from __future__ import annotations

import os
import stat

# inherited fd -> our hold connection to it
HOLDS: dict = {}
# every fd above 2 that inorder-qemu was started with and that survives exec:
# QEMU gets them all, as it would have had (-add-fd fd=N, fd=N, a pidfile lock)
INHERITED: list[int] = []
# inherited fds that had clients waiting before our hold connected
BEATEN: set[int] = set()


def hold_inherited_listeners() -> None:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        fd = int(name)
        if fd < 3 or fd in HOLDS:
            continue
        try:
            if not os.get_inheritable(fd):        # the directory listing itself, say
                continue
            INHERITED.append(fd)
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            import socket                    # only when a socket was inherited
            listener = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if listener.type != socket.SOCK_STREAM or \
                    not listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                continue
            address = listener.getsockname()
            if not address:                   # an unnamed socket: nothing to connect to
                continue
            if queue_length(listener):
                BEATEN.add(fd)
            hold = socket.socket(listener.family, socket.SOCK_STREAM)
            try:
                hold.connect(address)
            except OSError:
                hold.close()
                continue
            HOLDS[fd] = hold
        except OSError:
            pass
        finally:
            listener.close()


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


def release_all() -> None:
    while HOLDS:
        HOLDS.popitem()[1].close()


def unhold() -> None:
    """QEMU is about to get the inherited sockets as they were: take our hold
    connections back out of their queues.  Ours is taken back only when it is
    the one connection queued (so the first in line is ours); behind a client
    it stays, closed, and QEMU drops it when that client is done."""
    if not HOLDS:
        return
    import select
    import socket
    while HOLDS:
        fd, hold = HOLDS.popitem()
        try:
            if fd not in BEATEN:
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
