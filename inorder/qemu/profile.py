"""What one QEMU binary allows, learned from the binary once and cached.

QEMU hides which commands may run in preconfig (`allow-preconfig` is not in
query-qmp-schema, on purpose), so a probe asks the binary itself
(run/probe.py).  The profile keeps what it learned: the version, the QMP
commands and those allowed in preconfig, the options of `-h` and whether each
takes an argument, the names a script may use (machine types, CPU models,
accelerators, device and object types), the parameters of QemuOpts options
(query-command-line-options), and the QMP schema (to type key=value
arguments).  The properties of a device, CPU or machine type are asked for
the first time a script names the type, and kept beside the profile.

The cache is data (JSON), keyed by the binary's path, size and mtime.
"""

from __future__ import annotations

import json
import os
import zlib

from .. import cache
from ..errors import ProfileError, warn
from .binary import resolve
from .options import EXTRA_OPTIONS

FORMAT = 4
# the QOM type of a machine type: its name and this suffix
MACHINE_SUFFIX = "-machine"


class Profile:
    def __init__(self, binary: str, version: str, commands: set[str], preconfig: set[str],
                 options: dict[str, bool], schema_file: str, key: tuple = (),
                 names: dict | None = None, devices_file: str | None = None, fetch=None,
                 device_properties: dict | None = None):
        self.binary = binary
        self.version = version
        self.commands = commands
        self.preconfig = preconfig
        self.options = options
        self.schema_file = schema_file
        self.key = key                # what the cache is keyed by (kept plans use it too)
        names = names or {}
        # name (or alias) -> machine type; the default one
        self.machines: dict[str, str] = names.get("machines", {})
        self.default_machine: str | None = names.get("default-machine")
        self.cpus: set[str] = set(names.get("cpus", ()))
        self.accels: set[str] = set(names.get("accels", ()))
        self.devices: set[str] = set(names.get("devices", ()))
        self.objects: set[str] = set(names.get("objects", ()))
        # option -> parameter -> "string" | "boolean" | "number" | "size"
        self.parameters: dict[str, dict[str, str]] = names.get("parameters", {})
        # device type -> [{"name", "type"}], kept beside the profile as a
        # script names each type; fetch(binary, types) asks the binary
        self.devices_file = devices_file
        self.fetch = fetch
        self._device_properties = device_properties   # None: read devices_file first
        self._schema = None

    def machine_properties(self, machine: str) -> list | None:
        """The properties of a machine type (by name or alias; None when not
        known), kept with the device types' as "<type>-machine"."""
        typename = f"{self.machines.get(machine, machine)}{MACHINE_SUFFIX}"
        return self.device_properties([typename]).get(typename)

    def device_properties(self, types) -> dict[str, list | None]:
        """The properties of each device type in `types` that QEMU has (a
        type missing from the answer is not known here: not checked)."""
        if self._device_properties is None:
            kept = cache.read_json(self.devices_file) if self.devices_file else None
            # keyed like the profile: another binary at this path starts afresh
            ok = isinstance(kept, dict) and kept.get("key") == [list(k) for k in self.key] \
                and isinstance(kept.get("types"), dict)
            self._device_properties = kept["types"] if ok else {}
        known = self._device_properties
        missing = sorted({t for t in types if t not in known and (
            t in self.devices or t.endswith(MACHINE_SUFFIX)
            and t.removesuffix(MACHINE_SUFFIX) in self.machines.values())})
        if missing and self.fetch is not None:
            try:
                known.update(self.fetch(self.binary, missing))
                if self.devices_file:
                    cache.write_json(self.devices_file,
                                     {"key": [list(k) for k in self.key], "types": known})
            except (OSError, ProfileError):
                pass                  # unchecked, not wrong: QEMU still checks at launch
        return {t: known[t] for t in types if isinstance(known.get(t), list)}

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
    names = {k: data[k] for k in ("machines", "default-machine", "cpus", "accels", "devices",
                                  "objects", "parameters")}
    return Profile(path, data["version"], set(data["commands"]), set(data["preconfig"]),
                   data["options"], stem + ".schema.json",
                   key=tuple(sorted(data["key"].items())), names=names,
                   devices_file=stem + ".devices.json", fetch=_fetch)


def _fetch(binary: str, types: list[str]) -> dict:
    from ..run.probe import device_properties     # asyncio, qemu.qmp: only for a new type
    return device_properties(binary, types)
