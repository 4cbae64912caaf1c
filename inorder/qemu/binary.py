"""Finding the QEMU binary a run is for.

The warm start (warm.py) finds its binary here too, so errors are imported
only where one is raised: errors.py and the source rendering it imports cost
that start 1.4 ms of its 4."""

from __future__ import annotations

import os

DEFAULT = "qemu-system-x86_64"
ENV_QEMU = "INORDER_QEMU"


def on_path(name: str, skip: str | None = None) -> str | None:
    """The first executable `name` on PATH whose real path is not `skip`
    (shutil.which, without shutil's 3 ms import)."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.access(candidate, os.X_OK) and (skip is None or os.path.realpath(candidate) != skip):
            return candidate
    return None


def chosen(given: str | None) -> str:
    """--qemu, else $INORDER_QEMU, else qemu-system-x86_64."""
    return given or os.environ.get(ENV_QEMU) or DEFAULT


def real_for(name: str, wrapper: str) -> str | None:
    """The QEMU a drop-in named `name` stands for: $INORDER_QEMU, else the
    first `name` on PATH that is not the wrapper itself (no recursion
    through a symlink); None when there is none."""
    return os.environ.get(ENV_QEMU) or on_path(name, skip=os.path.realpath(wrapper))


def stood_for(name: str, wrapper: str) -> str:
    """real_for, or the usage error that there is none."""
    found = real_for(name, wrapper)
    if found is None:
        from ..errors import UsageError
        raise UsageError(f"no {name} other than this wrapper on PATH (set ${ENV_QEMU})")
    return found


def find(binary: str) -> str | None:
    """The absolute path of `binary` (a path, or a name on PATH) when it is
    an executable file; else None."""
    path = binary if os.sep in binary else on_path(binary)
    if not path or not os.path.exists(path) or os.path.isdir(path) or \
            not os.access(path, os.X_OK):
        return None
    return os.path.abspath(path)


def resolve(binary: str) -> str:
    """find, or the error that says why not."""
    found = find(binary)
    if found is not None:
        return found
    from ..errors import ProfileError
    path = binary if os.sep in binary else on_path(binary)
    if not path or not os.path.exists(path):
        raise ProfileError(f"QEMU binary '{binary}' not found (use --qemu PATH or ${ENV_QEMU})")
    raise ProfileError(f"QEMU binary '{binary}' is not an executable file")
