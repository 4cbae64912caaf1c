"""Text → commands: the .qcmd language (grammar/qcmd.lark) and `include`.

The grammar splits lines into option, QMP and include shapes; this module gives
them their meaning: unquoting, JSON arguments, qmp-shell style keys.
"""

from __future__ import annotations

import json
import os

from ..errors import ScriptError
from . import jsonvalue
from .command import Command
from .files import read_source
from .source import Location, Source

# an include in an include ...: a limit well below Python's recursion limit
MAX_INCLUDE_DEPTH = 64


def parse_file(path: str, *, included_from: Location | None = None,
               _stack: tuple[str, ...] = (), files: list[str] | None = None) -> list[Command]:
    """Read a command file and the files it includes, in order; `files`
    collects the paths read."""
    source = read_source(path, included_from)          # a NUL byte in the name: an error
    real = os.path.realpath(path)
    if real in _stack:
        chain = " -> ".join(os.path.basename(p) for p in _stack + (real,))
        raise ScriptError(f"include cycle: {chain}", included_from)
    if len(_stack) >= MAX_INCLUDE_DEPTH:
        raise ScriptError(f"includes nested more than {MAX_INCLUDE_DEPTH} deep", included_from)
    if files is not None:
        files.append(os.path.abspath(path))     # a kept plan checks it from anywhere
    commands = []
    for item in parse_text(source):
        if isinstance(item, Command):
            commands.append(item)
            continue
        if isinstance(item, Reply):
            _expect(commands, item)
            continue
        target, loc = item            # an include
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path), target)
        commands.extend(parse_file(target, included_from=loc, _stack=_stack + (real,),
                                   files=files))
    return commands


def parse_text(source: Source) -> list[Command | tuple[str, Location]]:
    """Parse one source; includes are returned as (path, location) pairs."""
    from . import grammar       # its tables: only when there is text to parse
    text = source.text
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = grammar.parser().parse(text)
    except grammar.UnexpectedCharacters as e:
        loc = Location(source, e.line, e.column)
        raise ScriptError(f"unexpected character {text[e.pos_in_stream]!r}", loc) from e
    except grammar.UnexpectedToken as e:
        tok = e.token
        loc = Location(source, tok.line or 1, tok.column or 1, len(tok) or 1)
        raise ScriptError(_unexpected(tok), loc) from e
    return [_command(source, kind, toks) for kind, toks in tree]


def _unexpected(tok) -> str:
    if tok.type == "WORD":
        return (f"unexpected {str(tok)!r}: an option takes one argument "
                "(quote it if it contains spaces), one command per line")
    if tok.type == "JSON":
        return "unexpected JSON here"
    if tok.type == "$END":
        return "unexpected end of file"
    return f"unexpected {str(tok)!r}"


def _loc(source: Source, tok) -> Location:
    return Location(source, tok.line, tok.column, len(tok.split("\n")[0]))


def _command(source: Source, kind: str, toks: list) -> Command | tuple[str, Location]:
    if kind == "include":
        return unquote(toks[1]), _loc(source, toks[1])
    if kind == "raw":
        return _raw_qmp(source, toks[0])
    name = toks[0]
    loc = _loc(source, name)
    if kind == "option":
        cmd = Command("option", name.lstrip("-"), loc)
        if len(toks) > 1:
            arg = toks[1]
            cmd.arg_loc = _loc(source, arg)
            if arg.type == "JSON":
                cmd.arg, cmd.json = decode_json(source, arg), True
            else:
                cmd.arg = unquote(arg)
        return cmd
    cmd = Command("qmp", str(name), loc, arg={})
    if kind == "qmp_json":
        cmd.arg_loc = _loc(source, toks[1])
        cmd.arg = decode_json(source, toks[1])
        cmd.json = True
        return cmd
    for word in toks[1:]:
        key, eq, value = unquote(word).partition("=")
        wloc = _loc(source, word)
        if not eq or not key:
            raise ScriptError("expected KEY=VALUE (qmp-shell style) or one JSON object", wloc)
        cmd.key_locs[key] = wloc
        try:
            parsed = _json_or_string(value)
        except RecursionError as e:
            raise ScriptError(f"JSON nested more than {jsonvalue.MAX_DEPTH} deep", wloc) from e
        wrong = jsonvalue.problem(parsed)
        if wrong:
            raise ScriptError(wrong, wloc)
        _put(cmd.arg, key.split("."), parsed, wloc)
    return cmd


# What a JSON text may start with (json.loads also takes NaN and Infinity):
# any other value is a string, without the cost of a failed parse (an
# exception each: a third of the parse of a long script).
_JSON_START = frozenset('[{"-0123456789tfnNI \t\r\n')


