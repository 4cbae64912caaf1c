"""Plans of unchanged scripts, kept: a warm run skips lark, the parser and the
planner (about 60 ms of a start).

A plan is valid for the same script files (the content of the script, of each
include and of each -readconfig file, by absolute path), the same extra
arguments, the same working directory (relative paths in an argv), the same
QEMU binary (as its profile is keyed) and the same inorder-qemu code and
grammar: the key (warm.key).  The key is stored with the plan and compared in
full; the file name is only a checksum of it.  Plans are JSON (plan/data.py),
never code.  A direct plan that runs (not --check, --dry-run or --feed) is
also kept as an exec record, which the warm start execs from (warm.py).

What a plan checked on the filesystem is checked again when it runs (monitor
paths, a pidfile: plan/recheck.py).  A plan with a monitor on an inherited
fd is not kept; its exec record is, keyed also by what the fds are.
"""

from __future__ import annotations

import json

from .. import cache, warm
from ..lang.source import render
from .data import from_data, to_data
from .monitors import bound


def key(mode: str, words: list[str], profile) -> str:
    """The key of a plan made for `mode` (warm.mode) from `words` with this
    profile's binary (warm.key)."""
    return warm.key(mode, words, profile.binary)


def _path(k: str) -> str:
    return warm.path(k, ".json")


def load(k: str, files: list[str] | None = None):
    """The kept plan for key `k`, or None: none kept, or kept for another key
    or other files, or not to be trusted (cache.py), or damaged.  `files`,
    when given, gets the files the plan was made from."""
    stored = cache.read_json(_path(k))
    if not isinstance(stored, dict) or stored.get("key") != k:
        return None
    try:
        read = []
        for path, digest in stored["files"]:
            if warm.digest(path) != digest:
                return None
            read.append(path)
        plan = from_data(stored["plan"])
        if files is not None:
            files += read
        return plan
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError):
        return None                 # not a plan of this format: rebuilt and kept anew


def store(k: str, plan, files: list[str]) -> None:
    """Keep `plan` (not one with a monitor on an inherited fd: the supervisor
    holds it by number)."""
    if any(m.inherited_fd is not None for m in plan.monitors):
        return
    try:
        text = json.dumps({"key": k, "files": [[path, warm.digest(path)] for path in files],
                           "plan": to_data(plan)})
        cache.write_atomically(_path(k), text.encode())
    except (OSError, ValueError, RecursionError):
        pass                      # a plan that cannot be kept is no error


def store_record(mode: str, words: list[str], plan, files: list[str], binary: str,
                 inherited) -> None:
    """Keep the exec record of a direct plan the run execs (warm.py), also
    for inherited fds: the record's key says what they are."""
    if not plan.direct:
        return
    try:
        warm.keep(mode, words, inherited, files, binary, plan.direct_argv,
                  [m.opts["path"] for m in bound(plan.monitors)], plan.pidfile,
                  [render("warning", loc, message) for loc, message in plan.warnings])
    except (OSError, ValueError):
        pass                      # a record that cannot be kept is no error
