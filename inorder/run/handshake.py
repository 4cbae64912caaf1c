"""The private monitor without asyncio or qemu.qmp, for a plan whose feed is
at most the advances QEMU cannot make itself (`cont`): importing them takes
longer than QEMU's start, so the greeting is read as soon as QEMU is up."""

from __future__ import annotations

import json

from ..errors import QemuRefused
from ..qemu.commands import CAPABILITIES
from .process import Qemu

GREETING_TIMEOUT = 10.0


def handshake(qemu: Qemu, commands: list[str]) -> None:
    """Read the greeting, negotiate, and run `commands` (no arguments) on the
    private monitor.  Raises QemuRefused when QEMU answers with an error,
    QemuDied (or InorderError) when it exits or does not answer."""
    sock = qemu.monitor
    sock.settimeout(GREETING_TIMEOUT)
    reader = sock.makefile("rb")
    try:
        if b'"QMP"' not in reader.readline():
            raise OSError("no greeting")
        for command in [CAPABILITIES, *commands]:
            sock.sendall(json.dumps({"execute": command}).encode() + b"\n")
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
        raise qemu.died_now(f"QEMU did not answer on its monitor ({e or type(e).__name__})") from e
    finally:
        reader.close()                         # the socket itself stays open
