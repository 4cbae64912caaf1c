"""Where inorder-qemu keeps what it learned between runs (profiles of QEMU
binaries, kept plans, lark's parser tables), and how it reads and writes
there.

Everything kept is data (JSON), keyed by what it depends on, and written
under a temporary name then renamed, so a concurrent reader sees the old file
or the new one, never half of one.  The directory is created 0700; a file is
used only if it is the user's own and no one else may write it, and one that
does not parse is ignored (and rebuilt by its writer).
"""

from __future__ import annotations

import os
import stat
import zlib

ENV_CACHE = "INORDER_CACHE"
SYSTEM_CACHE = "/var/cache/inorder-qemu"


def directory() -> str:
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


def checksum(data: bytes) -> str:
    """Sixteen hex digits of `data`: the name of a file kept for a key (the
    file holds the key in full), or a file's content in brief.  crc32 and
    adler32 are in zlib, which costs nothing to import; hashlib loads
    OpenSSL: 2 to 5 ms of a start."""
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _trusted(st: os.stat_result) -> bool:
    """The user's own, and writable by no one else."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def trusted_file(path: str) -> bool:
    """Whether a kept file may be read later (see read_bytes)."""
    try:
        return _trusted(os.lstat(path)) and _trusted(os.stat(os.path.dirname(path)))
    except OSError:
        return False


def read_bytes(path: str) -> bytes | None:
    """The content of a kept file, or None: missing, unreadable, or not to be
    trusted (another user's, or writable by others, or in such a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not _trusted(os.fstat(fd)) or not _trusted(os.stat(os.path.dirname(path))):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def read_json(path: str):
    """A kept JSON file, or None (see read_bytes; also when it does not parse)."""
    data = read_bytes(path)
    if data is None:
        return None
    import json              # with re, 5 to 13 ms: not for the warm start (warm.py)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` so that no reader ever sees a partial file.
    (A temporary name with the pid, not tempfile: its import costs about
    5 ms of a start.)"""
    _private_folder(os.path.dirname(path))
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _private_folder(folder: str) -> None:
    """Create `folder` and what is missing of it below the cache directory,
    each 0700 (os.makedirs gives its mode to the last one only); what lies
    above the cache directory (~/.cache) gets the usual mode."""
    root = directory()
    os.makedirs(os.path.dirname(os.path.abspath(root)), exist_ok=True)
    missing = []
    folder = os.path.abspath(folder)      # a relative $INORDER_CACHE: stop at the root
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass                  # made meanwhile by a concurrent run


def write_json(path: str, value) -> None:
    import json              # see read_json
    write_atomically(path, json.dumps(value).encode())
