"""The .qcmd grammar (grammar/qcmd.lark): its LALR tables, built by lark and
kept as data, and the parser that runs them (lang/lalr.py).

lark is imported only to build the tables, once per grammar and lark
version: its import alone costs 70 to 130 ms, more than a cold start may
spend, and building the tables about 40 ms more.  The tables are kept as
JSON (never lark's own cache, which is a pickle: code, if someone else could
write the cache), keyed by the grammar's text, lark's version and the
tables' format.
"""

from __future__ import annotations

import functools
import os
import re
import sys

from .. import cache
from . import lalr

UnexpectedCharacters = lalr.UnexpectedCharacters
UnexpectedToken = lalr.UnexpectedToken

OPTIONS = dict(parser="lalr", lexer="contextual", maybe_placeholders=False)


@functools.cache             # a memo of a pure function: the tables, read once per process
def parser() -> lalr.Parser:
    text = _grammar_text()
    key = f"{lalr.FORMAT}\0{_lark_version()}\0{text}"
    path = os.path.join(cache.directory(), f"grammar-{cache.checksum(key.encode())}.json")
    kept = cache.read_json(path)
    if isinstance(kept, dict) and kept.get("key") == key:
        try:
            return lalr.Parser(kept["tables"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, re.error):
            pass                # tables of another shape: built again
    tables = build(text)
    try:
        cache.write_json(path, {"key": key, "tables": tables})
    except (OSError, TypeError, ValueError):
        pass                    # tables that cannot be kept are no error
    return lalr.Parser(tables)


def build(text: str | None = None) -> dict:
    """The grammar's tables, from lark."""
    import lark                 # see the docstring
    return lalr.tables_of(lark.Lark(text or _grammar_text(), **OPTIONS))


def _lark_version() -> str:
    """lark's version as its package says it, read without importing lark
    (the first lark/__init__.py on sys.path is the one an import would load)."""
    for folder in sys.path:
        try:
            with open(os.path.join(folder or ".", "lark", "__init__.py"), encoding="utf-8") as f:
                found = re.search(r"""^__version__\s*=\s*["']([^"']+)""", f.read(), re.M)
        except OSError:
            continue
        return found.group(1) if found else "unknown"
    return "none"


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
