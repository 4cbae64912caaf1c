"""The warm start: a kept direct plan exec'd before the command line is read.

A direct plan (QEMU given its argv builds the same VM: run/exec.py) is kept
twice once planned: as a plan (plan/kept.py, JSON) and as an exec record,
which is all its next run needs: the key it was made for, the files it read
and their digests, what must be checked again on the host (monitor paths, a
pidfile: plan/recheck.py), its warnings, and the binary and argv to exec.

`inorder-qemu SCRIPT [ARGS...]`, `inorder-qemu -- ARGV` and the drop-in look
for their record first (__main__.py) and exec QEMU from it, importing only
os, stat, zlib and this package's light modules: getopt, json, re and signal,
which the command line imports, cost a start 15 to 25 ms on this project's
machines (the README's breakdown).  Anything else goes the whole way
(cli.py), which plans, or says at its line what is wrong: an inorder-qemu
option, no record, a file that changed, a check that fails, an exec that
fails.

A record holds for the same inherited fds (their numbers and kinds), and
for a command line that differs only in values that change at every start
of the same VM (plan/volatile.py: libvirt's numbered folder, a transient
domain's UUID), which it keeps as markers and fills in.

A record is data: words separated by NUL (no word of an argv, a path or a
script holds one; the key's own parts are words of it), in UTF-8 with
surrogates passed through (an argv need not be UTF-8), kept like every
cached file (cache.py).
"""

from __future__ import annotations

import os
import sys

from . import cache
from .plan import recheck, volatile
from .qemu import binary as binaries
from .timing import Timings

FORMAT = "inorder-exec 2"
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_ROOMS = ("", "lang", "qemu", "plan", "run")
_GRAMMARS = (os.path.join(_PACKAGE, "grammar"), os.path.join(os.path.dirname(_PACKAGE), "grammar"))


def mode(compat: bool, feed: bool, inspect: bool, kind: str) -> str:
    """What a plan was made for, as its key says: the references (compat or
    in-order), --feed, --check/--dry-run, and an argv or a script."""
    return ("compat" if compat else "in-order") + (" feed" if feed else "") \
        + (" inspect" if inspect else "") + " " + kind


def key(mode: str, words: list[str], binary: str) -> str:
    """Everything a kept plan depends on, but the files it read: this code
    and grammar, the mode, the command line's words, the working directory
    (relative paths), and the binary (as its profile is keyed)."""
    return "\0".join(_key_parts(mode, words, binary))


def _key_parts(mode: str, words: list[str], binary: str) -> list[str]:
    try:
        st = os.stat(binary)
        stamp = [str(st.st_size), str(st.st_mtime_ns)]
    except OSError:
        stamp = ["", ""]              # gone since it was resolved: no plan of it matches
    code = _code()
    return [str(len(code)), *code, mode, str(len(words)), *words, os.getcwd(),
            binary, os.path.realpath(binary), *stamp]


_CODE: list[str] = []


def _code() -> list[str]:
    """The package's modules and grammar, with their mtimes: read once per
    run (a warm miss asks again for the plan's key, cli.py)."""
    if _CODE:
        return _CODE
    out = _CODE
    for folder in [os.path.join(_PACKAGE, room) for room in _ROOMS] + list(_GRAMMARS):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        out += [f"{folder}/{e.name}:{e.stat().st_mtime_ns}" for e in entries
                if e.name.endswith((".py", ".lark"))]
    return out


def path(k: str, suffix: str) -> str:
    """Where the plan or record of key `k` is kept: the name is a checksum of
    the key, which the file holds in full."""
    return os.path.join(cache.directory(), "plans",
                        cache.checksum(k.encode("utf-8", "surrogatepass")) + suffix)


