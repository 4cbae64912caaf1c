"""The probe behind a profile (qemu/profile.py): ask a QEMU binary what it is.

It starts the binary once with --preconfig on an empty machine and sends
every command from query-commands a bogus argument.  A command refused in
preconfig answers "permitted only after machine initialization has
completed" before its arguments are parsed; an allowed one complains about
the argument, so nothing runs.  It also keeps the QMP schema and the option
list of `-h` (to know which options take an argument).
"""

from __future__ import annotations

import asyncio
import subprocess

from qemu.qmp import ExecuteError

from ..errors import InorderError, ProfileError
from ..qemu import flags, messages
from .link import LOST, Link
from .process import Qemu

_BOGUS = {"inorder-probe": 0}


def probe(path: str) -> tuple[dict, list]:
    """(the profile's data, the QMP schema) of the binary at `path`."""
    return asyncio.run(_probe(path))


async def _probe(path: str) -> tuple[dict, list]:
    help_text = asyncio.create_task(_help(path))
    qemu = Qemu(path)
    link = Link(qemu)
    try:
        qemu.spawn(flags.PROBE, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        qemu.watch()
        await link.connect()
        version = await link.execute("query-version")
        commands = sorted(c["name"] for c in await link.execute("query-commands"))
        preconfig = []
        for name in commands:
            try:
                await link.execute(name, _BOGUS)
            except ExecuteError as e:
                if messages.PRECONFIG_REFUSED in e.error.error.desc:
                    continue
            preconfig.append(name)
        schema = await link.execute("query-qmp-schema")
    except (InorderError, *LOST) as e:
        raise ProfileError(f"cannot probe {path}: {e}") from e
    finally:
        await qemu.shutdown(link)
    q = version["qemu"]
    data = {"version": f"{q['major']}.{q['minor']}.{q['micro']}",
            "commands": commands, "preconfig": preconfig,
            "options": messages.help_arity(await help_text)}
    return data, schema


async def _help(path: str) -> str:
    proc = await asyncio.create_subprocess_exec(path, "-h", stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL,
                                                stdin=subprocess.DEVNULL)
    out, _ = await proc.communicate()
    return out.decode(errors="replace")
