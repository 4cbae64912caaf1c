"""References: ids defined before use, never twice, in QEMU's id syntax.

Ids live in namespaces (device, netdev, chardev, block, object: qemu/options.py
says which key of which option defines or uses one).  A use is checked where
QEMU resolves it: at the using command's own position (the id must be defined
above), or at board init (the machine only stores the name, so the definition
may follow; in QEMU-compatible mode a cold device's references too).
"""

from __future__ import annotations

import re

from ..errors import ScriptError
from ..lang import optarg
from ..lang.command import Command
from ..lang.source import Location
from ..qemu import order
from ..qemu.options import BOARD, DEVICE

_ID = re.compile(r"[A-Za-z][A-Za-z0-9._-]*\Z")
_BUS_NUMBER = re.compile(r"\.\d+\Z")


class References:
    def __init__(self, hoist):
        # called with (definition step, user command) when an argv item needs
        # an id when QEMU creates it: the definition must ride on argv too
        self.hoist = hoist
        # namespace -> id -> (location of the definition, step)
        self.defined: dict[str, dict[str, tuple[Location, object]]] = {}
        # (namespace, id) -> the command that first defines it, anywhere
        self.all_definitions: dict[tuple[str, str], Command] = {}
        # uses resolved at board init: (namespace, id, where, the user if the
        # definition must be on argv)
        self.board_uses: list[tuple[str, str, Location, Command | None]] = []
        # QEMU's creation rank of each defining step, and every (rank of the
        # user, defining step) reference: the direct-plan check (direct.py)
        self.ranks: dict[int, int] = {}
        self.refs: list[tuple[int | None, object]] = []

    def index(self, commands: list[Command], defines_of) -> None:
        """Where each id is first defined, for 'defined later' notes.
        `defines_of(cmd)` gives ((namespace, key), value) or None."""
        for cmd in commands:
            found = defines_of(cmd)
            if found is not None:
                (ns, _), value = found
                if isinstance(value, str):
                    self.all_definitions.setdefault((ns, value), cmd)

    def define(self, cmd: Command, defines, pairs, args, step) -> None:
        if not defines or not isinstance(args, dict):
            return
        ns, key = defines
        value = args.get(key)
        if not isinstance(value, str):
            return
        rank = creation_rank(cmd, args)
        if rank is not None:
            self.ranks[id(step)] = rank
        loc = key_location(cmd, pairs, key, value)
        if not _ID.match(value):
            raise ScriptError(f"invalid {ns} id '{value}': an id starts with a letter and has "
                              "only letters, digits, '-', '.' and '_'", loc)
        table = self.defined.setdefault(ns, {})
        if value in table:
            raise ScriptError(f"{ns} '{value}' is already defined", loc).note(
                table[value][0], "first defined here")
        table[value] = (loc, step)

    def undefine(self, ns: str, value) -> None:
        if isinstance(value, str):
            self.defined.get(ns, {}).pop(value, None)

    def check(self, cmd: Command, uses: dict, pairs, args, *, creation: bool = False,
              board: bool = False, warnings: list) -> bool:
        """Every id an argument refers to must already be defined.  With
        `board` (compat mode, QEMU resolves these at board init) one defined
        further on is accepted with a warning; returns True if one was.
        `creation`: QEMU resolves them when it creates this argv item."""
        forward = False
        if not isinstance(args, dict):
            return False
        for key, use in uses.items():
            value = args.get(key)
            if not isinstance(value, str) or not value:
                continue
            loc = key_location(cmd, pairs, key)
            if use.namespace == DEVICE:            # bus=
                self._check_bus(value, loc)
                continue
            if use.when == BOARD:
                self.board_uses.append((use.namespace, value, loc, cmd if use.on_argv else None))
                continue
            found = self.defined.get(use.namespace, {}).get(value)
            if found is None:
                later = self.all_definitions.get((use.namespace, value))
                message = f"{use.namespace} '{value}' is used before it is defined"
                if board and later is not None:
                    warnings.append((loc, f"{message} (QEMU resolves it at board init); "
                                          f"{fix(later, cmd)}"))
                    self.board_uses.append((use.namespace, value, loc, None))
                    forward = True
                    continue
                err = ScriptError(message, loc)
                if later is not None:
                    err.note(later.loc, f"'{value}' is defined here; {fix(later, cmd)}")
                raise err
            self.refs.append((creation_rank(cmd, args), found[1]))
            if creation:
                self.hoist(found[1], cmd)
        return forward

    def resolve_board_uses(self) -> None:
        """At the end of the script: what the board resolves must exist."""
        for ns, name, loc, argv_user in self.board_uses:
            found = self.defined.get(ns, {}).get(name)
            if found is None:
                raise ScriptError(f"{ns} '{name}' is never defined", loc)
            if argv_user is not None:
                self.hoist(found[1], argv_user)

    def _check_bus(self, bus: str, loc: Location) -> None:
        # bus=rp1 names the bus of device rp1; bus=pcie.0 a machine bus
        owner = bus.rsplit(".", 1)[0] if _BUS_NUMBER.search(bus) else bus
        if owner in self.defined.get(DEVICE, {}):
            return
        later = self.all_definitions.get((DEVICE, owner))
        if later is not None:
            raise ScriptError(f"bus '{bus}' is used before device '{owner}' is defined", loc).note(
                later.loc, f"'{owner}' is defined here")


def key_location(cmd: Command, pairs, key: str, value: str | None = None) -> Location:
    """Where the value of `key` was written (the command, if nowhere); with
    `value`, the pair that has it (a key given twice)."""
    if pairs is not None:
        pair = next((p for p in pairs if p.key == key and p.value == value), None) \
            if value is not None else None
        pair = pair or optarg.get(pairs, key)
        if pair is not None:
            return cmd.arg_at(pair.value_offset, max(len(pair.value), 1))
    if key in cmd.key_locs:
        return cmd.key_locs[key]
    return cmd.arg_loc or cmd.loc


def creation_rank(cmd: Command, args) -> int | None:
    """Where QEMU creates this option's result among the backends (None: not
    a backend, or not an option)."""
    if not cmd.is_option:
        return None
    return order.rank(cmd.name, args.get("qom-type") if isinstance(args, dict) else None)


def fix(definer: Command, user: Command) -> str:
    """How to put a definition first: 'move that line above line 4', or for
    an argv 'move -netdev user,id=n0 (argv[12]) before argv[7]'."""
    if user.loc.is_argv:
        return f"move {definer.spelling()[:60]} ({definer.loc}) before {user.loc}"
    if definer.loc.source is user.loc.source:
        return f"move that line above line {user.loc.line}"
    return f"move it above {user.loc}"
