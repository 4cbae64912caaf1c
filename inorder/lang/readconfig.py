"""-readconfig FILE: QEMU's INI configuration, injected at its position.

    # a comment
    [device "nic0"]
      driver = "virtio-net-pci"
      netdev = "n0"

Each section becomes the option of its group with its keys (and `id=` from the
section name), where the -readconfig stood; errors point into the file, with
an "included from" note.  The format is QEMU's (util/qemu-config.c): no
escapes inside values, no includes.
"""

from __future__ import annotations

import os
import re

from ..errors import ScriptError
from .command import Command
from .files import read_source
from .source import Location

# (one \s* between two items at most: adjacent ones backtrack quadratically)
_SECTION = re.compile(r'\[\s*([^\s\]"]+)\s*(?:"([^"]*)"\s*)?\]\Z')
_KEY = re.compile(r'([^\s=]+)\s*=\s*"([^"]*)"\s*$')


def expand(commands: list[Command], files: list[str], groups: dict[str, str]) -> list[Command]:
    """Replace every -readconfig command by the sections of its file; `files`
    collects the paths read (a kept plan depends on them); `groups` names the
    option of each QemuOpts group whose name is not the option's."""
    if not any(c.is_option and c.name == "readconfig" for c in commands):
        return commands
    out = []
    for cmd in commands:
        if cmd.is_option and cmd.name == "readconfig" and isinstance(cmd.arg, str):
            path = _path(cmd)
            files.append(os.path.abspath(path))
            out.extend(read(path, cmd.arg_loc or cmd.loc, groups))
        else:
            out.append(cmd)
    return out


def _path(cmd: Command) -> str:
    # relative to the script that names it; from an argv, to the working directory
    if cmd.loc.is_argv or os.path.isabs(cmd.arg):
        return cmd.arg
    return os.path.join(os.path.dirname(cmd.loc.source.name), cmd.arg)


def read(path: str, included_from: Location, groups: dict[str, str]) -> list[Command]:
    source = read_source(path, included_from)
    text = source.text
    commands: list[Command] = []
    section: tuple[Command, list[str]] | None = None
    for number, line in enumerate(text.split("\n"), 1):     # as Source.line counts
        line = line.removesuffix("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(line) - len(line.lstrip()) + 1
        loc = Location(source, number, column, len(stripped))
        m = _SECTION.match(stripped)
        if m:
            group, name = m.groups()
            cmd = Command("option", groups.get(group, group), loc, arg_loc=None)
            words = [f"id={_escape(name)}"] if name is not None else []
            section = (cmd, words)
            commands.append(cmd)
            cmd.arg = ""
            continue
        m = _KEY.match(stripped)
        if not m:
            raise ScriptError('expected [group], [group "id"] or key = "value"', loc)
        if section is None:
            raise ScriptError("a key outside any [group]", loc)
        cmd, words = section
        words.append(f"{m.group(1)}={_escape(m.group(2))}")
        cmd.arg = ",".join(words)
    return commands


def _escape(value: str) -> str:
    return value.replace(",", ",,")
