"""Plans of unchanged scripts, kept: a warm run skips lark, the parser and the
planner (about 60 ms of a start).

A plan is valid for the same script files (the content of the script, of each
include and of each -readconfig file, by absolute path), the same extra
arguments, the same working directory (relative paths in an argv), the same
QEMU binary (its profile key) and the same inorder-qemu code and grammar.
The key is stored with the plan and compared in full; the file name is only
a checksum of it.  Plans are JSON (plan/data.py), never code.

What a plan checked on the filesystem is checked again when it runs (monitor
paths, in run/monitors.py); plans that use inherited file descriptors are not
kept, since those differ between runs.
"""

from __future__ import annotations

import json
import os
import zlib

from .. import cache
from .data import from_data, to_data

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ROOMS = ("", "lang", "qemu", "plan", "run")
_GRAMMARS = (os.path.join(_PACKAGE, "grammar"), os.path.join(os.path.dirname(_PACKAGE), "grammar"))


def _code() -> list[str]:
    """The package's modules and grammar, with their mtimes: a kept plan is
    for this code."""
    out = []
    for folder in [os.path.join(_PACKAGE, room) for room in _ROOMS] + list(_GRAMMARS):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        out += [f"{folder}/{e.name}:{e.stat().st_mtime_ns}" for e in entries
                if e.name.endswith((".py", ".lark"))]
    return out


def key(mode: str, words: list[str], profile) -> str:
    """Everything a kept plan depends on, but the files it read, as text."""
    return json.dumps([_code(), mode, words, os.getcwd(), profile.binary,
                       [list(kv) for kv in profile.key]])


def _path(k: str) -> str:
    # crc32 and adler32 are in zlib, which costs nothing to import (hashlib
    # loads OpenSSL: about 2 ms of every start)
    data = k.encode()
    return os.path.join(cache.directory(), "plans",
                        f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.json")


def load(k: str):
    """The kept plan for key `k`, or None: none kept, or kept for another key
    or other files, or not to be trusted (cache.py), or damaged."""
    stored = cache.read_json(_path(k))
    if not isinstance(stored, dict) or stored.get("key") != k:
        return None
    try:
        for path, digest in stored["files"]:
            if _digest(path) != digest:
                return None
        return from_data(stored["plan"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError):
        return None                 # not a plan of this format: rebuilt and kept anew


def _digest(path: str) -> str | None:
    # the content, not the mtime: a file rewritten within the same clock tick
    # (ext4 stamps coarsely) must not be mistaken for the old one.  Length and
    # two checksums tell an edited script from the old one; the cache is the
    # user's own (cache.py), so there is no adversary to outwit (hashlib
    # would cost 3 ms of every start)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return f"{len(data)}:{zlib.crc32(data):08x}:{zlib.adler32(data):08x}"


def store(k: str, plan, files: list[str]) -> None:
    if any(m.inherited_fd is not None for m in plan.monitors):
        return
    try:
        text = json.dumps({"key": k, "files": [[path, _digest(path)] for path in files],
                           "plan": to_data(plan)})
        cache.write_atomically(_path(k), text.encode())
    except (OSError, ValueError, RecursionError):
        pass                      # a plan that cannot be kept is no error
