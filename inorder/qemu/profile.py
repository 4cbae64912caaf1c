"""What one QEMU binary allows, learned from the binary once and cached.

QEMU hides which commands may run in preconfig (`allow-preconfig` is not in
query-qmp-schema, on purpose), so a probe asks the binary itself
(run/probe.py).  The profile keeps what it learned: the version, the QMP
commands and those allowed in preconfig, the options of `-h` and whether each
takes an argument, and the QMP schema (to type key=value arguments).

The cache is data (JSON), keyed by the binary's path, size and mtime.
"""

from __future__ import annotations

import json
import os
import zlib

from .. import cache
from ..errors import warn
from .binary import resolve
from .options import EXTRA_OPTIONS

FORMAT = 2


class Profile:
    def __init__(self, binary: str, version: str, commands: set[str], preconfig: set[str],
                 options: dict[str, bool], schema_file: str, key: tuple = ()):
        self.binary = binary
        self.version = version
        self.commands = commands
        self.preconfig = preconfig
        self.options = options
        self.schema_file = schema_file
        self.key = key                # what the cache is keyed by (kept plans use it too)
        self._schema = None

    @property
    def schema(self):
        """The QMP schema, read only when a key=value argument needs typing
        (200 KB of JSON; a kept plan never needs it)."""
        if self._schema is None:
            from .schema import Schema     # 1 ms: only when planning
            with open(self.schema_file, encoding="utf-8") as f:
                self._schema = Schema(json.load(f))
        return self._schema


def load(binary: str) -> Profile:
    """The profile of `binary`, from the cache or probed now."""
    path = resolve(binary)
    st = os.stat(path)
    key = {"format": FORMAT, "path": os.path.realpath(path), "size": st.st_size,
           "mtime_ns": st.st_mtime_ns}
    # crc32 is in zlib, which costs nothing to import (hashlib loads OpenSSL:
    # about 2 ms of every start)
    stem = os.path.join(cache.directory(), "%s-%08x" % (os.path.basename(key["path"]),
                                                        zlib.crc32(key["path"].encode())))
    data = cache.read_json(stem + ".json")
    if isinstance(data, dict) and data.get("key") == key and cache.trusted_file(stem + ".schema.json"):
        try:
            return _profile(path, data, stem)
        except (KeyError, TypeError, ValueError):
            pass                       # a damaged profile: probe again
    from ..run.probe import probe      # asyncio and qemu.qmp, 85 ms: only for a new binary
    data, schema = probe(path)
    data["options"].update(EXTRA_OPTIONS)
    data["key"] = key
    profile = _profile(path, data, stem)
    try:
        cache.write_json(stem + ".schema.json", schema)
        cache.write_json(stem + ".json", data)
    except OSError as e:
        # the run goes on (the profile is in memory), probing at every start
        warn(f"cannot keep the profile of {path} in {os.path.dirname(stem)}: "
             f"{e.strerror}; it is probed again at every start")
        from .schema import Schema
        profile._schema = Schema(schema)
    return profile


def _profile(path: str, data: dict, stem: str) -> Profile:
    return Profile(path, data["version"], set(data["commands"]), set(data["preconfig"]),
                   data["options"], stem + ".schema.json",
                   key=tuple(sorted(data["key"].items())))
