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
from ..qemu.options import PARAMETERS
from ..qemu.profile import MACHINE_SUFFIX
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
        # what exists only once a machine is built (here: none)
        await link.execute("x-exit-preconfig")
        names = await _names(link)
    except (InorderError, *LOST) as e:
        # `-h` may still run: stopped now, not collected after the loop
        # closed (where asyncio prints a traceback of its own)
        help_text.cancel()
        await asyncio.gather(help_text, return_exceptions=True)
        raise ProfileError(f"cannot probe {path}: {e}") from e
    finally:
        await qemu.shutdown(link)
    q = version["qemu"]
    data = {"version": f"{q['major']}.{q['minor']}.{q['micro']}",
            "commands": commands, "preconfig": preconfig,
            "options": messages.help_arity(await help_text), **names}
    return data, schema


async def _names(link: Link) -> dict:
    """The names a script may use: machine types (with aliases and the
    default), CPU models, accelerators, device and user-creatable object
    types, the parameters of options.  Properties per type are asked for
    later, when a script names the type (device_properties): all of them
    take about 2 s."""
    machines = {}
    default = None
    for m in await link.execute("query-machines"):
        machines[m["name"]] = m["name"]
        if m.get("alias"):
            machines[m["alias"]] = m["name"]
        if m.get("is-default"):
            default = m["name"]
    cpus = sorted(c["name"] for c in await link.execute("query-cpu-definitions"))
    # (QEMU lists the base type "accel" as not abstract)
    accels = sorted(t["name"].removesuffix("-accel")
                    for t in await link.execute("qom-list-types", {"implements": "accel"})
                    if t["name"] != "accel")
    devices = sorted(t["name"] for t in await link.execute(
        "qom-list-types", {"implements": "device", "abstract": False}))
    objects = sorted(t["name"] for t in await link.execute(
        "qom-list-types", {"implements": "user-creatable", "abstract": False}))
    # the parameters of QEMU's QemuOpts groups, by the option that fills
    # each (qemu/options.py PARAMETERS says which are checked, and how)
    groups = {g: o for o, (g, _, _) in PARAMETERS.items()}
    parameters = {}
    for entry in await link.execute("query-command-line-options"):
        option = groups.get(entry["option"])
        if option is not None and entry["parameters"]:
            parameters[option] = {p["name"]: p["type"] for p in entry["parameters"]}
    return {"machines": machines, "default-machine": default, "cpus": cpus,
            "accels": accels, "devices": devices, "objects": objects,
            "parameters": parameters}


def device_properties(path: str, types: list[str]) -> dict[str, list | None]:
    """device-list-properties of each type (qom-list-properties of a machine
    type's; None where QEMU has none): one QEMU, on an empty machine, all
    questions in flight at once."""
    return asyncio.run(_device_properties(path, types))


async def _device_properties(path: str, types: list[str]) -> dict[str, list | None]:
    qemu = Qemu(path)
    link = Link(qemu)
    out: dict[str, list | None] = {}
    try:
        qemu.spawn(flags.PROBE_TYPES, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        qemu.watch()
        await link.connect()
        # a machine type is no device: QOM lists its properties
        asked = [asyncio.ensure_future(link.execute(
            "qom-list-properties" if t.endswith(MACHINE_SUFFIX) else "device-list-properties",
            {"typename": t})) for t in types]
        for name, answer in zip(types, await asyncio.gather(*asked, return_exceptions=True)):
            if isinstance(answer, list):
                out[name] = [{"name": p["name"], "type": p["type"]} for p in answer]
            elif isinstance(answer, ExecuteError):
                out[name] = None
            # lost: not known, asked again next time
    except (InorderError, *LOST) as e:
        raise ProfileError(f"cannot probe {path}: {e}") from e
    finally:
        await qemu.shutdown(link)
    return out


async def _help(path: str) -> str:
    proc = await asyncio.create_subprocess_exec(path, "-h", stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL,
                                                stdin=subprocess.DEVNULL)
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        proc.kill()                 # the probe failed: nothing waits for the answer
        await proc.wait()
        raise
    return out.decode(errors="replace")
