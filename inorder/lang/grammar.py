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


@functools.cache             # a memo of a pure function: the tables, built once per process
def parser() -> lark.Lark:
    text = _grammar_text()
    # Building the LALR tables costs more than parsing a long script: lark
    # keeps them, keyed by the grammar and lark's version.
    key = hashlib.sha256((lark.__version__ + text).encode()).hexdigest()[:16]
    where: str | bool = os.path.join(cache.directory(), f"grammar-{key}.lark.pickle")
    try:
        os.makedirs(cache.directory(), exist_ok=True)
    except OSError:
        where = False
    return lark.Lark(text, parser="lalr", lexer="contextual", maybe_placeholders=False,
                     cache=where, transformer=Shapes())


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
