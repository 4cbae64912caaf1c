"""The QEMU process: spawn it with a private monitor, watch it, stop it.

The private monitor is one end of a socketpair that QEMU inherits
(`-chardev socket,fd=N`): no path, so no one else can reach it and there is no
connect race (see qemu-facts.md: an inherited *listening* fd is racy on 7.2).
Talking over it is handshake.py's (synchronous) or link.py's (asyncio) job.

Spawning is synchronous and needs neither asyncio nor qemu.qmp: QEMU starts
while inorder-qemu imports them (about 40 ms, as long as QEMU takes to greet).
watch() then follows the process (a pidfd) and its stderr on the event loop.
So asyncio is imported inside the methods that run on the loop: at the top it
would put 25 ms before the spawn.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from ..errors import InorderError, LaunchError, QemuDied
from ..qemu import flags

# The ladder's rungs: each waits this long for QEMU to exit.
SHUTDOWN_STEP = 3.0


class Qemu:
    def __init__(self, binary: str):
        self.binary = binary
        self.argv: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.monitor: socket.socket | None = None   # our end of the private monitor
        self.more_output = None           # another place QEMU may have written to
        self._stderr = bytearray()
        self._stderr_fd = -1
        self._relay = False
        self._loop = None
        self._exited = None               # future: set when QEMU has exited
        self._stderr_done = None          # future: set at EOF on its stderr

    @property
    def command_line(self) -> list[str]:
        return [self.binary] + self.argv

    def spawn(self, argv: list[str], *, stdin=None, stdout=None, pass_fds=(),
              preexec_fn=None, new_session: bool = False) -> None:
        self.monitor, theirs = socket.socketpair()
        read_end, write_end = os.pipe()
        self.argv = argv + flags.private_monitor(theirs.fileno())
        try:
            self.proc = subprocess.Popen(
                self.command_line, pass_fds=[theirs.fileno(), *pass_fds], stdin=stdin,
                stdout=stdout, stderr=write_end, preexec_fn=preexec_fn,
                start_new_session=new_session)
        except OSError as e:
            os.close(read_end)
            raise LaunchError(f"cannot run {self.binary}: {e.strerror}") from e
        except BaseException:
            os.close(read_end)
            raise
        finally:
            theirs.close()
            os.close(write_end)
        self._stderr_fd = read_end

    @property
    def pid(self) -> int:
        return self.proc.pid

    # -- its end, and its last words ------------------------------------

    def died_now(self, fallback: str) -> InorderError:
        """died(), without an event loop: wait briefly for the exit, then
        read what QEMU wrote on stderr."""
        try:
            self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            return InorderError(fallback)
        # what is there: a child of QEMU may still hold the pipe open
        os.set_blocking(self._stderr_fd, False)
        while True:
            try:
                chunk = os.read(self._stderr_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self._stderr += chunk
        return self._exit_error()

    async def died(self, fallback: str) -> InorderError:
        """The error to report when QEMU is gone or not answering: QEMU's own
        last words when it said any."""
        if not await self._exit(2.0):
            return InorderError(fallback)
        return self._exit_error()

    def _exit_error(self) -> QemuDied:
        said = self.stderr_text() or (self.more_output().strip() if self.more_output else "")
        status = exit_status(self.proc.returncode)
        if said:
            return QemuDied(f"QEMU exited (status {status}): {_last_words(said)}")
        return QemuDied(f"QEMU exited (status {status}) without a message")

    def stderr_text(self) -> str:
        return self._stderr.decode(errors="replace").strip()

    # -- on the event loop ----------------------------------------------

    def watch(self) -> None:
        """Follow the process and its stderr on the running event loop."""
        import asyncio                     # imported after the spawn: see the docstring
        loop = self._loop = asyncio.get_running_loop()
        self._exited = loop.create_future()
        self._stderr_done = loop.create_future()
        os.set_blocking(self._stderr_fd, False)
        loop.add_reader(self._stderr_fd, self._on_stderr)
        pidfd = os.pidfd_open(self.proc.pid)
        loop.add_reader(pidfd, self._on_exit, pidfd)

    def _on_exit(self, pidfd: int) -> None:
        self._loop.remove_reader(pidfd)
        os.close(pidfd)
        self.proc.wait()                   # reaps it: the pidfd said it has exited
        if not self._exited.done():
            self._exited.set_result(self.proc.returncode)

    def _on_stderr(self) -> None:
        try:
            chunk = os.read(self._stderr_fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self._loop.remove_reader(self._stderr_fd)
            os.close(self._stderr_fd)
            self._stderr_fd = -1
            if not self._stderr_done.done():
                self._stderr_done.set_result(None)
            return
        if self._relay:
            sys.stderr.buffer.write(chunk)
            sys.stderr.buffer.flush()
        else:
            self._stderr += chunk

    def relay_stderr(self) -> None:
        """From now on QEMU's stderr is the user's: show what it said so far."""
        if self._stderr:
            sys.stderr.buffer.write(bytes(self._stderr))
            sys.stderr.buffer.flush()
            self._stderr.clear()
        self._relay = True

    async def _exit(self, timeout: float | None) -> bool:
        import asyncio
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except asyncio.TimeoutError:
            return False
        try:                               # what it wrote last
            await asyncio.wait_for(asyncio.shield(self._stderr_done), 1.0)
        except asyncio.TimeoutError:
            pass
        return True

    async def wait(self) -> int:
        await self._exit(None)
        return exit_status(self.proc.returncode)

    def send_signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass

    async def shutdown(self, link=None, timeout: float = SHUTDOWN_STEP) -> None:
        """The ladder: quit over the link (images closed cleanly), then
        SIGTERM, then SIGKILL, each with a timeout."""
        if self.proc is None:
            return
        if self._exited is None:           # never watched: no loop follows it
            self.stop_now(timeout)
            return
        if self.proc.returncode is None and link is not None:
            await link.quit(timeout)
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                self.send_signal(sig)
            if await self._exit(timeout):
                break
        if link is not None:
            await link.close()

    def stop_now(self, timeout: float = SHUTDOWN_STEP) -> None:
        """The ladder without an event loop (and so without QMP)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self.send_signal(sig)
            try:
                self.proc.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue


def exit_status(returncode: int) -> int:
    """A shell's view of a child's end: 128 + N for a signal."""
    return 128 - returncode if returncode < 0 else returncode


def _last_words(said: str) -> str:
    # the last lines: QEMU prints its fatal error last
    lines = [line for line in said.splitlines() if line.strip()]
    return "\n".join(lines[-3:])
