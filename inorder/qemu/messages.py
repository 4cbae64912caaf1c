"""The messages QEMU prints that inorder-qemu reads back, as patterns.

QEMU's English is not an interface; keeping every pattern here shows at a
glance what a new QEMU version may break.
"""

from __future__ import annotations

import re

# A command refused in preconfig (qmp_dispatch, before its arguments are
# parsed): how the probe learns what preconfig allows.
PRECONFIG_REFUSED = "permitted only after machine initialization"

# "Parameter 'size' expects ...", "Property 'virtio-net-pci.netdve' not found":
# the key QEMU complains about.  (Patterns as text: re compiles them on first
# use, not at every start.)
NAMED_KEY = r"(?:[Pp]arameter|[Pp]roperty) '([^']+)'"

# `-h`: each option with its argument, the description padded to column 16:
#     -m [size=]megs[,slots=n,maxmem=size]
#     -dtb    file    use 'file' as device tree image
#     -S              freeze CPU at startup
HELP_OPTION = r"-[A-Za-z][\w./-]*"
HELP_COLUMN = 16


def named_key(message: str) -> str | None:
    m = re.search(NAMED_KEY, message)
    return m.group(1) if m else None


# Refusals that do not quote the option they are about, and the options
# they are about (the last of them written is the one QEMU used).
UNQUOTED = {
    "unsupported machine type": ("-machine", "-M"),
    "invalid accelerator": ("-accel",),
    "unable to find CPU model": ("-cpu",),
    "invalid datetime format": ("-rtc",),
}


def unquoted_option(line: str) -> tuple[str, ...]:
    """The options a refusal that names none is about ("qemu-system-aarch64:
    unsupported machine type")."""
    message = line.split(": ", 1)[-1]
    for start, options in UNQUOTED.items():
        if message.startswith(start):
            return options
    return ()


# An HMP command an option became (drive_add) says OK, or else its error as
# text: HMP errors are not QMP errors.
HMP_OK = "OK"


# How many of QEMU's last lines may follow the one that names the option
# it refused (hints such as "Is another process using the image [...]?").
LAST_WORDS = 3


def refused_option(line: str, words: list[str]) -> str | None:
    """QEMU's last line when it exits refusing an argv option names it as
    written: "qemu-system-x86_64: -object a,b: message".  The message, if
    `line` is about the option `words`."""
    spelled = " ".join(words) + ": "
    at = line.find(spelled)
    return line[at + len(spelled):] if at >= 0 else None


def help_arity(help_text: str) -> dict[str, bool]:
    """Which options take an argument, read from `-h`."""
    options: dict[str, bool] = {}
    for line in help_text.splitlines():
        m = re.match(HELP_OPTION, line)
        if not m:
            continue
        head = m.group(0)
        rest = line[len(head):]
        if rest.startswith(" ") and not rest.startswith("  "):
            takes = len(head) + 1 != HELP_COLUMN       # one space, then the description
        else:
            takes = bool(line[len(head):HELP_COLUMN].strip())
        for name in head.split("/"):                   # -fda/-fdb file
            options.setdefault(name.lstrip("-"), takes)
    return options
