"""What inorder-qemu knows about QEMU's options and commands, as tables.

Each option has a role that decides its phases and channel (see plan.py):

  argv      only QEMU's argv can set it: allowed in `startup` only
  device    cold-plugged on argv before machine-ready, hot-plugged after
  backend   created over QMP at its position (object-add, blockdev-add, ...)
  numa      set-numa-node, in preconfig
  chardev   argv (QEMU 7.2 refuses chardev-add before machine-ready)
  monitor   argv, created suspended and released after the feed (monitors.py)
  stop      -S: the feed ends in machine-ready
  preconfig --preconfig: the feed ends in preconfig
  daemonize -daemonize, -pidfile: readiness is signalled by inorder-qemu after
            the release, not by QEMU (which would do it still in preconfig)

Options not listed here are `argv` options; whether they exist and take an
argument is learned from the binary (profile.py).
"""

from __future__ import annotations

# Namespaces of ids.  A use names the namespace of the id it refers to.
DEVICE, NETDEV, CHARDEV, BLOCK, OBJECT = "device", "netdev", "chardev", "block", "object"

# When QEMU resolves a reference: at the referencing command's own position
# (`position`: the id must be defined above it), or at board init (`board`: the
# machine only stores the name, so the definition may follow).
POSITION, BOARD = "position", "board"


class Use:
    __slots__ = ("namespace", "when", "on_argv")

    def __init__(self, namespace: str, when: str = POSITION, on_argv: bool = False):
        self.namespace = namespace
        self.when = when
        # QEMU looks the id up when it starts, before any QMP: the definition
        # must go on argv too, wherever it is written
        self.on_argv = on_argv


class OptionSpec:
    __slots__ = ("role", "syntax", "implied", "json", "qmp", "defines", "uses")

    def __init__(self, role: str = "argv", syntax: str | None = None,
                 implied: str | None = None, json: bool = False, qmp: str | None = None,
                 defines: tuple[str, str] | None = None, uses: dict[str, Use] | None = None):
        self.role = role
        # key=value flavour of the argument: QemuOpts (flat, `nofoo` booleans)
        # or keyval (dotted keys nest); None for a plain string argument
        self.syntax = syntax
        self.implied = implied        # the key the first element may omit
        self.json = json              # accepts a JSON object argument
        self.qmp = qmp                # the QMP command for backend/numa roles
        self.defines = defines        # (namespace, key)
        self.uses = uses or {}


_DEVICE_USES = {
    "netdev": Use(NETDEV), "drive": Use(BLOCK), "chardev": Use(CHARDEV),
    "rng": Use(OBJECT), "memdev": Use(OBJECT), "iothread": Use(OBJECT),
    "bus": Use(DEVICE),
}
_OBJECT_USES = {
    "chardev": Use(CHARDEV), "netdev": Use(NETDEV), "keyid": Use(OBJECT),
    "passwordid": Use(OBJECT), "tls-creds": Use(OBJECT), "iothread": Use(OBJECT),
}
# blockdev members that name another node when given as a string
_BLOCK_USES = {
    "file": Use(BLOCK), "backing": Use(BLOCK), "data-file": Use(BLOCK),
    "image": Use(BLOCK), "test": Use(BLOCK), "raw": Use(BLOCK),
}

OPTIONS: dict[str, OptionSpec] = {
    "device": OptionSpec("device", "qemuopts", "driver", json=True,
                         qmp="device_add", defines=(DEVICE, "id"), uses=_DEVICE_USES),
    "object": OptionSpec("backend", "keyval", "qom-type", json=True,
                         qmp="object-add", defines=(OBJECT, "id"), uses=_OBJECT_USES),
    "blockdev": OptionSpec("backend", "keyval", None, json=True,
                           qmp="blockdev-add", defines=(BLOCK, "node-name"), uses=_BLOCK_USES),
    "netdev": OptionSpec("backend", "qemuopts", "type", json=True,
                         qmp="netdev_add", defines=(NETDEV, "id")),
    "numa": OptionSpec("numa", "qemuopts", "type", qmp="set-numa-node",
                       uses={"memdev": Use(OBJECT)}),
    "chardev": OptionSpec("chardev", "qemuopts", "backend", defines=(CHARDEV, "id"),
                          uses={"tls-creds": Use(OBJECT), "tls-authz": Use(OBJECT)}),
    "drive": OptionSpec("argv", "qemuopts", "file", defines=(BLOCK, "id")),
    # QEMU 7.2 resolves memory-backend= before the preconfig pause (measured:
    # "Memory backend 'pc.ram' not found" otherwise), after every -object
    "machine": OptionSpec("argv", "keyval", "type",
                          uses={"memory-backend": Use(OBJECT, BOARD, on_argv=True)}),
    "M": OptionSpec("argv", "keyval", "type",
                    uses={"memory-backend": Use(OBJECT, BOARD, on_argv=True)}),
    "mon": OptionSpec("monitor", "qemuopts", "chardev", uses={"chardev": Use(CHARDEV)}),
    "qmp": OptionSpec("monitor"),
    "qmp-pretty": OptionSpec("monitor"),
    "monitor": OptionSpec("monitor"),
    "S": OptionSpec("stop"),
    "preconfig": OptionSpec("preconfig"),
    "daemonize": OptionSpec("daemonize"),
    "pidfile": OptionSpec("daemonize"),
}

