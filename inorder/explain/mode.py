"""The --explain and --to-qcmd modes: read the command line (-- ARGV, an
.args file, or for --explain a script), check it as a run would (a located
error for what QEMU would refuse), then show or convert it.  No VM starts;
the profile of the binary may be probed once."""

from __future__ import annotations

from ..errors import UsageError
from ..lang import argsfile
from ..lang.argv import parse_argv
from ..lang.readconfig import expand
from ..plan.planner import plan as make_plan
from ..qemu.options import JSON_OPTIONS, READCONFIG_GROUPS
from . import effects, report, to_qcmd
from .items import creation_order, items

ARGS_SUFFIX = ".args"


def run(options, profile) -> str:
    env, binary = None, None
    compat = True                     # a command line means what QEMU makes of it
    if options.argv is not None:
        commands = parse_argv(options.argv, profile.options, JSON_OPTIONS)
        what = "this command line"
    elif options.script.endswith(ARGS_SUFFIX):
        found = argsfile.read(options.script)
        env, binary = found.env, found.binary
        commands = parse_argv(found.argv, profile.options, JSON_OPTIONS, name=options.script,
                              origin=(found.source, found.positions))
        what = options.script
    elif options.to_qcmd:
        raise UsageError("--to-qcmd converts a command line (-- QEMU-ARGS, or a FILE.args "
                         f"as libvirt writes one); {options.script} is a script already")
    else:
        from ..lang.parse import parse_file
        commands = parse_file(options.script, files=[])
        compat = options.compat
        what = options.script
    if options.extra:
        raise UsageError("--explain and --to-qcmd take one command line: nothing after "
                         f"{options.script}")
    commands = expand(commands, [], READCONFIG_GROUPS)
    if not commands:
        raise UsageError("nothing to explain: no QEMU arguments")
    # what QEMU (or the planner) would refuse is an error at its place
    make_plan(commands, profile, compat=compat, inspect=True)
    found = items(commands)
    effects.refused(found)
    if options.to_qcmd:
        return to_qcmd.script(found, "this command line" if options.argv is not None
                              else options.script, profile.version, env, binary).rstrip("\n")
    differences = effects.differences(found, _pci(profile, found))
    created = creation_order(found)
    if options.json:
        return report.as_json(created)
    return report.text(created, differences, what, profile.version)


def _pci(profile, found):
    """Whether a device type has a PCI address (asks the binary once for the
    device types the command line names)."""
    drivers = {i.kind for i in found if i.option == "device" and i.kind}
    properties = profile.device_properties(sorted(drivers))

    def pci(driver) -> bool:
        return any(p.get("name") == "addr" for p in properties.get(driver) or ())
    return pci
