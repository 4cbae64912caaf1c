"""A QEMU process with a private QMP monitor: spawn, talk, shut down.

The private monitor is one end of a socketpair that QEMU inherits
(`-chardev socket,fd=N`): no path, so no one else can reach it and there is no
connect race (see qemu-facts.md: an inherited *listening* fd is racy on 7.2).

Spawning is synchronous and needs neither asyncio nor qemu.qmp: QEMU starts
while inorder-qemu imports them (about 40 ms, as long as QEMU takes to greet).
`attach()` then watches the process (a pidfd), its stderr and its monitor on
the running event loop.
"""

from __future__ import annotations

import os
import socket
import sys

from .errors import InorderError

PRIVATE_CHARDEV = "inorder-feed"
GREETING_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0


class QemuDied(InorderError):
    """QEMU exited while we talked to it; its stderr says why."""


class QemuRefused(InorderError):
    """QEMU answered a command of the handshake with an error."""

    def __init__(self, command: str, desc: str):
        super().__init__(desc)
        self.command = command


class Qemu:
    def __init__(self, binary: str, argv: list[str]):
        self.binary = binary
        self.argv = argv
        self.proc = None                  # subprocess.Popen
        self.qmp = None
        self.more_output = None           # another place QEMU may have written to
        self._ours: socket.socket | None = None
        self._stderr = bytearray()
        self._stderr_fd = -1
        self._relay = False
        self._loop = None
        self._exited = None               # future: set when QEMU has exited
        self._stderr_done = None          # future: set at EOF on its stderr

    @property
    def command_line(self) -> list[str]:
        return [self.binary] + self.argv

    def spawn(self, *, stdin=None, stdout=None, pass_fds=(), preexec_fn=None,
              new_session: bool = False) -> None:
        import subprocess
        self._ours, theirs = socket.socketpair()
        read_end, write_end = os.pipe()
        self.argv = self.argv + [
            "-chardev", f"socket,id={PRIVATE_CHARDEV},fd={theirs.fileno()}",
            "-mon", f"chardev={PRIVATE_CHARDEV},mode=control",
        ]
        try:
            self.proc = subprocess.Popen(
                self.command_line, pass_fds=[theirs.fileno(), *pass_fds], stdin=stdin,
                stdout=stdout, stderr=write_end, preexec_fn=preexec_fn,
                start_new_session=new_session)
        except OSError as e:
            os.close(read_end)
            raise InorderError(f"cannot run {self.binary}: {e.strerror}") from None
        finally:
            theirs.close()
            os.close(write_end)
        self._stderr_fd = read_end

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    def handshake(self, commands: list[str]) -> None:
        """Without asyncio or qemu.qmp (whose import takes longer than QEMU's
        start): read the greeting, negotiate, and run `commands` (no
        arguments) on the private monitor.  Raises QemuRefused when QEMU
        answers with an error, QemuDied when it exits or does not answer."""
        import json
        self._ours.settimeout(GREETING_TIMEOUT)
        reader = self._ours.makefile("rb")
        try:
            if b'"QMP"' not in reader.readline():
                raise OSError("no greeting")
            for command in ["qmp_capabilities", *commands]:
                self._ours.sendall(json.dumps({"execute": command}).encode() + b"\n")
                while True:                        # events may come first
                    line = reader.readline()
                    if not line:
                        raise OSError("connection closed")
                    reply = json.loads(line)
                    if "error" in reply:
                        raise QemuRefused(command, reply["error"].get("desc", ""))
                    if "return" in reply:
                        break
        except (OSError, ValueError) as e:
            raise self._died_now(f"QEMU did not answer on its monitor ({_reason(e)})") from None
        finally:
            reader.close()                         # the socket itself stays open

    def _died_now(self, fallback: str) -> InorderError:
        """died(), without an event loop: wait briefly for the exit, then
        read what QEMU wrote on stderr."""
        import subprocess
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
        said = self.stderr_text()
        status = _status(self.proc.returncode)
        if said:
            return QemuDied(f"QEMU exited (status {status}): {_last_words(said)}")
        return QemuDied(f"QEMU exited (status {status}) without a message")

    async def attach(self, monitor: bool = True) -> None:
        """Watch the process and its stderr, and read QEMU's greeting (unless
        the handshake was done without asyncio: then only drain the private
        monitor, which QEMU sends its events to)."""
        import asyncio

        loop = self._loop = asyncio.get_running_loop()
        self._exited = loop.create_future()
        self._stderr_done = loop.create_future()
        os.set_blocking(self._stderr_fd, False)
        loop.add_reader(self._stderr_fd, self._on_stderr)
        pidfd = os.pidfd_open(self.proc.pid)
        loop.add_reader(pidfd, self._on_exit, pidfd)
        if not monitor:
            self._ours.setblocking(False)
            loop.add_reader(self._ours.fileno(), self._drain)
            return
        from qemu.qmp import QMPClient
        self.qmp = QMPClient("inorder")
        try:
            await asyncio.wait_for(self.qmp.connect(self._ours), GREETING_TIMEOUT)
        except Exception as e:
            raise await self.died(f"QEMU did not answer on its monitor ({_reason(e)})") from None

    def _drain(self) -> None:
        try:
            if not self._ours.recv(65536):
                self._loop.remove_reader(self._ours.fileno())
        except BlockingIOError:
            pass
        except OSError:
            self._loop.remove_reader(self._ours.fileno())

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

    def stderr_text(self) -> str:
        return self._stderr.decode(errors="replace").strip()

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

    async def died(self, fallback: str) -> InorderError:
        """The error to report when QEMU is gone or not answering: QEMU's own
        last words when it said any."""
        if not await self._exit(2.0):
            return InorderError(fallback)
        said = self.stderr_text() or (self.more_output().strip() if self.more_output else "")
        status = _status(self.proc.returncode)
        if said:
            return QemuDied(f"QEMU exited (status {status}): {_last_words(said)}")
        return QemuDied(f"QEMU exited (status {status}) without a message")

    async def execute(self, command: str, arguments: dict | None = None,
                      timeout: float = COMMAND_TIMEOUT):
        """Run one QMP command.  Raises qemu.qmp.ExecuteError when QEMU says
        no, QemuDied when it exits, InorderError on a time-out."""
        import asyncio

        from qemu.qmp import ExecuteError
        try:
            return await asyncio.wait_for(self.qmp.execute(command, arguments or None), timeout)
        except ExecuteError:
            raise
        except asyncio.TimeoutError:
            raise InorderError(f"QEMU did not answer '{command}' within {timeout:g} s") from None
        except Exception as e:
            raise await self.died(f"lost the monitor connection ({_reason(e)})") from None

    async def wait(self) -> int:
        await self._exit(None)
        await self._close()
        return _status(self.proc.returncode)

    def send_signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass

    async def shutdown(self, timeout: float = 3.0) -> None:
        """The ladder: quit (images closed cleanly), terminate, kill."""
        import asyncio
        import signal
        if self.proc is None:
            return
        if self._exited is None:           # never attached: no loop watches it
            for sig in (signal.SIGTERM, signal.SIGKILL):
                self.send_signal(sig)
                try:
                    self.proc.wait(timeout)
                    break
                except Exception:
                    continue
            return
        if self.proc.returncode is None and self.qmp is not None:
            try:
                await asyncio.wait_for(self.qmp.execute("quit"), timeout)
            except Exception:
                pass
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                self.send_signal(sig)
            if await self._exit(timeout):
                break
        await self._close()

    async def _close(self) -> None:
        import asyncio
        if self.qmp is not None:
            try:
                await asyncio.wait_for(self.qmp.disconnect(), 2.0)
            except Exception:
                pass
            self.qmp = None


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _reason(e: BaseException) -> str:
    return str(e) or type(e).__name__


def _last_words(said: str) -> str:
    # the last lines: QEMU prints its fatal error last
    lines = [l for l in said.splitlines() if l.strip()]
    return "\n".join(lines[-3:])
