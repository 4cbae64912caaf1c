"""Finding the QEMU binary a run is for."""

from __future__ import annotations

import os

from ..errors import ProfileError, UsageError

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


def stood_for(name: str, wrapper: str) -> str:
    """The QEMU a drop-in named `name` stands for: $INORDER_QEMU, else the
    first `name` on PATH that is not the wrapper itself (no recursion
    through a symlink)."""
    if os.environ.get(ENV_QEMU):
        return os.environ[ENV_QEMU]
    found = on_path(name, skip=os.path.realpath(wrapper))
    if found is not None:
        return found
    raise UsageError(f"no {name} other than this wrapper on PATH (set ${ENV_QEMU})")


def resolve(binary: str) -> str:
    """The absolute path of an executable QEMU."""
    path = binary if os.sep in binary else on_path(binary)
    if not path or not os.path.exists(path):
        raise ProfileError(f"QEMU binary '{binary}' not found (use --qemu PATH or ${ENV_QEMU})")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise ProfileError(f"QEMU binary '{binary}' is not an executable file")
    return os.path.abspath(path)
