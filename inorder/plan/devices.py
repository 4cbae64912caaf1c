"""Cold devices keep script order on QEMU's argv, whatever their syntax.

QEMU creates every key=value -device before every JSON one (vl.c: the
QemuOpts list first, then the JSON queue).  A JSON -device that the script
has before a key=value one is written as key=value, so QEMU's order is the
script's; JSON ones after the last key=value one stay JSON (QEMU creates them
last, as the script does).
"""

from __future__ import annotations

from ..errors import ScriptError
from .step import Step


def one_syntax(steps: list[Step]) -> list[Step]:
    """`steps`, with each JSON -device before a key=value one rewritten."""
    devices = [s for s in steps if s.channel == "argv" and s.command.is_option
               and s.command.name == "device"]
    last_keyval = max((n for n, s in enumerate(devices) if not s.command.json), default=-1)
    json_steps = {id(s) for s in devices[:max(last_keyval, 0)] if s.command.json}
    if not json_steps:
        return steps
    return [_as_keyval(s) if id(s) in json_steps else s for s in steps]


def _as_keyval(step: Step) -> Step:
    words = []
    for key, value in step.command.arg.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise ScriptError("this JSON -device has structured values and cannot be "
                              "ordered among key=value -device options: write all "
                              "-device options as JSON", step.command.arg_loc)
        words.append(f"{key}={value.replace(',', ',,')}")
    return step.on_argv(step.why + " (rewritten as key=value to keep argv order)",
                        ["-device", ",".join(words)])
