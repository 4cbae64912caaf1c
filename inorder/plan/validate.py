"""What QEMU would refuse, found before anything starts, from the binary's
profile (qemu/profile.py): the names of device, object, machine, CPU,
accelerator and netdev/blockdev types; the properties of a device type, of
the machine type and of the CPU model (its +flags); the members of an
object, netdev or blockdev and their enum values (and a QMP command's
arguments); the parameters of the options the binary lists
(query-command-line-options); qom-set/qom-get properties and value types
on the paths the script makes; boolean, on/off/auto, integer-range and size
values.  Each error is at the word, with the nearest valid one when one is
close.

What the profile does not know (a device type whose properties could not be
fetched) is not checked here; QEMU still checks it at launch.
"""

from __future__ import annotations

import re

from ..errors import ScriptError
from ..lang import optarg
from ..qemu.options import PARAMETERS
from ..qemu.schema import FALSE, TRUE, parse_size

# -device keys QEMU takes for every device (qdev_device_add), not properties
DEVICE_KEYS = {"driver", "id", "bus", "failover_pair_id"}
# keys an option's QemuOpts or keyval form has that its QMP form does not
# ("-object qom-type=..." is object-add's qom-type; -netdev's id and type)
OPTION_ONLY = {"object": {"qom-type", "id"}, "netdev": {"type", "id"},
               "blockdev": {"driver", "node-name"}}
# the QMP command each backend option becomes, and the key that picks its variant
BACKENDS = {"object": ("object-add", "qom-type"), "netdev": ("netdev_add", "type"),
            "blockdev": ("blockdev-add", "driver")}
# QEMU's size syntax (qemu_strtosz): a number, a fraction, a unit
SIZE = r"\s*(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*[bBkKmMgGtTpPeE]?"
ON_OFF_AUTO = {"on", "off", "auto"}
# the names -device also takes for a type (qdev_alias_table in
# system/qdev-monitor.c; the PCI forms, as on x86)
DEVICE_ALIASES = {
    "e1000-82540em": "e1000", "ahci": "ich9-ahci", "lsi": "lsi53c895a",
    "virtio-9p": "virtio-9p-pci", "virtio-balloon": "virtio-balloon-pci",
    "virtio-blk": "virtio-blk-pci", "virtio-gpu": "virtio-gpu-pci",
    "virtio-input-host": "virtio-input-host-pci", "virtio-iommu": "virtio-iommu-pci",
    "virtio-keyboard": "virtio-keyboard-pci", "virtio-mouse": "virtio-mouse-pci",
    "virtio-net": "virtio-net-pci", "virtio-rng": "virtio-rng-pci",
    "virtio-scsi": "virtio-scsi-pci", "virtio-serial": "virtio-serial-pci",
    "virtio-tablet": "virtio-tablet-pci",
}


def option(profile, cmd, spec, pairs, args) -> None:
    name = cmd.name
    if name in PARAMETERS and name in profile.parameters and isinstance(cmd.arg, str):
        _parameters(profile.parameters[name], cmd)
    if name == "device" and isinstance(args, dict):
        _device(profile, cmd, pairs, args)
    elif name in BACKENDS and isinstance(args, dict):
        _backend(profile, cmd, pairs, args)
    elif name in ("machine", "M") and isinstance(args, dict):
        _machine(profile, cmd, pairs, optarg.plain(args))
    elif name == "cpu" and isinstance(cmd.arg, str) and profile.cpus:
        _cpu(profile, cmd)
    elif name == "accel" and isinstance(cmd.arg, str) and profile.accels:
        accel = cmd.arg.split(",", 1)[0].removeprefix("accel=")
        if accel not in profile.accels:
            raise _unknown("accelerator", accel, profile.accels,
                           cmd.arg_at(cmd.arg.find(accel), len(accel)))
    elif name == "m" and isinstance(cmd.arg, str):
        pairs = [p for p, _ in optarg.split(cmd.arg, "size")]
        for pair in pairs:
            if pair.key in ("size", "maxmem") and not re.fullmatch(SIZE, pair.value):
                raise ScriptError(f"-m {pair.key}={pair.value}: expected a size (a number "
                                  "with an optional unit: 512M, 2G, 1.5G)",
                                  where(cmd, [pair], pair.key, value=True))


