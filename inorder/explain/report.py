"""`--explain`: an argv's items as QEMU creates them, stage by stage, then
the places where that order differs from the written one in effect."""

from __future__ import annotations

import json

from ..qemu import order
from .effects import Difference
from .items import Item

_QMP = "over QMP: inorder-qemu sends these in script order, each at its phase"


def text(created: list[Item], found: list[Difference], what: str, version: str) -> str:
    out = [f"# QEMU {version} creates what {what} asks for in this order: stage by stage,",
           "# in written order within a stage"]
    width = max((len(i.label()) for i in created), default=0)
    stage = None
    for item in created:
        if item.stage != stage:
            stage = item.stage
            out.append("")
            out.append(f"{stage}: {order.ABOUT.get(stage, _QMP)}")
        out.append(f"  {item.label():<{width}}  {_line(item)}")
    out.append("")
    if not found:
        out.append("# QEMU's order changes nothing here: what is written first is created "
                   "first, or does not depend on it")
    else:
        out.append(f"# where QEMU's order differs from the written order, in effect ({len(found)})")
        for d in found:
            out.append(f"- {d.text}")
    return "\n".join(out)


def as_json(created: list[Item]) -> str:
    return json.dumps([_entry(i) for i in created], indent=2)


def _line(item: Item) -> str:
    cmd = item.command
    words = [f"-{cmd.name}" if cmd.is_option else cmd.name]
    if item.kind:
        words.append(item.kind)
    elif isinstance(cmd.arg, str) and len(cmd.arg) <= 40:
        words.append(cmd.arg)
    if cmd.json:
        words.append("(JSON)")
    if item.defines:
        words.append(f"{item.defines[0]} '{item.defines[1]}'")
    for ref in item.references:
        at = f" ({ref.definition.label()})" if ref.definition is not None else ""
        words.append(f"-> {ref.key}={ref.id}{at}")
    return "  ".join(words)


def _entry(item: Item) -> dict:
    loc = item.location
    entry: dict = {}
    if loc.is_argv:
        entry["index"] = loc.line
        in_file = loc.in_file()
        if in_file is not None:
            entry["location"] = str(in_file)
    else:
        entry["location"] = str(loc)
    cmd = item.command
    entry.update({
        "option": cmd.name if cmd.is_option else None,
        "command": None if cmd.is_option else cmd.name,
        "stage": item.stage,
        "type": item.kind,
        "form": ("json" if cmd.json else "key=value") if isinstance(item.args, dict) else None,
        "id": item.defines[1] if item.defines else None,
        "namespace": item.defines[0] if item.defines else None,
        "references": [{"key": r.key, "namespace": r.namespace, "id": r.id,
                        "defined": r.definition.label() if r.definition else None}
                       for r in item.references],
        "differences": item.differences,
    })
    return entry
