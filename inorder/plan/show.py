"""The plan as a person reads it (--dry-run) or as JSON (--dry-run --json)."""

from __future__ import annotations

import json
import shlex

from ..qemu import flags
from .step import Plan


def process(plan: Plan, feed: bool = False) -> tuple[str, str]:
    """Which process model runs the plan ("exec" or "supervise"), and why."""
    if plan.direct and not feed:
        return "exec", ("nothing needs the feed: QEMU given this argv builds the same VM, "
                        "so inorder-qemu checks it and execs QEMU, in its own pid")
    if plan.direct:
        return "supervise", "--feed: the backends go over QMP at their place in the script"
    fed = [s for s in plan.qmp_steps if not s.synthetic]
    if fed:
        return "supervise", (f"{len(fed)} QMP step{'s' * (len(fed) != 1)} to feed (the first "
                             f"at {fed[0].command.loc}); monitors are held until the feed is done")
    return "supervise", ("QEMU's creation order differs from the script's here (a reference "
                         "up QEMU's order): inorder-qemu checks the VM QEMU built before it "
                         "sends " + ", ".join(s.execute for s in plan.qmp_steps))


def text(plan: Plan, binary: str, feed: bool = False) -> str:
    out = []
    model, why = process(plan, feed)
    if model == "exec":
        out.append("# QEMU command line (exec'd as it is: inorder-qemu becomes QEMU)")
        lines = _option_lines(plan.direct_argv)
    else:
        launch = flags.STOPPED + (flags.PRECONFIG if plan.preconfig else [])
        out.append(f"# QEMU command line (launched with {' '.join(launch)} and a private monitor)")
        lines = [step.argv for step in plan.argv_steps]
    width = max([len(str(s.command.loc)) for s in plan.steps] + [8])
    out.append(binary + " \\")
    for i, words in enumerate(lines):
        tail = " \\" if i + 1 < len(lines) else ""
        out.append(f"    {' '.join(shlex.quote(w) for w in words)}{tail}")
    out.append("")
    argv_steps = plan.argv_steps
    out.append("# argv, in script order")
    for step in argv_steps:
        out.append(f"  {str(step.command.loc):<{width}}  argv  {' '.join(step.argv)}")
        out.append(f"  {'':<{width}}        ({step.why})")
    phase = None
    # exec'd, QEMU makes the advances itself (it runs the VM unless -S)
    for step in plan.qmp_steps if model == "supervise" else []:
        if step.phase != phase:
            phase = step.phase
            out.append("")
            out.append(f"# QMP in {phase}")
        what = step.execute + (" " + json.dumps(step.arguments) if step.arguments else "")
        out.append(f"  {str(step.command.loc):<{width}}  qmp   {what}")
        out.append(f"  {'':<{width}}        ({step.why})")
    out.append("")
    for monitor in plan.monitors:
        if model == "exec":
            out.append(f"# monitor {monitor.label}: QEMU's own; QEMU answers it once the VM "
                       "is built")
        else:
            out.append(f"# monitor {monitor.label}: held until the feed is done")
    out.append(f"# the VM is left in phase {plan.final}")
    out.append(f"# process: {model}: {why}")
    return "\n".join(out)


def _option_lines(argv: list[str]) -> list[list[str]]:
    """argv as one option (and its argument) per line."""
    lines: list[list[str]] = []
    for word in argv:
        if word.startswith("-") or not lines or len(lines[-1]) > 1:
            lines.append([word])
        else:
            lines[-1].append(word)
    return lines


def as_json(plan: Plan, binary: str, feed: bool = False) -> str:
    model, why = process(plan, feed)
    data = {"qemu": binary, **plan.to_json(),
            "monitors": [m.label for m in plan.monitors],
            "process": {"model": model, "why": why}}
    return json.dumps(data, indent=2)
