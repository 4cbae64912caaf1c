"""Nothing half-configured survives inorder-qemu, even a SIGKILL of it.

Before QEMU is launched, inorder-qemu forks a watchdog that holds the read end
of a pipe.  If inorder-qemu dies during the feed, the pipe closes: the
watchdog stops QEMU (SIGTERM, then SIGKILL, through a pidfd so a recycled pid
is never hit) and removes the sockets made for it.  It inherited the monitor
hold connections at the fork, so no client is greeted by the dying QEMU.  At
the release it is told so and exits: from then on the VM is the user's.
"""

from __future__ import annotations

import os
import select
import signal

_GRACE = 3.0


class Watchdog:
    def __init__(self):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                                   # the watchdog
            os.close(w)
            try:
                _watch(r)
            finally:
                os._exit(0)
        os.close(r)
        self.pid = pid
        self._w = w

    def _say(self, line: str) -> None:
        if self._w is not None:
            os.write(self._w, line.encode() + b"\n")

    def watch(self, pid: int) -> None:
        self._say(f"pid {pid}")

    def watch_me(self) -> None:
        """Called in QEMU's process between fork and exec: the watchdog learns
        the pid before inorder-qemu could die without telling it."""
        if self._w is not None:
            os.write(self._w, f"pid {os.getpid()}\n".encode())

    def remove_at_death(self, path: str) -> None:
        self._say(f"path {path}")

    def dismiss(self) -> None:
        """The feed is over (released, or cleaned up by inorder-qemu itself):
        the watchdog exits, closing its copies of the hold connections."""
        if self._w is None:
            return
        try:
            self._say("done")
        except OSError:
            pass
        os.close(self._w)
        self._w = None
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _watch(r: int) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    os.setpgid(0, 0)            # terminal signals are for inorder-qemu and QEMU
    pidfd = None
    paths: list[str] = []
    buf = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break                                  # inorder-qemu is gone
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            word, _, arg = line.decode().partition(" ")
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
