"""Where inorder-qemu keeps what it learned between runs (profiles of QEMU
binaries, kept plans, lark's parser tables), and how it writes there.

Everything kept is data, keyed by what it depends on, and written under a
temporary name then renamed, so a concurrent reader sees the old file or the
new one, never half of one.
"""

from __future__ import annotations

import json
import os

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


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` so that no reader ever sees a partial file.
    (A temporary name with the pid, not tempfile: its import costs about
    5 ms of a start.)"""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json(path: str, value) -> None:
    write_atomically(path, json.dumps(value).encode())