def _json_or_string(value: str):
    if not value or value[0] not in _JSON_START:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _put(target: dict, path: list[str], value, loc: Location) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ScriptError(f"'{part}' is both a value and an object", loc)
    if isinstance(target.get(path[-1]), dict):
        raise ScriptError(f"'{path[-1]}' is both an object and a value", loc)
    target[path[-1]] = value


class Reply:
    """QEMU's side of a captured QMP session: the greeting, an answer
    ({"return": ...}, {"error": ...}) or an event.  Not a command: an answer
    becomes what the command above it expects (Command.expect)."""

    __slots__ = ("msg", "loc")

    def __init__(self, msg: dict, loc: Location):
        self.msg = msg
        self.loc = loc

    @property
    def is_answer(self) -> bool:
        return "return" in self.msg or "error" in self.msg


# what QEMU sends, by the member that says which it is
_QEMU_SIDE = ("QMP", "return", "error", "event")


def _expect(commands: list[Command], reply: Reply) -> None:
    """An answer belongs to the last command above it that has none yet (the
    id, when both have one, must agree); greetings and events are skipped."""
    if not reply.is_answer:
        return
    for cmd in reversed(commands):
        if cmd.kind != "qmp":
            continue
        if cmd.expect is None:
            cmd.expect = (reply.msg, reply.loc)
        return


def _raw_qmp(source: Source, tok) -> Command | Reply:
    msg = decode_json(source, tok)
    loc = _loc(source, tok)
    if isinstance(msg, dict) and "execute" not in msg and \
            any(key in msg for key in _QEMU_SIDE):
        return Reply(msg, loc)
    if not isinstance(msg, dict) or not isinstance(msg.get("execute"), str):
        raise ScriptError('a JSON line must be a QMP command: {"execute": NAME, "arguments": '
                          '{...}}, or QEMU\'s side of a transcript ({"return": ...}, '
                          '{"error": ...}, {"event": ...}, the greeting)', loc)
    extra = set(msg) - {"execute", "arguments", "id"}
    if extra:
        raise ScriptError(f"unexpected member {sorted(extra)[0]!r} in a QMP command", loc)
    args = msg.get("arguments", {})
    if not isinstance(args, dict):
        raise ScriptError("'arguments' must be a JSON object", loc)
    return Command("qmp", msg["execute"], loc, arg=args, arg_loc=loc, json=True)


def decode_json(source: Source, tok) -> dict:
    """Decode a JSON token; a trailing comment may follow the object."""
    raw = str(tok)
    if "\\\n" not in raw and "\\\r\n" not in raw:
        text, where = raw, range(len(raw))
    else:
        text, where = _joined(raw)
    try:
        value, end = json.JSONDecoder().raw_decode(text)
        rest = text[end:].strip()
        if rest and not rest.startswith("#"):
            raise json.JSONDecodeError("unexpected text after the JSON object", text, end)
    except RecursionError as e:
        raise ScriptError(f"JSON nested more than {jsonvalue.MAX_DEPTH} deep",
                          _loc(source, tok)) from e
    except ValueError as e:
        if not isinstance(e, json.JSONDecodeError):       # an integer of 5,000 digits
            raise ScriptError(f"malformed JSON: {e}", _loc(source, tok)) from e
        pos = where[min(e.pos, len(where) - 1)] if len(where) else 0
        before = raw[:pos]
        line = tok.line + before.count("\n")
        column = (tok.column + pos) if "\n" not in before else pos - before.rfind("\n")
        raise ScriptError(f"malformed JSON: {e.msg}", Location(source, line, column)) from e
    if not isinstance(value, dict):
        raise ScriptError("expected a JSON object", _loc(source, tok))
    wrong = jsonvalue.problem(value)
    if wrong:
        raise ScriptError(wrong, _loc(source, tok))
    return value


def _joined(raw: str) -> tuple[str, list[int]]:
    """The text with continuations removed, and where each of its characters
    is in the raw token (so a decoding error points at the right column)."""
    text, where = [], []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and raw[i + 1:i + 2] == "\n":
            i += 2
            continue
        if raw[i] == "\\" and raw[i + 1:i + 3] == "\r\n":
            i += 3
            continue
        text.append(raw[i])
        where.append(i)
        i += 1
    return "".join(text), where


def unquote(word: str) -> str:
    """Undo shell-like quoting: "..." (with backslash escapes), '...', \\x."""
    word = str(word)
    if not any(c in word for c in "\"'\\"):
        return word
    word = word.replace("\\\r\n", "").replace("\\\n", "")
    out = []
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c == "\\" and i + 1 < n:
            out.append(word[i + 1])
            i += 2
        elif c == "'":
            j = word.index("'", i + 1)
            out.append(word[i + 1:j])
            i = j + 1
        elif c == '"':
            i += 1
            while word[i] != '"':
                if word[i] == "\\" and word[i + 1] in '"\\$`':
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)