# -machine keys QEMU takes that are no property of the machine type (vl.c
# qemu_apply_legacy_machine_options: made accelerator options or globals)
MACHINE_KEYS = {"type", "accel", "kernel-irqchip", "kvm-shadow-mem", "igd-passthru"}


def _machine(profile, cmd, pairs, args: dict) -> None:
    kind = args.get("type")
    if not isinstance(kind, str) or not profile.machines:
        return
    if kind not in profile.machines:
        raise _unknown("machine type", kind, profile.machines, where(cmd, pairs, "type", True))
    known = profile.machine_properties(kind)
    if known is None:
        return
    names = {p["name"] for p in known} | MACHINE_KEYS
    for key in args:
        if key not in names:
            raise _unknown(f"property of machine type '{profile.machines[kind]}'", key, names,
                           where(cmd, pairs, key))


def _cpu(profile, cmd) -> None:
    """-cpu MODEL,+flag,-flag,flag,key=value: the model, and each flag or key
    a property of the model's CPU type (x86_cpu_parse_featurestr: a bare
    word is flag=on; '_' in a name stands for '-')."""
    model, *features = cmd.arg.split(",")
    if model not in profile.cpus:
        raise _unknown("CPU model", model, profile.cpus, cmd.arg_at(0, len(model)))
    typename = next((t for t in profile.devices if t.startswith(model + "-")
                     and t.endswith("-cpu") and t.count("-") == model.count("-") + 2), None)
    known = profile.device_properties([typename]).get(typename) if typename else None
    if not known or not features:
        return
    props = {p["name"]: p["type"] for p in known}
    offset = len(model) + 1
    for feature in features:
        name, eq, value = feature.lstrip("+-").partition("=")
        at = offset + (len(feature) - len(feature.lstrip("+-")))
        offset += len(feature) + 1
        if not name:
            continue
        if name not in props and name.replace("_", "-") not in props:
            raise _unknown(f"feature of CPU model '{model}'", name,
                           [p for p in props if not p.startswith("x-")], cmd.arg_at(at, len(name)))
        kind = props.get(name) or props[name.replace("_", "-")]
        if eq and kind == "bool" and value.lower() not in TRUE | FALSE:
            raise ScriptError(f"{name}={value}: expected on or off",
                              cmd.arg_at(at + len(name) + 1, len(value) or 1))


def machine_given(profile, commands) -> None:
    """A binary with no default machine type (qemu-system-aarch64) needs
    -machine: QEMU says so only as it exits."""
    if profile.machines and profile.default_machine is None and commands and not any(
            c.is_option and c.name in ("machine", "M") for c in commands):
        raise ScriptError(f"{profile.binary} has no default machine type: give -machine "
                          "(inorder-qemu --probe lists them)", commands[0].loc)


# commands whose schema lists only some of what they take (device_add: any
# property of the device, checked by the -device rules when written so)
ANY_MEMBERS = {"device_add"}


def command(profile, cmd) -> None:
    """A QMP command's arguments against its schema: no unknown member, every
    required one there (at the top level)."""
    if not isinstance(cmd.arg, dict) or cmd.name in ANY_MEMBERS:
        return
    members = profile.schema.members(cmd.name, cmd.arg)
    if members is None:
        return
    for key in cmd.arg:
        if key not in members:
            raise _unknown(f"argument of '{cmd.name}'", key, members,
                           cmd.key_locs.get(key) or cmd.arg_loc or cmd.loc)
    missing = [m for m, required in members.items() if required and m not in cmd.arg]
    if missing:
        raise ScriptError(f"'{cmd.name}' needs the argument '{missing[0]}'", cmd.loc)


# QMP commands that name a QOM property of a path
QOM_COMMANDS = {"qom-set", "qom-get"}


