"""Reading the files a script names: the script, its includes, -readconfig.
Every failure is a located error (at the include or -readconfig that named
the file, or at the first byte that is not UTF-8)."""

from __future__ import annotations

from ..errors import ScriptError
from .source import Location, Source


def read_source(path: str, included_from: Location | None = None) -> Source:
    """A file as a Source, or a located error: it cannot be read, its name
    has a NUL byte, it is not UTF-8 (located at the first bad byte) or has a
    NUL byte (no word of QEMU's argv can hold one; JSON may write \\u0000)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ScriptError(f"cannot read {path}: {e.strerror}", included_from) from e
    except ValueError as e:                  # a NUL byte in the name
        raise ScriptError(f"cannot read {path!r}: a file name has no NUL byte",
                          included_from) from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[:e.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        source = Source(path, data.decode("utf-8", "replace"), included_from=included_from)
        raise ScriptError(f"{path} is not UTF-8 text: byte 0x{data[e.start]:02x} here",
                          Location(source, line, column)) from e
    source = Source(path, text, included_from=included_from)
    at = text.find("\0")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise ScriptError(f"{path} has a NUL byte here: not text QEMU can be given",
                          Location(source, line, column))
    return source
