"""Where a command came from, and how to point at it.

Every command carries a Location; diagnostics render it compiler-style:

    vm.qcmd:12:27: error: netdev 'n1' is used before it is defined
       12 | -device virtio-net-pci,netdev=n1
          |                           ^~~~~~~~~~~

An argv has no lines: each option (with its argument) is shown as one line,
labelled by its argv index.
"""

from __future__ import annotations

# Plain classes, not dataclasses: @dataclass compiles its methods at import
# time, about 1 ms a class, and start-up time is a feature here.


class Source:
    """A text that commands are read from: a file, or an argv."""

    __slots__ = ("name", "text", "argv", "included_from", "argv_lines", "origin", "_lines")

    def __init__(self, name: str, text: str = "", argv: list[str] | None = None,
                 included_from: Location | None = None):
        self.name = name
        self.text = text
        self.argv = argv
        self.included_from = included_from
        # argv: the display line of each option, keyed by its argv index
        self.argv_lines: dict[int, str] = {}
        # an argv read from a file (lang/argsfile.py): the file, and where
        # each argv word starts in it, so locations point into the file
        self.origin: tuple[Source, list[tuple[int, int]]] | None = None
        self._lines: list[str] | None = None

    def line(self, number: int) -> str:
        if self.argv is not None:
            return self.argv_lines.get(number, self.argv[number] if number < len(self.argv) else "")
        if self._lines is None:
            # lines as the grammar counts them: \n ends a line, nothing else
            # does (str.splitlines would also break at \f, \v, \x85, U+2028)
            self._lines = [line.removesuffix("\r") for line in self.text.split("\n")]
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1]
        return ""


class Location:
    """A span in a source.  Files: line and column (1-based).  Argv: `line` is
    the argv index of the option and `column` a 1-based offset into the
    display line "OPTION ARGUMENT"."""

    __slots__ = ("source", "line", "column", "length")

    def __init__(self, source: Source, line: int, column: int, length: int = 1):
        self.source = source
        self.line = line
        self.column = column
        self.length = length

    def at(self, offset: int, length: int = 1) -> Location:
        """A location `offset` characters to the right of this one."""
        return Location(self.source, self.line, self.column + offset, max(length, 1))

    @property
    def is_argv(self) -> bool:
        return self.source.argv is not None

    def __str__(self) -> str:
        if self.is_argv:
            found = self.in_file()
            if found is not None:
                return str(found)
            # a column past the option word points into its argument
            inside = self.column > len(self.source.argv[self.line]) + 1
            return f"argv[{self.line + inside}]"
        return f"{self.source.name}:{self.line}:{self.column}"

    def in_file(self) -> Location | None:
        """For an argv read from a file: the same place in the file."""
        if self.source.origin is None:
            return None
        file, positions = self.source.origin
        index, column = self.line, self.column
        width = len(self.source.argv[index]) if index < len(self.source.argv) else 0
        if column > width + 1 and index + 1 < len(positions):
            index, column = index + 1, column - width - 1
        if index >= len(positions):
            return None
        line, start = positions[index]
        return Location(file, line, start + column - 1, self.length)

    def text(self) -> str:
        """The source line this location points into."""
        return self.source.line(self.line)

    def snippet(self) -> str:
        found = self.in_file() if self.is_argv else None
        if found is not None:
            return found.snippet()
        line = self.text().expandtabs(1)
        label = f"{self.line}"
        gutter = " " * len(label)
        if len(line) > 200:
            start = max(0, self.column - 60)
            line = line[start:start + 160]
            col = self.column - start
        else:
            col = self.column
        caret = " " * (col - 1) + "^" + "~" * (min(self.length, max(1, len(line) - col + 1)) - 1)
        return f" {label} | {line}\n {gutter} | {caret}"


class Note:
    __slots__ = ("location", "message")

    def __init__(self, location: Location | None, message: str):
        self.location = location
        self.message = message


def render(severity: str, location: Location | None, message: str,
           notes: list[Note] = ()) -> str:
    """One diagnostic with its notes and the include chain, ready for stderr."""
    out = []
    if location is None:
        out.append(f"inorder-qemu: {severity}: {message}")
    else:
        out.append(f"{location}: {severity}: {message}")
        out.append(location.snippet())
    for note in notes:
        if note.location is None:
            out.append(f"note: {note.message}")
        else:
            out.append(f"{note.location}: note: {note.message}")
            out.append(note.location.snippet())
    where = location.source.included_from if location else None
    while where is not None:
        out.append(f"{where}: note: included from here")
        where = where.source.included_from
    return "\n".join(out)

