"""The .qcmd grammar (grammar/qcmd.lark) as a lark LALR parser.

lark is imported here and nowhere else; the module itself is imported only
when a script has to be parsed: `import lark` costs 70 to 100 ms, more than a
warm start (kept plans skip it).
"""

from __future__ import annotations

import functools
import hashlib
import os

import lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

from .. import cache


class Shapes(lark.Transformer):
    """Applied inline by the LALR parser: no tree is built, each command
    comes out as (rule, tokens) for parse.py to give its meaning."""

    def start(self, children):
        return children

    def option(self, children):
        return "option", children

    def qmp_words(self, children):
        return "qmp_words", children

    def qmp_json(self, children):
        return "qmp_json", children

    def raw(self, children):
        return "raw", children

    def include(self, children):
        return "include", children


UnexpectedCharacters = lark.exceptions.UnexpectedCharacters
UnexpectedToken = lark.exceptions.UnexpectedToken


_OPTIONS = dict(parser="lalr", lexer="contextual", maybe_placeholders=False)


@functools.cache             # a memo of a pure function: the tables, built once per process
def parser() -> lark.Lark:
    text = _grammar_text()
    # Building the LALR tables takes about 40 ms, more than parsing a long
    # script: they are kept, keyed by the grammar and lark's version.  As
    # JSON, not with lark's own cache, which is a pickle (code, if someone
    # else could write the cache).
    key = hashlib.sha256((lark.__version__ + text).encode()).hexdigest()[:16]
    path = os.path.join(cache.directory(), f"grammar-{key}.json")
    kept = cache.read_json(path)
    if kept is not None:
        try:
            # _load_from_dict is how lark's standalone parsers load their tables
            return lark.Lark._load_from_dict(_decode(kept["data"]), _decode(kept["memo"]),
                                             transformer=Shapes())
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, AssertionError):
            pass                # tables of another shape: build them again
    built = lark.Lark(text, transformer=Shapes(), **_OPTIONS)
    data, memo = built.memo_serialize([TerminalDef, Rule])
    for option in ("transformer", "tree_class"):      # objects; given again at load
        data["options"].pop(option, None)
    try:
        cache.write_json(path, {"data": _encode(data), "memo": _encode(memo)})
    except (OSError, TypeError, ValueError):
        pass                    # tables that cannot be kept are no error
    return built


# lark's tables are plain data but for dicts keyed by numbers and tuples:
# tagged, so JSON keeps them.
_INT_KEYS, _TUPLE = "\0int-keys", "\0tuple"


def _encode(value):
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {_INT_KEYS: [[k, _encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if _INT_KEYS in value:
            return {k: _decode(v) for k, v in value[_INT_KEYS]}
        if _TUPLE in value:
            return tuple(_decode(v) for v in value[_TUPLE])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _grammar_text() -> str:
    # Installed, the grammar is package data (inorder/grammar/); in a source
    # checkout it is beside the package.  (Paths, not importlib.resources,
    # which alone costs 15 ms to import.)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in (os.path.join(package, "grammar", "qcmd.lark"),
                 os.path.join(os.path.dirname(package), "grammar", "qcmd.lark")):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError("grammar/qcmd.lark is missing from the installation")
