"""QEMU's QMP commands, as tables: the ids they define, delete and use, the
phase rules no probe can see, and which of them may be pipelined."""

from __future__ import annotations

from .options import BLOCK, BLOCK_USES, CHARDEV, DEVICE, DEVICE_USES, NETDEV, OBJECT, \
    OBJECT_USES, Use
from .phase import CONT, EXIT_PRECONFIG, Phase

CAPABILITIES = "qmp_capabilities"      # the handshake, before any command

# QMP commands that define, delete or use ids, by argument name.
COMMAND_DEFINES = {
    "object-add": (OBJECT, "id"), "blockdev-add": (BLOCK, "node-name"),
    "netdev_add": (NETDEV, "id"), "device_add": (DEVICE, "id"),
    "chardev-add": (CHARDEV, "id"),
}
COMMAND_DELETES = {
    "object-del": (OBJECT, "id"), "blockdev-del": (BLOCK, "node-name"),
    "netdev_del": (NETDEV, "id"), "device_del": (DEVICE, "id"),
    "chardev-remove": (CHARDEV, "id"),
}
COMMAND_USES = {
    "device_add": DEVICE_USES,
    "object-add": OBJECT_USES,
    "blockdev-add": BLOCK_USES,
    "set-numa-node": {"memdev": Use(OBJECT)},
}

# Phase rules QEMU checks inside a command's handler, where no probe can see
# them (the probe learns only what QEMU refuses before running a command).
# name -> (first phase, last phase)
COMMAND_PHASES = {
    "set-numa-node": (Phase.PRECONFIG, Phase.PRECONFIG),  # "permitted only before the machine has been created"
    EXIT_PRECONFIG: (Phase.PRECONFIG, Phase.PRECONFIG),
    CONT: (Phase.MACHINE_READY, Phase.RUNNING),
}
# Commands inorder-qemu has already sent itself: in a script (a captured
# transcript starts with the handshake) they are no-ops, with the reason.
DONE_ALREADY = {
    CAPABILITIES: "inorder-qemu has negotiated QMP capabilities on its own monitor",
}

# Commands whose effects stay inside QEMU: the feed may send them before the
# previous ones have answered (pipelining), because when one fails, QEMU is
# stopped and whatever the later ones did is gone with it.  Everything else is
# a barrier, sent alone after every earlier reply: what can change the world
# outside QEMU (image creation, block jobs, exports, files written, scripts
# run, migration), and what lets the guest run or builds the machine (cont,
# x-exit-preconfig, device_add: a running guest writes to its disks, chardev
# files and network; measured: with `cont` pipelined behind a refused
# device_add, SeaBIOS wrote to a debugcon file in 6 of 10 runs).
# name -> None (always safe), or (argument, the values for which it is safe)
PIPELINE_SAFE = {
    "qom-set": None, "qom-get": None, "qom-list": None, "set-numa-node": None,
    "stop": None, "query-status": None, "query-pci": None, "query-block": None,
    "object-add": ("qom-type", {
        "memory-backend-ram", "memory-backend-memfd", "iothread", "rng-builtin",
        "rng-random", "secret", "throttle-group", "tls-creds-anon", "tls-creds-psk",
        "tls-creds-x509", "authz-simple", "authz-list"}),
    "netdev_add": ("type", {"user", "hubport"}),
    "blockdev-add": ("driver", {"file", "host_device", "qcow2", "raw", "null-co", "null-aio",
                                "throttle", "copy-on-read", "preallocate", "luks"}),
}


def pipeline_safe(execute: str, arguments) -> bool:
    """Whether a command may be sent before the earlier ones have answered."""
    rule = PIPELINE_SAFE.get(execute, False)
    if rule is None:
        return True
    if rule is False:
        return False
    key, values = rule
    return isinstance(arguments, dict) and arguments.get(key) in values
