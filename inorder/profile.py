"""What one QEMU binary allows, learned from the binary and cached.

QEMU hides which commands may run in preconfig (`allow-preconfig` is not in
query-qmp-schema, on purpose), so the probe asks: it starts the binary once with
--preconfig and sends every command from query-commands a bogus argument.  A
command refused in preconfig answers "permitted only after machine
initialization has completed" before its arguments are parsed; an allowed one
complains about the argument, so nothing runs.  The probe also keeps the QMP
schema (to type key=value arguments) and the option list of `-h` (to know which
options take an argument).

The cache is keyed by the binary's path, size and mtime; the version is stored.
"""

from __future__ import annotations

import json
import os

from .errors import ProfileError
from .options import EXTRA_OPTIONS

FORMAT = 2
_REFUSED = "permitted only after machine initialization"
_BOGUS = {"inorder-probe": 0}


class Profile:
    def __init__(self, binary: str, version: str, commands: set[str], preconfig: set[str],
                 options: dict[str, bool], schema_file: str):
        self.binary = binary
        self.version = version
        self.commands = commands
        self.preconfig = preconfig
        self.options = options
        self.schema_file = schema_file
        self.key: tuple = ()          # what the cache is keyed by (plancache.py)
        self._schema = None

    @property
    def schema(self):
        """The QMP schema, read only when a key=value argument needs typing."""
        if self._schema is None:
            from .qapi import Schema
            with open(self.schema_file, encoding="utf-8") as f:
                self._schema = Schema(json.load(f))
        return self._schema


ENV_CACHE = "INORDER_CACHE"
SYSTEM_CACHE = "/var/cache/inorder-qemu"


def cache_dir() -> str:
    """$INORDER_CACHE; for root /var/cache/inorder-qemu; else the XDG cache.
    Root's cache is the system one because libvirt runs each domain's
    emulator with HOME and XDG_CACHE_HOME in a directory of that domain,
    removed with it: a profile cached there would be probed at every start."""
    if os.environ.get(ENV_CACHE):
        return os.environ[ENV_CACHE]
    if os.geteuid() == 0:
        return SYSTEM_CACHE
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "inorder-qemu")


def on_path(name: str, skip: str | None = None) -> str | None:
    """The first executable `name` on PATH whose real path is not `skip`
    (shutil.which, without shutil's 3 ms import)."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.access(candidate, os.X_OK) and (skip is None or os.path.realpath(candidate) != skip):
            return candidate
    return None


def resolve(binary: str) -> str:
    path = binary if os.sep in binary else on_path(binary)
    if not path or not os.access(path, os.X_OK):
        raise ProfileError(f"QEMU binary '{binary}' not found (use --qemu PATH or $INORDER_QEMU)")
    return os.path.abspath(path)


def load(binary: str) -> Profile:
    path = resolve(binary)
    st = os.stat(path)
    key = {"format": FORMAT, "path": os.path.realpath(path), "size": st.st_size,
           "mtime_ns": st.st_mtime_ns}
    import zlib                    # not hashlib: see plancache._path
    stem = os.path.join(cache_dir(), "%s-%08x" % (os.path.basename(key["path"]),
                                                  zlib.crc32(key["path"].encode())))
    try:
        with open(stem + ".json", encoding="utf-8") as f:
            data = json.load(f)
        if data.get("key") == key and os.path.exists(stem + ".schema.json"):
            return _profile(path, data, stem)
    except (OSError, ValueError):
        pass
    import asyncio
    data, schema = asyncio.run(probe(path))
    data["key"] = key
    os.makedirs(cache_dir(), exist_ok=True)
    _write(stem + ".schema.json", schema)
    _write(stem + ".json", data)
    return _profile(path, data, stem)


def _profile(path: str, data: dict, stem: str) -> Profile:
    profile = Profile(path, data["version"], set(data["commands"]), set(data["preconfig"]),
                      data["options"], stem + ".schema.json")
    profile.key = tuple(sorted(data["key"].items()))
    return profile


def _write(path: str, value) -> None:
    import tempfile
    # write then rename: a concurrent reader sees the old file or the new one
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f)
    os.replace(tmp, path)


async def probe(path: str) -> tuple[dict, list]:
    import asyncio
    import subprocess

    from qemu.qmp import ExecuteError
    from .process import Qemu
    help_text = asyncio.create_task(_help(path))
    qemu = Qemu(path, ["-M", "none", "-accel", "tcg", "-display", "none", "-nodefaults",
                       "-no-user-config", "-S", "--preconfig"])
    try:
        qemu.spawn(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        await qemu.attach()
        version = await qemu.execute("query-version")
        commands = sorted(c["name"] for c in await qemu.execute("query-commands"))
        preconfig = []
        for name in commands:
            try:
                await qemu.execute(name, _BOGUS)
            except ExecuteError as e:
                if _REFUSED in e.error.error.desc:
                    continue
            preconfig.append(name)
        schema = await qemu.execute("query-qmp-schema")
    except Exception as e:
        raise ProfileError(f"cannot probe {path}: {e}") from None
    finally:
        await qemu.shutdown()
    q = version["qemu"]
    data = {"version": f"{q['major']}.{q['minor']}.{q['micro']}",
            "commands": commands, "preconfig": preconfig,
            "options": arity(await help_text)}
    return data, schema


async def _help(path: str) -> str:
    import asyncio
    import subprocess
    proc = await asyncio.create_subprocess_exec(path, "-h", stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL,
                                                stdin=subprocess.DEVNULL)
    out, _ = await proc.communicate()
    return out.decode(errors="replace")


def arity(help_text: str) -> dict[str, bool]:
    """Which options take an argument, read from `-h`.  QEMU prints each option
    with its argument, padding the description to column 16:
        -m [size=]megs[,slots=n,maxmem=size]
        -dtb    file    use 'file' as device tree image
        -S              freeze CPU at startup
        -async-teardown enable asynchronous teardown
    """
    import re
    options: dict[str, bool] = {}
    for line in help_text.splitlines():
        m = re.match(r"-[A-Za-z][\w./-]*", line)
        if not m:
            continue
        head = m.group(0)
        rest = line[len(head):]
        if rest.startswith(" ") and not rest.startswith("  "):
            takes = len(head) + 1 != 16       # one space, then the description
        else:
            takes = bool(line[len(head):16].strip())
        for name in head.split("/"):          # -fda/-fdb file
            options.setdefault(name.lstrip("-"), takes)
    options.update(EXTRA_OPTIONS)
    return options
