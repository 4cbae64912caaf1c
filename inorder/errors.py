"""All of inorder-qemu's errors.  cli.main maps them to messages and exit codes;
a Python traceback is shown only with --debug."""

from __future__ import annotations

from .source import Location, Note, render


class InorderError(Exception):
    """The root: something the user can act on, with a place to look at."""

    exit_status = 1

    def __init__(self, message: str, location: Location | None = None,
                 notes: list[Note] | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.notes = list(notes or ())

    def note(self, location: Location | None, message: str) -> InorderError:
        self.notes.append(Note(location, message))
        return self

    def render(self) -> str:
        return render("error", self.location, self.message, self.notes)


class UsageError(InorderError):
    """Bad inorder-qemu options (exit status 2, like QEMU and most tools)."""

    exit_status = 2


class ScriptError(InorderError):
    """The script does not parse or does not plan; nothing was started."""


class ProfileError(InorderError):
    """The QEMU binary could not be probed."""


class FeedError(InorderError):
    """QEMU refused a step, or died while it was being fed."""