def qom(profile, cmd, types: dict[str, str]) -> None:
    """qom-set of a property the profile knows: the machine's (`/machine`) or
    a script's device's (`/machine/peripheral/ID`); `types` maps those paths
    to the machine type and the device types the script has.  qom-set's value
    must be of the property's type, and a qom-set on /machine name one of
    the machine type's properties.  What the profile lists is not every QOM
    property of an object: a device's (device-list-properties) lacks
    parent_bus, hotplugged and its children, the machine's lacks the
    children board init adds (/machine/unattached): qom-get of those, and
    qom-set of a device property the profile does not list, are QEMU's to
    judge."""
    args = cmd.arg
    if cmd.name not in QOM_COMMANDS or not isinstance(args, dict):
        return
    path, name = args.get("path"), args.get("property")
    if not isinstance(path, str) or not isinstance(name, str):
        return
    path = path.rstrip("/")
    kind = types.get(path) or (profile.default_machine if path == "/machine" else None)
    if kind is None:
        return
    if path == "/machine":
        known = profile.machine_properties(kind)
        what = f"machine type '{profile.machines.get(kind, kind)}'"
    else:
        known = profile.device_properties([kind]).get(kind)
        what = f"'{kind}'"
    if known is None:
        return
    props = {p["name"]: p["type"] for p in known}
    if name not in props:
        if cmd.name != "qom-set" or path != "/machine":
            return
        raise _unknown(f"property of {what}", name, props,
                       cmd.key_locs.get("property") or cmd.arg_loc or cmd.loc,
                       what_not="has no property")
    if cmd.name == "qom-set" and "value" in args:
        expected = _qom_type_problem(props[name], args["value"])
        if expected:
            raise ScriptError(f"property '{name}' of {what} takes {expected}",
                              cmd.key_locs.get("value") or cmd.arg_loc or cmd.loc)


def _qom_type_problem(kind: str, value) -> str | None:
    """What a property of QOM type `kind` takes, if `value` is not that."""
    if kind == "bool" and not isinstance(value, bool):
        return "true or false"
    if kind in INT_RANGES or kind == "int":
        lo, hi = INT_RANGES.get(kind, INT_RANGES["int64"])
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            return f"an integer from {lo} to {hi}"
    if kind in ("str", "string") and not isinstance(value, str):
        return "a string"
    if kind == "OnOffAuto" and value not in ON_OFF_AUTO:
        return '"on", "off" or "auto"'
    return None


def _device(profile, cmd, pairs, args) -> None:
    args = optarg.plain(args)
    driver = args.get("driver")
    if not isinstance(driver, str) or not profile.devices:
        return
    driver = DEVICE_ALIASES.get(driver, driver)
    if driver not in profile.devices:
        raise _unknown("device type", driver, profile.devices, where(cmd, pairs, "driver", True))
    known = profile.device_properties([driver]).get(driver)
    if known is None:
        return
    types = {p["name"]: p["type"] for p in known}
    for key, value in args.items():
        if key in DEVICE_KEYS:
            continue
        if key not in types:
            raise _unknown(f"property of '{driver}'", key, types, where(cmd, pairs, key),
                           what_not="has no property")
        if not cmd.json and isinstance(value, str):
            _value(cmd, pairs, key, value, types[key])


def _value(cmd, pairs, key: str, value: str, kind: str) -> None:
    if kind == "bool" and value.lower() not in TRUE | FALSE:
        raise ScriptError(f"{key}={value}: expected on or off", where(cmd, pairs, key, True))
    if kind == "OnOffAuto" and value not in ON_OFF_AUTO:
        raise ScriptError(f"{key}={value}: expected on, off or auto",
                          where(cmd, pairs, key, True))
    if kind in INT_RANGES and key not in NOT_INTEGERS:
        lo, hi = INT_RANGES[kind]
        number = _integer(value)
        if number is None or not lo <= number <= hi:
            raise ScriptError(f"{key}={value}: expected an integer from {lo} to {hi} "
                              f"({kind})", where(cmd, pairs, key, True))


