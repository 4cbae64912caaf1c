"""-pidfile FILE, written and locked by QEMU itself, in place only once the
VM is released.

QEMU writes its pid to a file and locks it (lockf) as soon as it starts, in
preconfig: too early to signal readiness.  So QEMU is given a temporary name
beside FILE, and the file is renamed to FILE at the release; the lock is on
the file, so it holds under the new name.  QEMU removes its pidfile when it
exits, by the name it was given: under supervision inorder-qemu removes FILE
then; after -daemonize FILE stays, unlocked.
"""

from __future__ import annotations

import os

from ..errors import LaunchError, warn
from ..plan import recheck


class PidFile:
    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        folder, name = os.path.split(self.path)
        self.temp = os.path.join(folder, f".{name}.inorder-{os.getpid()}")
        self._placed: tuple[int, int] | None = None     # (dev, inode) once renamed

    def check(self) -> None:
        """QEMU refuses a pidfile another process holds locked: so do we,
        before anything starts."""
        problem = recheck.pidfile(self.path)
        if problem:
            raise LaunchError(problem)

    def place(self) -> None:
        try:
            st = os.stat(self.temp)
            os.rename(self.temp, self.path)
        except OSError as e:
            warn(f"cannot put the pid file in place at {self.path}: {e.strerror}")
            return
        self._placed = (st.st_dev, st.st_ino)

    def cleanup(self, keep: bool) -> None:
        """keep: -daemonize, QEMU goes on running.  Else QEMU has exited (or
        never ran): remove what it would have removed."""
        for path in (self.temp, self.path if not keep else None):
            if path is None:
                continue
            try:
                st = os.stat(path)
                if path == self.temp or (st.st_dev, st.st_ino) == self._placed:
                    os.unlink(path)
            except OSError:
                pass
