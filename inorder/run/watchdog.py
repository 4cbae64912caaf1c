"""Nothing half-configured survives inorder-qemu, even a SIGKILL of it.

Before anything is created, inorder-qemu forks a watchdog connected to it by a
socketpair.  It is told, before each exists, the sockets made for the user's
monitors, and it gets a copy of every hold connection (SCM_RIGHTS).  If
inorder-qemu dies during the feed, the socketpair closes: the watchdog stops
QEMU (SIGTERM, then SIGKILL, through a pidfd so a recycled pid is never hit)
and removes those sockets; since it still holds the hold connections, no
client is greeted by the dying QEMU.  QEMU itself reports its pid between fork
and exec, so there is no moment when it runs unwatched.  At the release the
watchdog is dismissed: from then on the VM is the user's.
"""

from __future__ import annotations

import os
import select
import signal
import socket

_GRACE = 3.0


class Watchdog:
    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:                                   # the watchdog
            ours.close()
            try:
                _watch(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid = pid
        self._sock: socket.socket | None = ours

    def _say(self, line: str, fds=()) -> None:
        if self._sock is not None:
            socket.send_fds(self._sock, [line.encode()], list(fds))

    def watch_me(self) -> None:
        """Called in QEMU's process between fork and exec."""
        if self._sock is not None:
            os.write(self._sock.fileno(), f"pid {os.getpid()}".encode())

    def remove_at_death(self, path: str) -> None:
        self._say(f"path {path}")

    def keep(self, sock) -> None:
        """A copy of a hold connection, closed only when the watchdog ends."""
        self._say("fd", [sock.fileno()])

    def dismiss(self) -> None:
        """The feed is over (released, or cleaned up by inorder-qemu itself):
        the watchdog exits, closing its copies of the hold connections."""
        if self._sock is None:
            return
        try:
            self._say("done")
        except OSError:
            pass
        self._sock.close()
        self._sock = None
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _watch(sock: socket.socket) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    os.setpgid(0, 0)            # terminal signals are for inorder-qemu and QEMU
    pidfd = None
    paths: list[str] = []
    kept: list[int] = []        # closed by os._exit, after QEMU is gone
    while True:
        msg, fds, _, _ = socket.recv_fds(sock, 4096, 16)
        kept.extend(fds)
        if not msg:
            break                                  # inorder-qemu is gone
        word, _, arg = msg.decode().partition(" ")
        if word == "done":
            return
        if word == "pid":
            try:
                pidfd = os.pidfd_open(int(arg))
            except OSError:
                pidfd = None
        elif word == "path":
            paths.append(arg)
    if pidfd is not None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                signal.pidfd_send_signal(pidfd, sig)
            except OSError:
                break
            if select.select([pidfd], [], [], _GRACE)[0]:
                break
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
