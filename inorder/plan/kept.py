"""Plans of unchanged scripts, kept: a warm run skips lark, the parser and the
planner (about 60 ms of a start).

A plan is valid for the same script files (the content of the script and of
each include), the same extra arguments, the same QEMU binary (its profile
key) and the same inorder-qemu code.  What a plan checked on the filesystem is
checked again when it runs (monitor paths, in run/monitors.py); plans that
use inherited file descriptors are not kept, since those differ between runs.
"""

from __future__ import annotations

import os
import pickle
import zlib

from .. import cache

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ROOMS = ("", "lang", "qemu", "plan", "run")


def _code() -> list[str]:
    """The package's modules and their mtimes: a kept plan is for this code."""
    out = []
    for room in _ROOMS:
        folder = os.path.join(_PACKAGE, room)
        out += [f"{room}/{e.name}:{e.stat().st_mtime_ns}"
                for e in sorted(os.scandir(folder), key=lambda e: e.name)
                if e.name.endswith(".py")]
    return out


def key(mode: str, words: list[str], profile) -> str:
    """Everything a kept plan depends on, as text (stored with the plan and
    compared in full: the file name is only a checksum of it)."""
    return repr((_code(), mode, words, profile.binary, profile.key))


def _path(k: str) -> str:
    # crc32 and adler32 are in zlib, which costs nothing to import (hashlib
    # loads OpenSSL: about 2 ms of every start)
    data = k.encode()
    return os.path.join(cache.directory(), "plans", f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.pickle")


def load(k: str):
    try:
        with open(_path(k), "rb") as f:
            stored, deps, plan = pickle.load(f)
    except Exception:             # whatever a damaged file makes pickle raise: rebuild
        return None
    if stored != k:
        return None
    for path, digest in deps:
        if _digest(path) != digest:
            return None
    return plan


def _digest(path: str) -> str | None:
    # the content, not the mtime: a file rewritten within the same clock tick
    # (ext4 stamps coarsely) must not be mistaken for the old one.  Length and
    # two checksums tell an edited script from the old one (no adversary
    # here: hashlib would cost 3 ms of every start)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return f"{len(data)}:{zlib.crc32(data):08x}:{zlib.adler32(data):08x}"


def store(k: str, plan, files: list[str]) -> None:
    if any(m.inherited_fd is not None for m in plan.monitors):
        return
    deps = [(path, _digest(path)) for path in files]
    try:
        cache.write_atomically(_path(k), pickle.dumps((k, deps, plan),
                                                      protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass                      # a cache that cannot be written is no error
