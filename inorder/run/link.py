"""The private QMP link on the event loop: qemu.qmp over the socketpair.

It imports qemu.qmp, so it is imported after the spawn (85 ms with asyncio,
about as long as QEMU takes to greet), through supervise.py.
"""

from __future__ import annotations

import asyncio
import os

from qemu.qmp import ExecuteError, QMPClient, QMPError

from ..errors import QemuSilent
from ..qemu.phase import QUIT
from .handshake import GREETING_TIMEOUT
from .process import Qemu

# How long a command may take before QEMU counts as stopped (a QEMU that is
# SIGSTOPped, or hangs); $INORDER_COMMAND_TIMEOUT sets another, in seconds.
def _command_timeout() -> float:
    try:
        value = float(os.environ.get("INORDER_COMMAND_TIMEOUT") or 30.0)
    except ValueError:
        return 30.0
    return value if value > 0 else 30.0


COMMAND_TIMEOUT = _command_timeout()
# What a lost or broken connection raises: qemu.qmp's own errors, the
# socket's, and the end of the stream.
LOST = (QMPError, OSError, EOFError)


class Link:
    def __init__(self, qemu: Qemu):
        self.qemu = qemu
        self.client: QMPClient | None = None

    async def connect(self) -> None:
        """Read QEMU's greeting and negotiate."""
        self.client = QMPClient("inorder")
        try:
            await asyncio.wait_for(self.client.connect(self.qemu.monitor), GREETING_TIMEOUT)
        except (asyncio.TimeoutError, *LOST) as e:
            raise await self.qemu.died(
                f"QEMU did not answer on its monitor ({_reason(e)})") from e

    def drain(self) -> None:
        """After a synchronous handshake: nobody reads the private monitor,
        but QEMU sends its events there; read and drop them."""
        sock = self.qemu.monitor
        loop = asyncio.get_running_loop()
        sock.setblocking(False)

        def on_readable():
            try:
                if not sock.recv(65536):
                    loop.remove_reader(sock.fileno())
            except BlockingIOError:
                pass
            except OSError:
                loop.remove_reader(sock.fileno())
        loop.add_reader(sock.fileno(), on_readable)

    async def execute(self, command: str, arguments: dict | None = None,
                      timeout: float = COMMAND_TIMEOUT):
        """Run one QMP command.  Raises ExecuteError when QEMU says no,
        QemuDied when it exits, QemuSilent on a time-out."""
        try:
            return await asyncio.wait_for(self.client.execute(command, arguments or None), timeout)
        except ExecuteError:
            raise
        except asyncio.TimeoutError as e:
            raise QemuSilent(f"QEMU stopped answering: no reply to '{command}' within "
                             f"{timeout:g} s") from e
        except LOST as e:
            raise await self.qemu.died(f"lost the monitor connection ({_reason(e)})") from e

    async def quit(self, timeout: float) -> None:
        """The first rung of the shutdown ladder; its failure is the next
        rung's business."""
        if self.client is None:
            return
        try:
            await asyncio.wait_for(self.client.execute(QUIT), timeout)
        except (asyncio.TimeoutError, *LOST):
            pass

    async def close(self) -> None:
        if self.client is not None:
            try:
                await asyncio.wait_for(self.client.disconnect(), 2.0)
            except (asyncio.TimeoutError, *LOST):
                pass
            self.client = None


def _reason(e: BaseException) -> str:
    return str(e) or type(e).__name__


