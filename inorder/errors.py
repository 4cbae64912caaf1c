"""Every error inorder-qemu reports, and how it speaks to the user otherwise.

One root, InorderError: something the user can act on, with a place to look
at.  cli.main is the one place that turns them into messages and exit codes;
anything else that escapes is a bug, shown as one (a traceback with --debug).
"""

from __future__ import annotations

import sys

from .lang.source import Location, Note, render


class InorderError(Exception):
    """The root: a message, where it applies, and notes that explain it."""

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
    """The QEMU binary could not be found or probed."""


class LaunchError(InorderError):
    """Something the run needs could not be made: a socket, a process."""


class FeedError(InorderError):
    """QEMU refused a step, or died while it was being fed."""


class QemuDied(FeedError):
    """QEMU exited while inorder-qemu talked to it; its stderr says why."""


class QemuRefused(FeedError):
    """QEMU answered a command of the synchronous handshake with an error."""

    def __init__(self, command: str, desc: str):
        super().__init__(desc)
        self.command = command


class QemuSilent(FeedError):
    """QEMU did not answer within the time allowed."""


class Interrupted(InorderError):
    """A signal ended the run before the release; QEMU was stopped."""

    def __init__(self, sig: int):
        # signal imports enum: 9 ms of a start that has no other use for it
        # (the warm start imports this module); a feed has it already
        import signal
        super().__init__(f"interrupted by {signal.Signals(sig).name} while feeding: QEMU stopped")
        self.exit_status = 128 + sig


def say(text: str) -> None:
    """What -v shows, on stderr."""
    print(f"inorder-qemu: {text}", file=sys.stderr, flush=True)


def warn(text: str) -> None:
    print(f"inorder-qemu: warning: {text}", file=sys.stderr, flush=True)
