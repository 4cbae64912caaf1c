"""A plan as plain data (JSON) and back: how kept plans are stored.

Data, never code: loading a kept plan builds Sources, Commands, Steps and
monitor specs from lists and strings, so a file planted in the cache can at
worst be a wrong plan (and a wrong plan of the same key is only possible for
someone who can write the cache, which must be the user's own: cache.py).

Sources keep their text: a located error at run time (QEMU refused a step)
shows the script's line and caret as the planner would have.
"""

from __future__ import annotations

from ..lang.command import Command
from ..lang.optarg import Pair
from ..lang.source import Location, Note, Source
from ..qemu.phase import Phase
from .monitors import MonitorSpec
from .step import Plan, Step

FORMAT = 2


class _Writer:
    def __init__(self):
        self.sources: list[dict] = []
        self.commands: list[dict] = []
        self._source_index: dict[int, int] = {}
        self._command_index: dict[int, int] = {}

    def source(self, source: Source) -> int:
        # iteratively: an include chain may be deep
        original = source
        chain = []
        while source is not None and id(source) not in self._source_index:
            chain.append(source)
            source = source.included_from.source if source.included_from else None
        for s in reversed(chain):
            entry = {"name": s.name, "text": s.text, "argv": s.argv,
                     "argv_lines": sorted(s.argv_lines.items()) if s.argv_lines else None,
                     "included_from": self.location(s.included_from)}
            self._source_index[id(s)] = len(self.sources)
            self.sources.append(entry)
        return self._source_index[id(original)]

    def location(self, loc: Location | None):
        if loc is None:
            return None
        if id(loc.source) not in self._source_index:
            self.source(loc.source)
        return [self._source_index[id(loc.source)], loc.line, loc.column, loc.length]

    def command(self, cmd: Command | None):
        if cmd is None:
            return None
        found = self._command_index.get(id(cmd))
        if found is None:
            found = self._command_index[id(cmd)] = len(self.commands)
            self.commands.append({
                "kind": cmd.kind, "name": cmd.name, "loc": self.location(cmd.loc),
                "arg": cmd.arg, "arg_loc": self.location(cmd.arg_loc), "json": cmd.json,
                "key_locs": {k: self.location(v) for k, v in cmd.key_locs.items()},
                "text": cmd.text,
                "expect": None if cmd.expect is None else [cmd.expect[0],
                                                           self.location(cmd.expect[1])]})
        return found


def to_data(plan: Plan) -> dict:
    w = _Writer()
    step_index = {id(s): i for i, s in enumerate(plan.steps)}
    steps = [{"command": w.command(s.command), "channel": s.channel, "phase": int(s.phase),
              "why": s.why, "argv": s.argv, "execute": s.execute, "arguments": s.arguments,
              "synthetic": s.synthetic,
              "notes": [[w.location(n.location), n.message] for n in s.notes],
              "pairs": None if s.pairs is None else
              [[p.key, p.value, p.offset, p.implied] for p in s.pairs]}
             for s in plan.steps]
    monitors = [{"location": w.location(m.location), "step": step_index[id(m.step)],
                 "opts": m.opts, "mode": m.mode, "pretty": m.pretty, "legacy": m.legacy,
                 "index": m.index, "inherited_fd": m.inherited_fd} for m in plan.monitors]
    return {"format": FORMAT, "sources": w.sources, "commands": w.commands, "steps": steps,
            "monitors": monitors,
            "warnings": [[w.location(loc), message] for loc, message in plan.warnings],
            "preconfig": plan.preconfig, "final": int(plan.final), "stdio": plan.stdio,
            "daemonize": plan.daemonize, "pidfile": plan.pidfile,
            "direct_argv": plan.direct_argv}


def from_data(data: dict) -> Plan:
    """The plan `data` describes.  Raises KeyError, TypeError, ValueError or
    IndexError on data that is not a plan of this format."""
    if data["format"] != FORMAT:
        raise ValueError("another format")
    sources = [Source(s["name"], s["text"], argv=s["argv"]) for s in data["sources"]]

    def location(v):
        if v is None:
            return None
        index, line, column, length = v
        return Location(sources[index], int(line), int(column), int(length))

    for source, s in zip(sources, data["sources"]):
        source.included_from = location(s["included_from"])
        if s["argv_lines"]:
            source.argv_lines = {int(k): str(v) for k, v in s["argv_lines"]}
    commands = []
    for c in data["commands"]:
        cmd = Command(c["kind"], c["name"], location(c["loc"]), arg=c["arg"],
                      arg_loc=location(c["arg_loc"]), json=bool(c["json"]))
        cmd.key_locs = {k: location(v) for k, v in c["key_locs"].items()}
        cmd.text = c["text"]
        if c["expect"] is not None:
            cmd.expect = (c["expect"][0], location(c["expect"][1]))
        commands.append(cmd)
    steps = []
    for s in data["steps"]:
        steps.append(Step(
            None if s["command"] is None else commands[s["command"]], s["channel"],
            Phase(s["phase"]), s["why"], argv=s["argv"], execute=s["execute"],
            arguments=s["arguments"], synthetic=bool(s["synthetic"]),
            notes=[Note(location(loc), message) for loc, message in s["notes"]],
            pairs=None if s["pairs"] is None else [Pair(*p) for p in s["pairs"]]))
    monitors = [MonitorSpec(location(m["location"]), steps[m["step"]], m["opts"], m["mode"],
                            m["pretty"], m["legacy"], m["index"], m["inherited_fd"])
                for m in data["monitors"]]
    return Plan(steps, data["preconfig"], Phase(data["final"]), monitors,
                [(location(loc), message) for loc, message in data["warnings"]],
                stdio=data["stdio"], daemonize=data["daemonize"], pidfile=data["pidfile"],
                direct_argv=data["direct_argv"]).freeze()
