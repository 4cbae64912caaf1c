"""The plan as a person reads it (--dry-run) or as JSON (--dry-run --json)."""

from __future__ import annotations

import json
import shlex

from ..qemu import flags
from .step import Plan


def text(plan: Plan, binary: str) -> str:
    out = []
    launch = flags.STOPPED + (flags.PRECONFIG if plan.preconfig else [])
    out.append(f"# QEMU command line (launched with {' '.join(launch)} and a private monitor)")
    width = max([len(str(s.command.loc)) for s in plan.steps] + [8])
    out.append(binary + " \\")
    argv_steps = plan.argv_steps
    for i, step in enumerate(argv_steps):
        words = " ".join(shlex.quote(w) for w in step.argv)
        tail = " \\" if i + 1 < len(argv_steps) else ""
        out.append(f"    {words}{tail}")
    out.append("")
    out.append("# argv, in script order")
    for step in argv_steps:
        out.append(f"  {str(step.command.loc):<{width}}  argv  {' '.join(step.argv)}")
        out.append(f"  {'':<{width}}        ({step.why})")
    phase = None
    for step in plan.qmp_steps:
        if step.phase != phase:
            phase = step.phase
            out.append("")
            out.append(f"# QMP in {phase}")
        what = step.execute + (" " + json.dumps(step.arguments) if step.arguments else "")
        out.append(f"  {str(step.command.loc):<{width}}  qmp   {what}")
        out.append(f"  {'':<{width}}        ({step.why})")
    out.append("")
    for monitor in plan.monitors:
        out.append(f"# monitor {monitor.label}: held until the feed is done")
    out.append(f"# the VM is left in phase {plan.final}")
    if plan.direct:
        out.append("# nothing here needs the feed: QEMU builds this VM from its argv; as a "
                   "qemu-system-*\n# drop-in, inorder-qemu execs QEMU with it, in its own pid")
    return "\n".join(out)


def as_json(plan: Plan, binary: str) -> str:
    data = {"qemu": binary, **plan.to_json(),
            "monitors": [m.label for m in plan.monitors]}
    return json.dumps(data, indent=2)