# integer-typed properties that take more than an integer: a PCI device's
# addr= is SLOT[.FUNCTION] (qdev's pci-devfn, listed as int32)
NOT_INTEGERS = {"addr"}
# the ranges of qdev's integer property types (a value QEMU's string input
# visitor parses, then refuses when out of range)
INT_RANGES = {"uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1),
              "uint64": (0, 2**64 - 1), "int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1),
              "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}


def _integer(text: str) -> int | None:
    """An integer as QEMU's strtoll/strtoull reads one (base 0: 10, 0x.., 0..)."""
    t = text.strip()
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    try:
        if t[:2].lower() == "0x":
            return sign * int(t[2:], 16)
        if len(t) > 1 and t.startswith("0"):
            return sign * int(t[1:], 8)
        return sign * int(t, 10)
    except ValueError:
        return None


# query-command-line-options' parameter types: what each takes
_PARAMETER_TYPES = {"boolean": "on or off", "number": "a number", "size": "a size (512M, 2G)"}


def _parameters(known: dict[str, str], cmd) -> None:
    """An option's parameters against what the binary lists for it: each key
    one it has, each value of its type."""
    _, implied, syntax = PARAMETERS[cmd.name]
    for pair, problem in optarg.split(cmd.arg, implied, keyval=syntax == "keyval"):
        if problem:
            raise ScriptError(f"malformed option argument: {problem}",
                              cmd.arg_at(pair.offset, max(len(pair.key), 1)))
        key = pair.key.split(".", 1)[0] if syntax == "keyval" else pair.key
        if key == "id" and syntax == "qemuopts":
            continue                  # every QemuOpts group takes id= (no parameter)
        if key not in known:
            raise _unknown(f"parameter of -{cmd.name}", key, known, where(cmd, [pair], pair.key))
        kind, value = known[key], pair.value
        ok = {"boolean": lambda: value.lower() in TRUE | FALSE,
              "number": lambda: _integer(value) is not None and _integer(value) >= 0,
              "size": lambda: parse_size(value) is not None}.get(kind, lambda: True)()
        if not ok:
            raise ScriptError(f"-{cmd.name} {key}={value}: expected {_PARAMETER_TYPES[kind]}",
                              where(cmd, [pair], pair.key, value=True))


def _backend(profile, cmd, pairs, args) -> None:
    execute, tag = BACKENDS[cmd.name]
    plain = optarg.plain(args)
    variant = plain.get(tag)
    if cmd.name == "object" and isinstance(variant, str) and profile.objects \
            and variant not in profile.objects:
        raise _unknown("object type", variant, profile.objects, where(cmd, pairs, tag, True))
    choices = profile.schema.cases(execute, tag)
    if isinstance(variant, str) and choices and variant not in choices:
        raise _unknown(f"-{cmd.name} {tag}", variant, choices, where(cmd, pairs, tag, True))
    members = profile.schema.members(execute, plain)
    if members is None or not isinstance(variant, str):
        return
    allowed = set(members) | OPTION_ONLY[cmd.name]
    for key in plain:
        top = key.split(".", 1)[0]
        if top not in allowed:
            raise _unknown(f"key of -{cmd.name} {variant}", top, allowed,
                           where(cmd, pairs, key))
    nested = profile.schema.unknown_nested(execute, plain)
    if nested is not None:
        keys, valid = nested
        raise _unknown(f"key of -{cmd.name} {variant}", ".".join(keys), valid,
                       where(cmd, pairs, ".".join(keys)), near=keys[-1])
    if cmd.json:
        return
    types = profile.schema.member_types(execute, plain)
    enums = profile.schema.member_enums(execute, plain)
    for key, value in plain.items():
        if not isinstance(value, str):
            continue
        if key in enums and value not in enums[key]:
            raise _unknown(f"value of {key}=", value, enums[key], where(cmd, pairs, key, True))
        kind = types.get(key)
        if kind == "int" and parse_size(value) is None:
            raise ScriptError(f"{key}={value}: expected a number (or a size: 64M, 1G)",
                              where(cmd, pairs, key, True))
        if kind == "boolean" and value.lower() not in TRUE | FALSE:
            raise ScriptError(f"{key}={value}: expected on or off",
                              where(cmd, pairs, key, True))


def where(cmd, pairs, key: str, value: bool = False):
    """The location of `key` (or its value) in the argument, else of the argument."""
    for pair in pairs or []:
        if pair.key == key:
            if pair.implied:
                return cmd.arg_at(pair.offset, len(pair.value) or 1)
            if value:
                return cmd.arg_at(pair.offset + len(pair.key) + 1, len(pair.value) or 1)
            return cmd.arg_at(pair.offset, len(pair.key))
    return cmd.arg_loc or cmd.loc


def _unknown(what: str, word: str, valid, loc, what_not: str | None = None,
             near: str | None = None) -> ScriptError:
    import difflib                    # only for an error
    if what_not:
        kind = what.removeprefix("property of ")
        message = f"{kind} {what_not} '{word}'"
    else:
        message = f"unknown {what} '{word}'"
    close = difflib.get_close_matches(near or word, sorted(valid), n=1, cutoff=0.6)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    return ScriptError(message, loc)
