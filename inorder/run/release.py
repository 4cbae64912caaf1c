"""What is held from before the launch until the release, and the release.

Held: the user's monitors (each with its hold connection), the holds on
inherited listeners no monitor took over, the pidfile under its temporary
name, and QEMU's stdio (the terminal relay).  The release lets go of all of
them at once, when the last command has taken effect; the cleanup removes
what a failed or finished run leaves.
"""

from __future__ import annotations

from ..errors import say
from .inherited import Inherited

# How long the release waits for QEMU to accept a hold whose socket is not at
# the user's path yet (monitors.py): QEMU accepts when its main loop runs.
ACCEPT_TIMEOUT = 5.0
from .monitors import HeldMonitor
from .pidfile import PidFile


class Held:
    def __init__(self, monitors: list[HeldMonitor], inherited: Inherited,
                 pidfile: PidFile | None, verbose: bool):
        self.monitors = monitors
        self.inherited = inherited
        self.pidfile = pidfile
        self.terminal = None              # run/terminal.py, when stdio is QEMU's console
        self.verbose = verbose
        self.released = False

    def release(self) -> None:
        """The configuration is complete: clients may now see the VM."""
        self.inherited.release_all()      # inherited sockets that are no monitors
        for monitor in self.monitors:
            monitor.place(ACCEPT_TIMEOUT)
            monitor.release()
            if self.verbose:
                say(f"released monitor {monitor.label}")
        self.released = True
        if self.pidfile is not None:
            self.pidfile.place()
        if self.terminal is not None:
            self.terminal.release()

    def cleanup(self, keep_sockets: bool = False) -> None:
        """keep_sockets: -daemonize, QEMU goes on with the sockets."""
        if self.pidfile is not None:
            self.pidfile.cleanup(keep=keep_sockets)
        if self.terminal is not None:
            self.terminal.close()
        self.inherited.release_all()
        for monitor in self.monitors:
            if keep_sockets:
                monitor.release()
                monitor.close_listener()
            else:
                monitor.cleanup()