def digest(path: str) -> str | None:
    """A file's content in brief, None when it cannot be read.  The content,
    not the mtime: a file rewritten within the same clock tick (ext4 stamps
    coarsely) must not pass for the old one.  Length and two checksums tell
    an edited script from the old one; the cache is the user's own
    (cache.py), so there is no adversary to outwit."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return f"{len(data)}:{cache.checksum(data)}"


def keep(mode: str, words: list[str], inherited, files: list[str], binary: str,
         argv: list[str], monitor_paths: list[str], pidfile: str | None,
         warnings: list[str]) -> None:
    """Keep the exec record of a direct plan made for `words` in `mode`
    (plan/kept.py keeps the plan itself), with this start's volatile values
    as markers throughout (plan/volatile.py)."""
    values = volatile.found(words)
    k = record_key(mode, words, binary, inherited, values)
    if k is None:
        return
    rest = [str(len(files))]
    for name in files:
        rest += [name, digest(name) or ""]
    rest += [str(len(monitor_paths)), *monitor_paths, os.path.abspath(pidfile) if pidfile else "",
             str(len(warnings)), *warnings, binary, *argv]
    if any("\0" in w or volatile.MARK in w for w in rest):
        return                      # not representable: this plan runs the whole way
    words = [FORMAT, str(len(k)), *k, *(volatile.abstract(w, values) for w in rest)]
    data = "\0".join(words).encode("utf-8", "surrogatepass")
    where = path("\0".join(k), ".exec")
    if cache.read_bytes(where) != data:    # a kept plan's run keeps its record once
        cache.write_atomically(where, data)


def record_key(mode: str, words: list[str], binary: str, inherited,
               values: list[tuple[str, str]]) -> list[str] | None:
    """The key of an exec record, as its parts: the plan's key (key())
    with the volatile values as markers, and what the inherited fds are
    (run/inherited.py).  None when a word already holds a marker or NUL."""
    if any(volatile.MARK in w or "\0" in w for w in words):
        return None
    return [*_key_parts(mode, [volatile.abstract(w, values) for w in words], binary),
            *inherited.describe()]


def exec_kept(argv: list[str], inherited) -> None:
    """Exec QEMU from the record of this command line; return when there is
    none that still holds (the whole way then).  `inherited`: the fds
    __main__ looked at first, and its holds on inherited listeners, which
    are taken back before the exec (QEMU builds the VM before its monitors
    accept: nothing to hold for)."""
    timings = Timings.from_env()
    timings.mark("main")
    try:
        found = _command(argv)
        if found is None:
            return
        mode, words, binary = found
        values = volatile.found(words)
        k = record_key(mode, words, binary, inherited, values)
        if k is None:
            return
        data = cache.read_bytes(path("\0".join(k), ".exec"))
        if data is None:
            return
        kept = iter(data.decode("utf-8", "surrogatepass").split("\0"))
        if next(kept) != FORMAT or [next(kept) for _ in range(int(next(kept)))] != k:
            return
        record = (volatile.fill(word, values) for word in kept)    # this start's values
        for _ in range(int(next(record))):
            name, kept_digest = next(record), next(record)
            if (digest(name) or "") != kept_digest:
                return
        for _ in range(int(next(record))):
            if recheck.monitor_path(next(record)):
                return
        pidfile = next(record)
        if pidfile and recheck.pidfile(pidfile):
            return
        warnings = [next(record) for _ in range(int(next(record)))]
        binary = next(record)
        qemu_argv = list(record)
    except (OSError, ValueError, StopIteration):
        return                      # said, at its place, the whole way
    timings.mark("record")
    for text in warnings:
        print(text, file=sys.stderr)
    inherited.unhold()
    try:
        execv(binary, qemu_argv, timings)
    except OSError:
        return                      # the whole way says why


def _command(argv: list[str]) -> tuple[str, list[str], str] | None:
    """The key's mode, words and binary of a command line the warm start
    takes (as cli.py makes them); None for any other, or when the binary is
    not to be found (the whole way says so)."""
    name = os.path.basename(argv[0])
    args = argv[1:]
    if name.startswith("qemu-system-"):
        real = binaries.real_for(name, argv[0])
        found = (mode(True, False, False, "argv"), args, real and binaries.find(real))
    elif args[:1] == ["--"]:
        found = (mode(False, False, False, "argv"), args[1:],
                 binaries.find(binaries.chosen(None)))
    elif args and not args[0].startswith("-"):
        found = (mode(False, False, False, "script"), [os.path.abspath(args[0]), *args[1:]],
                 binaries.find(binaries.chosen(None)))
    else:
        return None
    return found if found[2] else None


def execv(binary: str, argv: list[str], timings: Timings) -> None:
    """Become QEMU (raises OSError when the binary cannot be run)."""
    timings.mark("exec")
    timings.report()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(binary, [binary, *argv])
