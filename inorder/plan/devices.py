"""Cold devices keep script order on QEMU's argv, whatever their syntax.

QEMU creates every key=value -device before every JSON one (vl.c: the
QemuOpts list first, then the JSON queue).  When a plan has both, the JSON
ones are written as key=value, so argv order is script order.
"""

from __future__ import annotations

from ..errors import ScriptError
from .step import Step


def one_syntax(steps: list[Step]) -> list[Step]:
    """`steps`, with each JSON -device among key=value ones rewritten."""
    devices = [s for s in steps if s.channel == "argv" and s.command.is_option
               and s.command.name == "device"]
    json_steps = {id(s) for s in devices if s.command.json}
    if not json_steps or len(json_steps) == len(devices):
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
