"""A QEMU-style argv → commands, left to right.

Which options take an argument is learned from the binary (profile.options),
as QEMU itself decides it from its option table: `-m 2G` is one command, `-S`
another.  A word that is not an option is a disk image, as for QEMU (-hda).
"""

from __future__ import annotations

import json

from .command import Command
from .errors import ScriptError
from .options import OPTIONS
from .source import Location, Source


def parse_argv(argv: list[str], options: dict[str, bool], *, name: str = "argv") -> list[Command]:
    source = Source(name, argv=list(argv))
    commands = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if not word.startswith("-") or word == "-":
            # QEMU: "a non-option argument is the first hard disk image"
            opt, arg = "hda", word
            source.argv_lines[i] = f"{word}"
            loc = Location(source, i, 1, len(word))
            commands.append(Command("option", opt, loc, arg=arg,
                                    arg_loc=Location(source, i, 1, len(word))))
            i += 1
            continue
        opt = word[2:] if word.startswith("--") else word[1:]
        takes = options.get(opt)
        loc = Location(source, i, 1, len(word))
        if takes is None:
            source.argv_lines[i] = word
            raise ScriptError(f"unknown option '{word}'", loc)
        cmd = Command("option", opt, loc)
        if takes:
            if i + 1 >= len(argv):
                source.argv_lines[i] = word
                raise ScriptError(f"option '{word}' requires an argument", loc)
            arg = argv[i + 1]
            source.argv_lines[i] = f"{word} {arg}"
            cmd.arg_loc = Location(source, i, len(word) + 2, len(arg))
            spec = OPTIONS.get(opt)
            if spec is not None and spec.json and arg.lstrip().startswith("{"):
                try:
                    cmd.arg, cmd.json, cmd.text = json.loads(arg), True, arg
                except json.JSONDecodeError as e:
                    raise ScriptError(f"malformed JSON: {e.msg}", cmd.arg_loc.at(e.pos)) from None
                if not isinstance(cmd.arg, dict):
                    raise ScriptError("expected a JSON object", cmd.arg_loc)
            else:
                cmd.arg = arg
            i += 2
        else:
            source.argv_lines[i] = word
            i += 1
        commands.append(cmd)
    return commands
