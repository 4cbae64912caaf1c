"""`inorder-qemu --probe`: what the profile of a binary says, for a person
(a summary) or a program (--json: all of it)."""

from __future__ import annotations

import json


def text(profile, as_json: bool = False) -> str:
    if as_json:
        return json.dumps({
            "binary": profile.binary, "version": profile.version,
            "machines": profile.machines, "default-machine": profile.default_machine,
            "cpus": sorted(profile.cpus), "accels": sorted(profile.accels),
            "devices": sorted(profile.devices), "objects": sorted(profile.objects),
            "commands": sorted(profile.commands), "preconfig": sorted(profile.preconfig),
            "options": profile.options}, indent=1)
    machines = sorted(set(profile.machines.values()))
    aliases = sorted(k for k, v in profile.machines.items() if k != v)
    lines = [
        f"{profile.binary}: QEMU {profile.version}",
        f"machine types: {len(machines)} (default {profile.default_machine}; aliases: "
        f"{', '.join(aliases)})",
        f"CPU models: {len(profile.cpus)} ({_some(profile.cpus)})",
        f"accelerators: {', '.join(sorted(profile.accels))}",
        f"device types: {len(profile.devices)} ({_some(profile.devices)})",
        f"object types: {len(profile.objects)} ({_some(profile.objects)})",
        f"QMP commands: {len(profile.commands)}, {len(profile.preconfig)} of them "
        "allowed in preconfig",
        f"options: {len(profile.options)}",
        "(--probe --json lists every name)",
    ]
    return "\n".join(lines)


def _some(names, n: int = 6) -> str:
    names = sorted(names)
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")
