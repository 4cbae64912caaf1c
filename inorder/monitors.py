"""User monitors: created suspended, released when the feed is done.

A QMP or HMP monitor on a unix socket the user names is created by QEMU on a
private path instead: a socket in a fresh 0700 directory beside the user's path
(the same filesystem, so it can be renamed).  While the feed runs no client can
find it.  At release the socket is renamed into place, atomically: the first
client that connects gets its greeting from a fully configured VM.  The cost is
one rename(2) per monitor.

Other monitor forms (stdio, TCP, an inherited fd, a client socket) are passed
to QEMU unchanged and are live during the feed; inorder-qemu warns about them.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field

from . import optstr
from .errors import ScriptError
from .source import Location

_TRUE = {"on", "yes", "true", "y"}


@dataclass(eq=False)
class UserMonitor:
    path: str                  # where the user asked for the socket
    step: object               # the plan step whose argv creates the socket
    pairs: list[optstr.Pair]
    prefix: str                # "unix:" for -qmp/-monitor, "" for -chardev
    location: Location
    private_dir: str | None = None
    released_inode: int | None = None

    @property
    def private_path(self) -> str:
        return os.path.join(self.private_dir, "m")

    def argv_value(self, path: str) -> str:
        """The option argument with the socket at `path` and wait=off (QEMU
        must not block its start-up waiting for a client)."""
        words = []
        for p in self.pairs:
            if p.key == "wait":
                continue
            value = path if p.key == "path" else p.value
            value = value.replace(",", ",,")
            words.append(value if p.implied else f"{p.key}={value}")
        words.append("wait=off")
        return self.prefix + ",".join(words)

    # -- lifecycle (feed.py) ---------------------------------------------

    def prepare(self) -> None:
        self.private_dir = tempfile.mkdtemp(prefix=".iq", dir=os.path.dirname(os.path.abspath(self.path)))
        self.step.argv = [self.step.argv[0], self.argv_value(self.private_path)]

    def release(self) -> None:
        os.rename(self.private_path, self.path)
        self.released_inode = os.lstat(self.path).st_ino
        os.rmdir(self.private_dir)
        self.private_dir = None

    def cleanup(self) -> None:
        if self.private_dir is not None:
            shutil.rmtree(self.private_dir, ignore_errors=True)
            self.private_dir = None
        if self.released_inode is not None:
            # QEMU unlinks the path it bound (the private one): remove the
            # socket we moved into place, unless someone replaced it since.
            try:
                if os.lstat(self.path).st_ino == self.released_inode:
                    os.unlink(self.path)
            except OSError:
                pass
            self.released_inode = None


@dataclass
class Monitors:
    user: list[UserMonitor] = field(default_factory=list)
    warnings: list[tuple[Location, str]] = field(default_factory=list)
    _socket_chardevs: dict[str, tuple[object, list[optstr.Pair]]] = field(default_factory=dict)

    def chardev(self, step, args: dict | None) -> None:
        """Remember server sockets on a path: a later -mon may make one a monitor."""
        if isinstance(args, dict) and args.get("backend") == "socket" and args.get("path") \
                and _is_on(args.get("server")) and args.get("id"):
            self._socket_chardevs[args["id"]] = (step, step.pairs)

    def monitor(self, step, args: dict | None, chardevs: dict) -> None:
        cmd = step.command
        if cmd.name == "mon":
            name = args.get("chardev") if isinstance(args, dict) else None
            if name in self._socket_chardevs:
                chardev_step, pairs = self._socket_chardevs.pop(name)
                path = optstr.get(pairs, "path").value
                self._add(path, chardev_step, pairs, "", chardev_step.command.loc)
            else:
                self.warnings.append((cmd.loc, "this monitor is not a server socket on a path: "
                                               "it is live while the script is fed"))
            return
        text = cmd.arg or ""
        if text.startswith("unix:"):
            pairs = optstr.parse(text[5:], "path", lambda o, n: cmd.arg_at(5 + o, n))
            opts = optstr.nest(pairs, dotted=False)
            if _is_on(opts.get("server")):
                self._add(opts["path"], step, pairs, "unix:", cmd.arg_loc)
                return
        if text != "none":
            self.warnings.append((cmd.loc, f"'-{cmd.name} {text}' is not a unix server socket: "
                                           "it is live while the script is fed"))

    def _add(self, path: str, step, pairs, prefix: str, loc: Location) -> None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise ScriptError(f"monitor path {path}: {e.strerror}", loc) from None
        else:
            if not stat.S_ISSOCK(st.st_mode):
                raise ScriptError(f"monitor path {path} exists and is not a socket: "
                                  "refusing to replace it", loc)
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise ScriptError(f"monitor path {path}: no such directory", loc)
        for other in self.user:
            if os.path.abspath(other.path) == os.path.abspath(path):
                raise ScriptError(f"two monitors on {path}", loc).note(other.location, "the other one")
        self.user.append(UserMonitor(path, step, pairs, prefix, loc))


def _is_on(value) -> bool:
    if isinstance(value, optstr.Many):
        value = value[-1]
    return isinstance(value, str) and value.lower() in _TRUE
