"""`--to-qcmd`: a command line as an ordered script that, run by
inorder-qemu, builds the machine QEMU builds from the command line.

The script keeps the written order but for two kinds of move, each with a
comment saying why:

- a JSON -device written before a key=value one goes after the last
  key=value -device, where QEMU creates it (the devices keep QEMU's order,
  so their PCI slots and QOM names are QEMU's);
- a definition written after an item that names it moves up, above its
  first user (QEMU accepts the forward reference because it creates that
  kind first; a script runs top to bottom).

What only the host that wrote the command line has (an inherited fd,
-add-fd, /dev/fdset/N) is kept, with a comment.
"""

from __future__ import annotations

import json
import re

from . import effects
from .items import Item

# an argv word the script language reads back as the same word, unquoted
_PLAIN = re.compile(r"[^\s\"'\\{#][^\s\"'\\]*\Z")
_FD_KEYS = ("fd", "fds", "vhostfd", "vhostfds", "sock_fd")


def script(found: list[Item], origin: str, version: str, env: dict[str, str] | None = None,
           binary: str | None = None) -> str:
    """`found`: the command line's items in written order."""
    ordered, why = arrange(found)
    out = [f"# made by inorder-qemu --to-qcmd from {origin} (QEMU {version});",
           "# run it with: inorder-qemu SCRIPT.qcmd"]
    if binary:
        out.append(f"# the command line ran {binary} (give it with --qemu when it is not "
                   "the default)")
    if env:
        out.append("# its environment (a script does not set one): "
                   + " ".join(f"{k}={v}" for k, v in env.items()))
    for item in ordered:
        if id(item) in why:
            out.append(f"# was {item.label()}: {why[id(item)]}")
        host = host_only(item)
        if host:
            out.append(f"# host-only: {host}")
        out.append(line(item))
    return "\n".join(out) + "\n"


def arrange(found: list[Item]) -> tuple[list[Item], dict[int, str]]:
    """The script's order, and why each moved item moved."""
    ordered = list(found)
    why: dict[int, str] = {}
    keyval = [n for n, i in enumerate(ordered) if _device(i) and not i.command.json]
    if keyval:
        last = ordered[keyval[-1]]
        early = [i for i in ordered[:keyval[-1]] if _device(i) and i.command.json]
        for item in early:
            ordered.remove(item)
            why[id(item)] = "QEMU creates every JSON -device after every key=value one"
        at = ordered.index(last) + 1
        ordered[at:at] = early
    for _ in range(len(ordered) * 4 + 1):         # each pass moves one definition up
        move = _first_forward(ordered)
        if move is None:
            break
        user_at, definition, user = move
        ordered.remove(definition)
        ordered.insert(user_at, definition)
        why[id(definition)] = f"moved above {user.label()}, which names it " \
                              f"({effects.before(definition, user)})"
    return ordered, why


def _first_forward(ordered: list[Item]):
    at = {id(i): n for n, i in enumerate(ordered)}
    for n, item in enumerate(ordered):
        for ref in item.references:
            d = ref.definition
            # a board reference may point further on (QEMU and a script both
            # resolve it at board init); a device after one that names its
            # bus is QEMU's refusal, reported before this
            if d is None or ref.board or d.option == "device" or at[id(d)] < n:
                continue
            return n, d, item
    return None


def line(item: Item) -> str:
    cmd = item.command
    if cmd.arg is None:
        return f"-{cmd.name}"
    if cmd.json:
        text = cmd.text if cmd.text and "\n" not in cmd.text else \
            json.dumps(cmd.arg, separators=(",", ":"))
        return f"-{cmd.name} {text}"
    return f"-{cmd.name} {word(cmd.arg)}"


def word(text: str) -> str:
    """`text` as one word of the script language."""
    if _PLAIN.match(text):
        return text
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    return '"' + re.sub(r'(["\\])', r"\\\1", text) + '"'


def host_only(item: Item) -> str | None:
    cmd = item.command
    if cmd.name == "add-fd":
        return ("-add-fd hands QEMU an fd the caller opened: run this script where that fd "
                "is open (libvirt passes it), or replace the fd set with a path")
    args = item.args or {}
    for key in _FD_KEYS:
        value = args.get(key)
        if isinstance(value, (str, int)) and str(value).split(":")[0].isdigit():
            return (f"{key}={value} is an fd open only in the process that started QEMU "
                    "(libvirt passes it): run this script with that fd inherited, or give "
                    "a path instead")
    text = cmd.text or (cmd.arg if isinstance(cmd.arg, str) else json.dumps(cmd.arg))
    if "/dev/fdset/" in text:
        return ("/dev/fdset/N names a set of fds given by -add-fd: it exists only with "
                "those fds open")
    return None


def _device(item: Item) -> bool:
    return item.option == "device" and item.command.is_option
