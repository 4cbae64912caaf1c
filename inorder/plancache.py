"""Plans of unchanged scripts, kept: a warm run skips lark, the parser and the
planner (about 60 ms of a start).

A plan is valid for the same script files (the content of the script and of
each include), the same extra arguments, the same QEMU binary (its profile
key) and the same inorder-qemu code.  What a plan checked on the filesystem is
checked again when it runs (monitor paths, in monitors.py); plans that use
inherited file descriptors are not kept, since those differ between runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle

from .profile import cache_dir

_CODE = os.path.dirname(os.path.abspath(__file__))


def key(mode: str, words: list[str], profile) -> str:
    h = hashlib.sha256()
    for entry in sorted(os.scandir(_CODE), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            h.update(f"{entry.name}:{entry.stat().st_mtime_ns}\n".encode())
    h.update(repr((mode, words, profile.binary, profile.key)).encode())
    return h.hexdigest()[:32]


def _path(k: str) -> str:
    return os.path.join(cache_dir(), "plans", k + ".pickle")


def load(k: str):
    try:
        with open(_path(k), "rb") as f:
            deps, plan = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None
    for path, digest in deps:
        if _digest(path) != digest:
            return None
    return plan


def _digest(path: str) -> str | None:
    # the content, not the mtime: a file rewritten within the same clock tick
    # (ext4 stamps coarsely) must not be mistaken for the old one
    try:
        with open(path, "rb") as f:
            return hashlib.sha1(f.read()).hexdigest()
    except OSError:
        return None


def store(k: str, plan, files: list[str]) -> None:
    if any(m.inherited_fd is not None for m in plan.monitors):
        return
    deps = [(path, _digest(path)) for path in files]
    path = _path(k)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "wb") as f:
            pickle.dump((deps, plan), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass                      # a cache that cannot be written is no error
