"""A QEMU-style argv → commands, left to right.

Which options take an argument is learned from the binary (its profile), as
QEMU itself decides it from its option table: `-m 2G` is one command, `-S`
another; which accept a JSON object is the caller's to say.  A word that is
not an option is a disk image, as for QEMU (-hda).
"""

from __future__ import annotations

import json

from ..errors import ScriptError
from . import jsonvalue
from .command import Command
from .source import Location, Source


def parse_argv(argv: list[str], options: dict[str, bool], json_options: frozenset[str] = frozenset(),
               *, name: str = "argv", origin=None) -> list[Command]:
    """`options`: option name → whether it takes an argument; `json_options`:
    the options whose argument may be a JSON object; `origin`: the file the
    argv was read from and where each word starts in it (Source.origin)."""
    source = Source(name, argv=list(argv))
    source.origin = origin
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
            if opt in json_options and arg.lstrip().startswith("{"):
                try:
                    cmd.arg, cmd.json, cmd.text = json.loads(arg), True, arg
                except json.JSONDecodeError as e:
                    raise ScriptError(f"malformed JSON: {e.msg}", cmd.arg_loc.at(e.pos)) from e
                except RecursionError as e:
                    raise ScriptError(f"JSON nested more than {jsonvalue.MAX_DEPTH} deep",
                                      cmd.arg_loc) from e
                except ValueError as e:                  # an integer of 5,000 digits
                    raise ScriptError(f"malformed JSON: {e}", cmd.arg_loc) from e
                if not isinstance(cmd.arg, dict):
                    raise ScriptError("expected a JSON object", cmd.arg_loc)
                wrong = jsonvalue.problem(cmd.arg)
                if wrong:
                    raise ScriptError(wrong, cmd.arg_loc)
            else:
                cmd.arg = arg
            i += 2
        else:
            source.argv_lines[i] = word
            i += 1
        commands.append(cmd)
    return commands
