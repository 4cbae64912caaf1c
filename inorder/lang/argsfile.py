"""A command line in a file, as libvirt writes one: its `.args` format.

libvirt's test suite (`*.args`) and its domain logs write a QEMU command line
as shell words: `VAR=value` environment words first, then the binary, then
one option per line, each line but the last ending in ` \\`; JSON arguments
are single-quoted.  `virsh domxml-to-native qemu-argv` prints the same words
on one line.  Both read here as the shell would read them (quotes, `\\`, a
`\\` at the end of a line joins it to the next), keeping where each word
starts, so a diagnostic points into the file, not at an argv index.
"""

from __future__ import annotations

import re

from ..errors import ScriptError
from .files import read_source
from .source import Location, Source

_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


class ArgsFile:
    """The words of an .args file: environment, binary, QEMU's argv; and the
    file position (line, column) of each argv word."""

    __slots__ = ("env", "binary", "argv", "positions", "source")

    def __init__(self, env: dict[str, str], binary: str | None, argv: list[str],
                 positions: list[tuple[int, int]], source: Source):
        self.env = env
        self.binary = binary
        self.argv = argv
        self.positions = positions
        self.source = source


def read(path: str) -> ArgsFile:
    source = read_source(path)
    words = _words(source.text, source)
    env: dict[str, str] = {}
    while words and _ENV.match(words[0][0]):
        name, _, value = words.pop(0)[0].partition("=")
        env[name] = value
    binary = None
    if words and not words[0][0].startswith("-"):
        binary = words.pop(0)[0]
    return ArgsFile(env, binary, [w for w, _ in words], [p for _, p in words], source)


def _words(text: str, source: Source) -> list[tuple[str, tuple[int, int]]]:
    """Shell words with the (line, column) of their first character."""
    out: list[tuple[str, tuple[int, int]]] = []
    word: list[str] | None = None
    start = (1, 1)
    line, col = 1, 1
    i, n = 0, len(text)

    def begin():
        nonlocal word, start
        if word is None:
            word, start = [], (line, col)

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":               # a continuation: nothing
                i, line, col = i + 2, line + 1, 1
                continue
            begin()
            word.append(text[i + 1])
            i, col = i + 2, col + 2
            continue
        if c in " \t\n":
            if word is not None:
                out.append(("".join(word), start))
                word = None
            i += 1
            line, col = (line + 1, 1) if c == "\n" else (line, col + 1)
            continue
        if c == "#" and word is None:             # a comment, to the end of the line
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "'\"":
            begin()
            if not word:
                start = (line, col + 1)           # the word's text begins inside the quote
            close = i + 1
            while close < n and text[close] != c:
                if c == '"' and text[close] == "\\" and close + 1 < n:
                    close += 1
                close += 1
            if close >= n:
                raise ScriptError(f"unterminated {c} quote", Location(source, line, col))
            body = text[i + 1:close]
            if c == '"':
                body = re.sub(r'\\([\\"$`])', r"\1", body)
            word.append(body)
            newlines = text.count("\n", i, close + 1)
            if newlines:
                line += newlines
                col = close - text.rfind("\n", i, close + 1)
            else:
                col += close + 1 - i
            i = close + 1
            continue
        begin()
        word.append(c)
        i, col = i + 1, col + 1
    if word is not None:
        out.append(("".join(word), start))
    return out
