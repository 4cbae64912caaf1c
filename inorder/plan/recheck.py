"""What a plan checked on the host that may have changed before it runs:
checked when planning, and again at the run of a kept plan.

Plain predicates (the reason as text, or None), raised as located errors by
their callers: the warm start (warm.py) runs them with nothing else of the
package imported, so this module imports only os and stat (and fcntl for a
pidfile).
"""

from __future__ import annotations

import os
import stat

UNIX_PATH_MAX = 107                       # sun_path, less its terminating NUL


def monitor_path(path: str) -> str | None:
    """Why a monitor socket must not be bound at `path`, or None."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        return f"monitor path {path}: {e.strerror}"
    except ValueError:
        return f"monitor path {path!r}: a path has no NUL byte"
    if st is not None and not stat.S_ISSOCK(st.st_mode):
        # QEMU unlinks whatever is at the path to bind its socket
        return f"monitor path {path} exists and is not a socket: refusing to replace it"
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return f"monitor path {path}: no such directory"
    if len(os.fsencode(path)) > UNIX_PATH_MAX:
        return (f"monitor path {path} is longer than a unix socket path may be "
                f"({UNIX_PATH_MAX} bytes)")
    return None


def pidfile(path: str) -> str | None:
    """Why QEMU would refuse the pidfile `path` (another process holds it
    locked, as a running VM does), or None."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"cannot open pid file {path}: {e.strerror}"
    import fcntl                        # only with a pidfile
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return f"cannot lock pid file {path}: another process holds it (a VM already running?)"
    finally:
        os.close(fd)                    # also drops the probe lock
    return None
