"""QEMU's refusals, put where the script wrote what QEMU refused."""

from __future__ import annotations

from ..errors import FeedError
from ..plan.step import Plan, Step
from ..qemu import messages


def error(step: Step, message: str) -> FeedError:
    """A refusal of `step`, at the key QEMU names or else at the command."""
    err = FeedError(message, _location(step, message), list(step.notes))
    if step.synthetic:
        err.note(None, f"'{step.execute}' was sent implicitly "
                       f"({step.why.removeprefix('implicit: ')})")
    return err


def refused_option(plan: Plan, stderr: str, launch=None) -> FeedError | None:
    """QEMU exited creating what its argv asked for (at launch, or at
    x-exit-preconfig for a cold device): its last line names the option it
    refused, and the error goes where the script wrote that option.
    `launch` (run/launch.py) knows the words QEMU got for a held monitor,
    which QEMU quotes instead of the script's."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    # the line that names the option, and what QEMU added after it ("Is
    # another process using the image?"): among its last few lines
    for at in range(len(lines) - 1, max(len(lines) - messages.LAST_WORDS, 0) - 1, -1):
        for step in reversed(plan.argv_steps):
            if step.synthetic:
                continue
            for words in (launch.spellings(step) if launch else [step.argv]):
                message = messages.refused_option(lines[at], words)
                if message is not None:
                    said = "\n".join([message, *lines[at + 1:]])
                    return error(step, f"QEMU refused '{step.argv[0]}': {said}")
    return _unquoted(plan, lines) or _by_key(plan, lines)


def _unquoted(plan: Plan, lines: list[str]) -> FeedError | None:
    """A refusal that names no option but is about one ("unsupported machine
    type"): blame the last argv item of that option."""
    for at in range(len(lines) - 1, max(len(lines) - messages.LAST_WORDS, 0) - 1, -1):
        options = messages.unquoted_option(lines[at])
        steps = [s for s in plan.argv_steps if not s.synthetic and s.argv[0] in options]
        if steps:
            said = "\n".join([lines[at].split(": ", 1)[-1], *lines[at + 1:]])
            return error(steps[-1], f"QEMU refused '{steps[-1].argv[0]}': {said}")
    return None


def _by_key(plan: Plan, lines: list[str]) -> FeedError | None:
    """Some refusals name no option, only a property ("Property
    'pc-q35-7.2-machine.foo' not found"): blame the one argv item that
    wrote that key, if just one did."""
    if not lines:
        return None
    key = messages.named_key(lines[-1])
    if not key:
        return None
    key = key.rsplit(".", 1)[-1]
    writers = [s for s in plan.argv_steps if not s.synthetic and _writes(s, key)]
    if len(writers) != 1:
        return None
    step = writers[0]
    message = lines[-1].split(": ", 1)[-1]
    return error(step, f"QEMU refused '{step.argv[0]}': {message}")


def _writes(step: Step, key: str) -> bool:
    """Whether `step` sets `key`: as a pair, or as an element of an argument
    without pairs ("-cpu qemu64,+flag,flag=on")."""
    if step.pairs:
        return any(p.key == key for p in step.pairs)
    if len(step.argv) < 2:
        return False
    return any(part.lstrip("+-").split("=", 1)[0] == key for part in step.argv[1].split(","))


def _location(step: Step, message: str):
    """Point at the key QEMU names ("Parameter 'size' expects uint64") when the
    step was written as key=value; else at the command."""
    key = messages.named_key(message)
    if key and step.pairs:
        for pair in reversed(step.pairs):
            if pair.key == key or pair.key.endswith("." + key):
                return step.command.arg_at(pair.offset, len(pair.key) + 1 + len(pair.value))
    return step.command.loc
