"""Where a command came from, and how to point at it.

Every command carries a Location; diagnostics render it compiler-style:

    vm.qcmd:12:27: error: netdev 'n1' is used before it is defined
       12 | -device virtio-net-pci,netdev=n1
          |                           ^~~~~~~~~~~

An argv has no lines: each option (with its argument) is shown as one line,
labelled by its argv index.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Source:
    """A text that commands are read from: a file, or an argv."""

    name: str
    text: str = ""
    argv: list[str] | None = None
    included_from: Location | None = None
    # argv: the display line of each option, keyed by its argv index
    argv_lines: dict[int, str] = field(default_factory=dict, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)

    def line(self, number: int) -> str:
        if self.argv is not None:
            return self.argv_lines.get(number, self.argv[number] if number < len(self.argv) else "")
        if self._lines is None:
            self._lines = self.text.splitlines()
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1]
        return ""


@dataclass(frozen=True, eq=False)
class Location:
    """A span in a source.  Files: line and column (1-based).  Argv: `line` is
    the argv index of the option and `column` a 1-based offset into the
    display line "OPTION ARGUMENT"."""

    source: Source
    line: int
    column: int
    length: int = 1

    def at(self, offset: int, length: int = 1) -> Location:
        """A location `offset` characters to the right of this one."""
        return Location(self.source, self.line, self.column + offset, max(length, 1))

    @property
    def is_argv(self) -> bool:
        return self.source.argv is not None

    def __str__(self) -> str:
        if self.is_argv:
            # a column past the option word points into its argument
            inside = self.column > len(self.source.argv[self.line]) + 1
            return f"argv[{self.line + inside}]"
        return f"{self.source.name}:{self.line}:{self.column}"

    def text(self) -> str:
        """The source line this location points into."""
        return self.source.line(self.line)

    def snippet(self) -> str:
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


@dataclass
class Note:
    location: Location | None
    message: str


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
