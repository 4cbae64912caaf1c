"""A QEMU process with a private QMP monitor: launch, talk, shut down.

The private monitor is one end of a socketpair that QEMU inherits
(`-chardev socket,fd=N`): no path, so no one else can reach it and there is no
connect race (see qemu-facts.md: an inherited *listening* fd is racy on 7.2).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys

from .errors import InorderError

log = logging.getLogger(__name__)

PRIVATE_CHARDEV = "inorder-feed"
GREETING_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0
class QemuDied(InorderError):
    """QEMU exited while we talked to it; its stderr says why."""


class Qemu:
    def __init__(self, binary: str, argv: list[str]):
        self.binary = binary
        self.argv = argv
        self.proc: asyncio.subprocess.Process | None = None
        self.qmp = None
        self._stderr = bytearray()
        self._relay = False
        self._stderr_task: asyncio.Task | None = None
        self.more_output = None     # another place QEMU may have written to

    @property
    def command_line(self) -> list[str]:
        return [self.binary] + self.argv

    async def launch(self, *, stdin=None, stdout=None, pass_fds=(), preexec_fn=None,
                     new_session: bool = False) -> None:
        from qemu.qmp import QMPClient     # imported late: 57 ms
        ours, theirs = socket.socketpair()
        try:
            argv = self.argv + [
                "-chardev", f"socket,id={PRIVATE_CHARDEV},fd={theirs.fileno()}",
                "-mon", f"chardev={PRIVATE_CHARDEV},mode=control",
            ]
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    self.binary, *argv, pass_fds=[theirs.fileno(), *pass_fds], stdin=stdin,
                    stdout=stdout, stderr=asyncio.subprocess.PIPE,
                    preexec_fn=preexec_fn, start_new_session=new_session)
            except OSError as e:
                raise InorderError(f"cannot run {self.binary}: {e.strerror}") from None
        finally:
            theirs.close()
        self._stderr_task = asyncio.create_task(self._read_stderr())
        self.qmp = QMPClient("inorder")
        try:
            await asyncio.wait_for(self.qmp.connect(ours), GREETING_TIMEOUT)
        except Exception as e:
            ours.close()
            raise await self.died(f"QEMU did not answer on its monitor ({_reason(e)})") from None

    async def _read_stderr(self) -> None:
        while True:
            chunk = await self.proc.stderr.read(65536)
            if not chunk:
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

    async def died(self, fallback: str) -> InorderError:
        """The error to report when QEMU is gone or not answering: QEMU's own
        last words when it said any."""
        try:
            await asyncio.wait_for(self.proc.wait(), 2.0)
        except asyncio.TimeoutError:
            return InorderError(fallback)
        if self._stderr_task:
            await asyncio.wait([self._stderr_task], timeout=1.0)
        said = self.stderr_text() or (self.more_output().strip() if self.more_output else "")
        status = _status(self.proc.returncode)
        if said:
            return QemuDied(f"QEMU exited (status {status}): {_last_words(said)}")
        return QemuDied(f"QEMU exited (status {status}) without a message")

    async def execute(self, command: str, arguments: dict | None = None,
                      timeout: float = COMMAND_TIMEOUT):
        """Run one QMP command.  Raises qemu.qmp.ExecuteError when QEMU says
        no, QemuDied when it exits, InorderError on a time-out."""
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
        await self.proc.wait()
        await self._close()
        return _status(self.proc.returncode)

    async def shutdown(self, timeout: float = 3.0) -> None:
        """The ladder: quit (images closed cleanly), terminate, kill."""
        if self.proc is None or self.proc.returncode is not None:
            await self._close()
            return
        if self.qmp is not None:
            try:
                await asyncio.wait_for(self.qmp.execute("quit"), timeout)
            except Exception:
                pass
        for action in (None, self.proc.terminate, self.proc.kill):
            if action is not None:
                try:
                    action()
                except ProcessLookupError:
                    pass
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
                break
            except asyncio.TimeoutError:
                continue
        await self._close()

    async def _close(self) -> None:
        if self.qmp is not None:
            try:
                await asyncio.wait_for(self.qmp.disconnect(), 2.0)
            except Exception:
                pass
            self.qmp = None
        if self._stderr_task is not None and self.proc is not None and self.proc.returncode is not None:
            await asyncio.wait([self._stderr_task], timeout=1.0)


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _reason(e: BaseException) -> str:
    return str(e) or type(e).__name__


def _last_words(said: str) -> str:
    # QEMU prefixes its errors with the binary name; keep the message.
    lines = [l for l in said.splitlines() if l.strip()]
    text = "\n".join(lines[-3:])
    return text
