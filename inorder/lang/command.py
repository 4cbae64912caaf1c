"""The unit every stage passes on: one command, with where it came from."""

from __future__ import annotations

import json

from .source import Location


class Command:
    """A QEMU option (`kind == "option"`) or a QMP command (`kind == "qmp"`).

    Options keep their argument as QEMU would see it: a string in QEMU's own
    syntax, or the decoded JSON object when it was given as JSON.  QMP commands
    carry their decoded arguments.
    """

    __slots__ = ("kind", "name", "loc", "arg", "arg_loc", "json", "key_locs", "text", "expect")

    def __init__(self, kind: str, name: str, loc: Location, arg: str | dict | None = None,
                 arg_loc: Location | None = None, json: bool = False):
        self.kind = kind
        self.name = name
        self.loc = loc
        self.arg = arg
        self.arg_loc = arg_loc
        self.json = json
        # qmp-shell style arguments: where each key was written
        self.key_locs: dict[str, Location] = {}
        # a JSON argument as the caller wrote it (argv input): QEMU gets it
        # unchanged, so its messages quote what the caller wrote
        self.text: str | None = None
        # a captured transcript: QEMU's answer to this command as it was
        # captured ({"return": ...} or {"error": ...}) and where; --expect
        # compares the live answer with it
        self.expect: tuple[dict, Location] | None = None

    def words(self) -> list[str]:
        """The option as QEMU's argv words."""
        if self.arg is None:
            return [f"-{self.name}"]
        if self.json:
            return [f"-{self.name}", self.text or json.dumps(self.arg)]
        return [f"-{self.name}", self.arg]

    @property
    def is_option(self) -> bool:
        return self.kind == "option"

    def spelling(self) -> str:
        """How the command reads in a script (for plans and messages)."""
        if self.is_option:
            if self.arg is None:
                return f"-{self.name}"
            arg = json.dumps(self.arg) if self.json else self.arg
            return f"-{self.name} {arg}"
        if self.arg:
            return f"{self.name} {json.dumps(self.arg)}"
        return self.name

    def arg_at(self, offset: int, length: int = 1) -> Location:
        """A location inside the argument (or at the name when there is none)."""
        if self.arg_loc is None or self.json:
            return self.arg_loc or self.loc
        return self.arg_loc.at(offset, length)
