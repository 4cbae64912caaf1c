"""Values of a command line that differ from one start of the same VM to the
next, and that nothing the planner checks reads.

An exec record (warm.py) is kept for the command line with each such value
replaced by a marker, and a later start whose command line differs only in
those values execs it with its own values filled in.  Without this, libvirt
never starts a domain warm: each start names a new numbered folder and,
for a transient domain, a new UUID.

The planner passes these values to QEMU as they are: it checks no path under
the folder but a monitor's, which the warm start checks again
(plan/recheck.py), and leaves -uuid to QEMU.  Every occurrence of a value
becomes the same marker, so words equal before stay equal after.
tests/unit/test_volatile.py plans libvirt's argv with two sets of values and
compares.

This runs on the warm start: os only, no re.
"""

from __future__ import annotations

import os

MARK = "\x01"           # no argv word or path of a command line holds one (keep() checks)

_HEX = frozenset("0123456789abcdefABCDEF")


def _folder(words: list[str], env) -> str | None:
    """libvirt's folder for this start of the domain (its HOME,
    .../domain-N-NAME): the master key, agent channels and sockets are
    paths under it, or under a folder of the same name."""
    name = os.path.basename(env.get("HOME", "").rstrip("/"))
    number, dash, rest = name[len("domain-"):].partition("-")
    if name.startswith("domain-") and number.isdigit() and dash and rest:
        return name
    return None


def _uuid(words: list[str], env) -> str | None:
    """-uuid's value, in the one form QEMU accepts (qemu_uuid_parse):
    libvirt gives a transient domain a new one at each start."""
    for option, value in zip(words, words[1:]):
        if option in ("-uuid", "--uuid"):
            if len(value) == 36 and all(
                    (c == "-") if i in (8, 13, 18, 23) else (c in _HEX)
                    for i, c in enumerate(value)):
                return value
            return None
    return None


# name -> how to find the value in a start's words and environment; the
# longer values first, since one may hold another (a domain named by its
# UUID)
FINDERS = (("folder", _folder), ("uuid", _uuid))


def found(words: list[str], env=os.environ) -> list[tuple[str, str]]:
    """The volatile values of this start, as (name, value)."""
    out = []
    for name, finder in FINDERS:
        value = finder(words, env)
        if value:
            out.append((name, value))
    return out


def abstract(text: str, values: list[tuple[str, str]]) -> str:
    """`text` with each value replaced by its marker."""
    for name, value in values:
        if value in text:
            text = text.replace(value, f"{MARK}{name}{MARK}")
    return text


def fill(text: str, values: list[tuple[str, str]]) -> str:
    """The inverse of abstract(), for this start's values."""
    if MARK not in text:
        return text
    for name, value in values:
        text = text.replace(f"{MARK}{name}{MARK}", value)
    return text
