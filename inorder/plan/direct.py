"""Direct plans: when QEMU, given every option at once, builds the same VM.

It does when every QMP step creates a backend before board init (the advances
aside: QEMU makes those itself), and every reference among backends points
down QEMU's own creation order (qemu/order.py): QEMU then creates each backend
after everything it names, as the script does, and realizes the cold devices
in argv order after all of them.  A direct plan needs no feed: its backends
ride on argv, and the run may exec QEMU outright.
"""

from __future__ import annotations

from ..lang.command import Command
from ..qemu.options import ARGV as ARGV_OPTION, OPTIONS
from ..qemu.phase import CONT, EXIT_PRECONFIG, Phase
from .step import ARGV, QMP, Step

# the roles whose QMP step only creates a backend before board init
_BACKEND_ROLES = ("backend", "numa")


def is_direct(steps: list[Step], refs, ranks: dict[int, int]) -> bool:
    for s in steps:
        if s.channel != QMP or s.synthetic and s.execute in (EXIT_PRECONFIG, CONT):
            continue
        cmd = s.command
        if not (cmd.is_option and s.phase == Phase.PRECONFIG
                and OPTIONS.get(cmd.name, ARGV_OPTION).role in _BACKEND_ROLES):
            return False
    for user_rank, definition in refs:
        rank = ranks.get(id(definition))
        if user_rank is not None and rank is not None and rank > user_rank:
            return False
    return True


def on_argv(steps: list[Step]) -> list[Step]:
    """A direct plan, launched: its backends ride on QEMU's argv (QEMU creates
    them where the script does: before board init, each after what it names)
    and QEMU builds the machine itself; only `cont` is left to send.  The same
    VM as the feed builds, without a QMP round trip per backend."""
    out = []
    for s in steps:
        if s.synthetic and s.execute == EXIT_PRECONFIG:
            continue
        if s.channel == QMP and not s.synthetic:
            s = s.on_argv("on argv: QEMU creates it where the script has it; nothing needs the feed")
        out.append(s)
    return out


def whole_argv(commands: list[Command], steps: list[Step]) -> list[str]:
    """The script's options as QEMU's argv, in script order; an option with
    an argv step as that step has it (devices all in one syntax)."""
    on_argv = {id(s.command): s.argv for s in steps if s.channel == ARGV and not s.synthetic}
    out: list[str] = []
    for cmd in commands:
        if cmd.is_option:
            out.extend(on_argv.get(id(cmd)) or cmd.words())
    return out
