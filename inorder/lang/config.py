"""A configuration as data: a YAML or JSON file whose top level is a list,
run in order exactly like the equivalent script.

    - -machine: q35                          an option: its argument in QEMU's syntax,
    - -device: {driver: virtio-rng-pci}      ... a mapping for its JSON form,
    - -nodefaults: null                      ... or null for a flag
    - execute: object-add                    a QMP command, as on the wire
      arguments: {qom-type: iothread, id: io0}
    - query-status: null                     ... or short: its arguments or null

PyYAML's composer keeps the line and column of every node, so each error
points into the file; JSON is read the same way (YAML reads JSON).
"""

from __future__ import annotations

import os

import yaml

from ..errors import ScriptError
from . import jsonvalue
from .command import Command
from .files import read_source
from .source import Location, Source

def parse_config(path: str, *, files: list[str] | None = None) -> list[Command]:
    source = read_source(path)
    if files is not None:
        files.append(os.path.abspath(path))
    loader = yaml.SafeLoader(source.text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise ScriptError("a configuration is a list of options and QMP commands",
                              _at(source, root))
        return [_item(source, loader, node) for node in root.value]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source, 1, 1)
        raise ScriptError(f"not YAML: {e.problem or e.context}", loc) from e
    except RecursionError as e:
        raise ScriptError(f"nested more than {jsonvalue.MAX_DEPTH} deep",
                          Location(source, 1, 1)) from e
    finally:
        loader.dispose()


def _at(source: Source, node) -> Location:
    start, end = node.start_mark, node.end_mark
    length = end.column - start.column if end.line == start.line else 1
    return Location(source, start.line + 1, start.column + 1, max(length, 1))


def _data(source: Source, loader, node):
    value = loader.construct_object(node, deep=True)
    wrong = jsonvalue.problem(value)
    if wrong:
        raise ScriptError(wrong, _at(source, node))
    return value


def _item(source: Source, loader, node) -> Command:
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise ScriptError("each item is an option (- -machine: q35) or a QMP command "
                          "(- execute: NAME, or - NAME: {arguments})", _at(source, node))
    keys = [k.value if isinstance(k, yaml.ScalarNode) else None for k, _ in node.value]
    if "execute" in keys:
        msg = {k: v for k, v in zip(keys, node.value)}
        extra = sorted(k for k in keys if k not in ("execute", "arguments", "id"))
        if extra or None in keys:
            bad = msg[extra[0]][0] if extra else node
            raise ScriptError(f"unexpected member {extra[0] if extra else '?'!r} in a QMP "
                              "command", _at(source, bad))
        name_node = msg["execute"][1]
        name = _data(source, loader, name_node)
        if not isinstance(name, str):
            raise ScriptError("'execute' names a QMP command", _at(source, name_node))
        args_node = msg.get("arguments", (None, None))[1]
        return _qmp(source, loader, name, _at(source, name_node), args_node)
    if len(node.value) != 1 or keys[0] is None:
        raise ScriptError("an item has one key: the option (with its dash) or the QMP "
                          "command", _at(source, node))
    key_node, value_node = node.value[0]
    name, loc = keys[0], _at(source, key_node)
    if name.startswith("-"):
        return _option(source, loader, name, loc, value_node)
    return _qmp(source, loader, name, loc, value_node)


def _option(source: Source, loader, name: str, loc: Location, node) -> Command:
    cmd = Command("option", name.lstrip("-"), loc)
    value = _data(source, loader, node)
    if value is None:
        return cmd
    cmd.arg_loc = _at(source, node)
    if isinstance(value, dict):
        cmd.arg, cmd.json = value, True
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        cmd.arg = value if isinstance(value, str) else str(value)
        if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"'):
            cmd.arg_loc = cmd.arg_loc.at(1, cmd.arg_loc.length - 2)    # inside the quotes
    else:
        raise ScriptError(f"the argument of -{cmd.name} is a string in QEMU's syntax, a "
                          "mapping for its JSON form, or null for a flag", cmd.arg_loc)
    return cmd


def _qmp(source: Source, loader, name: str, loc: Location, node) -> Command:
    args = {} if node is None else _data(source, loader, node)
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ScriptError(f"the arguments of '{name}' are a mapping", _at(source, node))
    return Command("qmp", name, loc, arg=args, arg_loc=_at(source, node) if node else loc,
                   json=True)
