"""QEMU's own creation order: in which stage QEMU creates or applies what its
argv asks for, whatever the order it was written in (system/vl.c qemu_init,
qmp_x_exit_preconfig; the same in QEMU 7.2 and 10.0).

QEMU first reads its whole command line into option lists, then works
through them by kind: early objects, chardevs, block devices, the machine's
properties and the accelerator, netdevs, late objects, monitors, the board,
and only then the devices, the key=value ones before the JSON ones.  Within a
stage, written order.

Two users: `--explain` and `--to-qcmd` (explain/) show the whole table; the
planner asks `rank` whether a reference among backends points down this
order, in which case QEMU's argv means what the script means and QEMU can be
given the whole plan at once (plan/direct.py).
"""

from __future__ import annotations

# (stage, what QEMU does there), in QEMU's order
STAGES: tuple[tuple[str, str], ...] = (
    ("command-line", "read while QEMU parses its command line; each takes effect where "
                     "QEMU uses it"),
    ("early-options", "applied before anything is created (thread-context objects too); "
                      "then QEMU daemonizes"),
    ("globals", "-global registered: it applies to every device, wherever it is written; "
                "-rtc set"),
    ("machine", "the machine type chosen and its object made; -m read"),
    ("early-objects", "-object, every type but the late ones"),
    ("chardevs", "-chardev, and the chardevs of -monitor and -qmp"),
    ("fsdevs", "-fsdev, -virtfs"),
    ("blockdevs", "-blockdev"),
    ("drives", "-drive and its shorthands, after every -blockdev"),
    ("audiodevs", "-audiodev"),
    ("machine-properties", "-machine's properties and -smp set: what they name exists "
                           "by now"),
    ("accelerator", "-accel initialised"),
    ("netdevs", "-netdev (JSON and type=stream/dgram ones first), then -nic and -net"),
    ("late-objects", "-object of the types that name a chardev, netdev or block node, or "
                     "allocate guest memory"),
    ("tpm", "-tpmdev"),
    ("monitors", "-mon, -monitor, -qmp"),
    ("serial-ports", "-serial, -parallel, -debugcon: their chardevs"),
    ("cpu", "-cpu: the model and its flags"),
    ("numa", "-machine memory-backend resolved, then -numa"),
    ("preconfig", "with --preconfig, QEMU waits here for x-exit-preconfig"),
    ("board", "board init: the machine's own devices, and those -drive if=ide/floppy, "
              "-nic, -net nic and -serial ask the board for"),
    ("devices", "-device in key=value form, in written order (then the devices of "
                "-drive if=virtio and -debugcon)"),
    ("json-devices", "-device in JSON form, in written order, after every key=value one"),
    ("after", "the machine complete: -gdb, -loadvm, -incoming; the guest starts unless -S; "
              "then the displays"),
)
RANKS = {name: i for i, (name, _) in enumerate(STAGES)}
ABOUT = dict(STAGES)

# option -> its stage; an option not listed is read while QEMU parses its
# command line ("command-line")
OPTION_STAGES = {
    **dict.fromkeys(("sandbox", "name", "action", "add-fd", "trace", "D", "d",
                     "daemonize", "pidfile", "no-reboot", "no-shutdown"), "early-options"),
    **dict.fromkeys(("global", "rtc"), "globals"),
    **dict.fromkeys(("machine", "M", "m"), "machine"),
    "chardev": "chardevs",
    **dict.fromkeys(("fsdev", "virtfs"), "fsdevs"),
    "blockdev": "blockdevs",
    **dict.fromkeys(("drive", "hda", "hdb", "hdc", "hdd", "cdrom", "fda", "fdb", "sd",
                     "pflash", "mtdblock", "snapshot"), "drives"),
    "audiodev": "audiodevs",
    **dict.fromkeys(("kernel", "initrd", "append", "dtb", "boot", "smp"),
                    "machine-properties"),
    **dict.fromkeys(("accel", "icount"), "accelerator"),
    **dict.fromkeys(("netdev", "nic", "net"), "netdevs"),
    "tpmdev": "tpm",
    **dict.fromkeys(("mon", "monitor", "qmp", "qmp-pretty"), "monitors"),
    **dict.fromkeys(("serial", "parallel", "debugcon"), "serial-ports"),
    "cpu": "cpu",
    "numa": "numa",
    "preconfig": "preconfig",
    # -vga picks the display device the board creates
    **dict.fromkeys(("soundhw", "fw_cfg", "usbdevice", "plugin", "vga"), "board"),
    **dict.fromkeys(("gdb", "s", "loadvm", "incoming", "S", "display", "vnc", "spice",
                     "nographic"), "after"),
}

# object types QEMU creates late (vl.c object_create_early: they name a
# chardev, netdev or block node, or allocate guest memory): exact names, or
# prefixes ending in '-'
LATE_OBJECTS = ("rng-egd", "qtest", "cryptodev-vhost-user", "vhost-user-blk-server",
                "filter-", "colo-compare", "memory-backend-")

# the stages of the backends the planner may put on argv (plan/direct.py)
_BACKENDS = {"early-objects", "chardevs", "blockdevs", "drives", "netdevs", "late-objects",
             "numa"}


def is_late_object(qom_type) -> bool:
    return isinstance(qom_type, str) and any(
        qom_type.startswith(t) if t.endswith("-") else qom_type == t for t in LATE_OBJECTS)


def stage(option: str, qom_type=None, json: bool = False) -> str:
    """The stage in which QEMU creates or applies `-option` (for -object, by
    its qom-type; for -device, by its form)."""
    if option == "object":
        if qom_type == "thread-context":          # made before the sandbox
            return "early-options"
        return "late-objects" if is_late_object(qom_type) else "early-objects"
    if option == "device":
        return "json-devices" if json else "devices"
    return OPTION_STAGES.get(option, "command-line")


def rank(option: str, qom_type=None) -> int | None:
    """Where QEMU creates this option's result among the backends (None for
    what is not a backend)."""
    found = stage(option, qom_type)
    return RANKS[found] if found in _BACKENDS else None