# QEMU's own creation order for what a plan may create before board init
# (vl.c: qemu_create_early_backends makes early objects, then chardevs, then
# block devices; qemu_create_late_backends makes netdevs, then late objects;
# -numa comes after).  When every reference among these points down this
# order, QEMU's argv means what the script means, and QEMU can be given the
# whole plan at once (plan.Plan.direct).
NATIVE_ORDER = {"early-object": 0, "chardev": 1, "blockdev": 2, "drive": 2, "netdev": 3,
                "late-object": 4, "numa": 5}
# object types QEMU creates late (vl.c object_create_early: they name a
# chardev, netdev or block node, or allocate guest memory): exact names, or
# prefixes ending in '-'
LATE_OBJECTS = ("rng-egd", "qtest", "cryptodev-vhost-user", "vhost-user-blk-server",
                "filter-", "colo-compare", "memory-backend-")

# Options whose argument is a legacy chardev spec ("stdio", "mon:stdio", ...).
CHARDEV_SPEC_OPTIONS = {"serial", "parallel", "monitor", "qmp", "qmp-pretty",
                        "debugcon", "virtioconsole"}

ARGV = OptionSpec()

# Options QEMU's -h does not show (or shows in a form that hides the arity).
EXTRA_OPTIONS = {"preconfig": False, "h": False, "help": False, "M": True}

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
    "device_add": _DEVICE_USES,
    "object-add": _OBJECT_USES,
    "blockdev-add": _BLOCK_USES,
    "set-numa-node": {"memdev": Use(OBJECT)},
}

# Phase rules QEMU checks inside a command's handler, where no probe can see
# them (the probe learns only what QEMU refuses before running a command).
# name -> (first phase, last phase), as Phase values.
COMMAND_PHASES = {
    "set-numa-node": (1, 1),      # "permitted only before the machine has been created"
    "x-exit-preconfig": (1, 1),
    "cont": (2, 3),
}
# Commands a script may not send: inorder-qemu speaks them itself.
RESERVED_COMMANDS = {
    "qmp_capabilities": "inorder-qemu negotiates QMP capabilities itself",
}

# Commands whose effects stay inside QEMU: the feed may send them before the
# previous ones have answered (pipelining), because when one fails, QEMU is
# stopped and whatever the later ones did is gone with it.  Anything that can
# change the world outside QEMU (image creation, block jobs, exports, files
# written, scripts run, migration) is sent alone, after every earlier reply.
# name -> None (always safe), or (argument, the values for which it is safe)
PIPELINE_SAFE = {
    "qom-set": None, "qom-get": None, "qom-list": None, "set-numa-node": None,
    "device_add": None, "x-exit-preconfig": None, "cont": None, "stop": None,
    "query-status": None, "query-pci": None, "query-block": None,
    "object-add": ("qom-type", {
        "memory-backend-ram", "memory-backend-memfd", "iothread", "rng-builtin",
        "rng-random", "secret", "throttle-group", "tls-creds-anon", "tls-creds-psk",
        "tls-creds-x509", "authz-simple", "authz-list"}),
    "netdev_add": ("type", {"user", "hubport"}),
    "blockdev-add": ("driver", {"file", "host_device", "qcow2", "raw", "null-co", "null-aio",
                                "throttle", "copy-on-read", "preallocate", "luks"}),
}

# Invocations that only ask QEMU something (its version, its help, a list of
# machines or devices): passed straight to QEMU, as they are.
QUERY_FLAGS = {"version", "h", "help", "audio-help"}
QUERY_ARGUMENTS = ("help", "?")
